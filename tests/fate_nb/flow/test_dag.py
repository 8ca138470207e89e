"""Component orders: the run order keeps the DSL's order among ready components; FATE's
listing order comes from a LIFO stack; a loop is named along its edges."""

from __future__ import annotations

import pytest

from fate_nb.flow.dag import run_order, stack_order
from fate_nb.flow.errors import ParameterError

# reader_0 feeds two branches that meet again in evaluation_0.
BRANCHES = {
    "reader_0": [],
    "scale_0": ["reader_0"],
    "binning_0": ["reader_0"],
    "lr_0": ["scale_0"],
    "evaluation_0": ["lr_0", "binning_0"],
}


def test_run_order_prefers_the_earliest_ready_component() -> None:
    assert run_order(BRANCHES) == ["reader_0", "scale_0", "binning_0", "lr_0", "evaluation_0"]


def test_stack_order_follows_the_last_branch_pushed() -> None:
    assert stack_order(BRANCHES) == ["reader_0", "binning_0", "scale_0", "lr_0", "evaluation_0"]


def test_a_chain_is_listed_in_chain_order_both_ways() -> None:
    chain = {"a_0": [], "b_0": ["a_0"], "c_0": ["b_0"]}

    assert run_order(chain) == stack_order(chain) == ["a_0", "b_0", "c_0"]


def test_a_loop_is_named_along_its_edges() -> None:
    loop = {"a_0": ["c_0"], "b_0": ["a_0"], "c_0": ["b_0"], "d_0": []}

    with pytest.raises(ParameterError) as raised:
        run_order(loop)

    assert raised.value.message == (
        "component dependencies form a loop (a_0 -> b_0 -> c_0 -> a_0); remove one of these inputs"
    )
