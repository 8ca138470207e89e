"""Small example data sets shipped with fate-nb, from FATE's examples/data (Apache-2.0).

``breast_hetero_guest`` holds the label ``y`` and features x0..x9 of the Wisconsin breast
cancer data; ``breast_hetero_host`` holds 20 more features of the same 569 ids.
``breast_homo_guest`` (227 rows), ``breast_homo_host`` (228) and ``breast_homo_test`` (114)
split the same 569 rows, each with the label and all 30 features.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The CSV file of a shipped data set, e.g. ``path("breast_hetero_guest")``."""
    found = _HERE / f"{name}.csv"
    if not found.is_file():
        shipped = ", ".join(sorted(p.stem for p in _HERE.glob("*.csv")))
        raise LookupError(f"no data set named {name!r}; shipped: {shipped}")
    return found
