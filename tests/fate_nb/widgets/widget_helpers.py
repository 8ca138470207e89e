"""What the widget tests share: reading a DAG's SVG, and jobs that fail or run long."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from fate_nb import examples

SVG = "{http://www.w3.org/2000/svg}"
LONG_ITERATIONS = 100_000


def node_fills(svg: str) -> dict[str, str]:
    """Each node's fill colour in a graphviz SVG, by node name."""
    fills = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") == "node":
            shape = next(e for e in group.iter() if e.get("fill") and e.tag != f"{SVG}text")
            fills[group.findtext(f"{SVG}title")] = shape.get("fill")
    return fills


def edge_labels(svg: str) -> dict[tuple[str, str], list[str]]:
    """Each edge's labels in a graphviz SVG, by (source, target)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") == "edge":
            source, _, target = group.findtext(f"{SVG}title").partition("->")
            label = "".join(t.text or "" for t in group.iter(f"{SVG}text"))
            edges.setdefault((source, target), []).append(label)
    return edges


def failing_job() -> dict[str, Any]:
    """DataIO then FeatureScale whose guest label column does not exist: submit accepts it,
    DataIO fails in the worker."""
    job = examples.scale_job()
    guest = job["job_runtime_conf"]["role_parameters"]["guest"]
    guest["dataio_0"]["label_name"] = ["no_such_label"]
    return job


def long_lr_job() -> dict[str, Any]:
    """The hetero-LR example with so many iterations that it runs until stopped."""
    job = examples.hetero_lr_job()
    settings = job["job_runtime_conf"]["algorithm_parameters"]["hetero_lr_0"]
    settings.update(max_iter=LONG_ITERATIONS, tol=1e-12)
    return job


def poll_until(condition: Callable[[], Any], what: str, limit_s: float = 300.0) -> Any:
    """Call ``condition`` until it is true and return its value; a safety limit, not a check."""
    deadline = time.monotonic() + limit_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)
