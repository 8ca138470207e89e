"""Orders of a job's components: the order they run in, and the order FATE lists them in.

Both take ``upstream``: each component's name mapped to the names it reads from, in DSL order.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Mapping

from fate_nb.flow.errors import ParameterError


def run_order(upstream: Mapping[str, list[str]]) -> list[str]:
    """A topological order that takes the earliest component in the DSL among those ready."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(upstream)
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        path = " -> ".join(error.args[1])
        raise ParameterError(
            f"component dependencies form a loop ({path}); remove one of these inputs"
        ) from None

    position = {name: index for index, name in enumerate(upstream)}
    ready = [position[name] for name in sorter.get_ready()]
    heapq.heapify(ready)
    names = list(upstream)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        sorter.done(name)
        for next_name in sorter.get_ready():
            heapq.heappush(ready, position[next_name])
    return order


def stack_order(upstream: Mapping[str, list[str]]) -> list[str]:
    """A topological order taken with a LIFO stack, the way FATE lists components."""
    position = {name: index for index, name in enumerate(upstream)}
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    missing = {name: len(ups) for name, ups in upstream.items()}
    for name, ups in upstream.items():
        for up in ups:
            downstream[up].append(name)

    stack = sorted((name for name, count in missing.items() if count == 0), key=position.get)
    order: list[str] = []
    while stack:
        name = stack.pop()
        order.append(name)
        for down in sorted(downstream[name], key=position.__getitem__):
            missing[down] -= 1
            if missing[down] == 0:
                stack.append(down)
    return order
