"""CSV files for tests: FATE's example data sets, and large files for jobs that run a while."""

from __future__ import annotations

from pathlib import Path

# FATE's example data sets, shared by the whole team beside the project.
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def write_large_csv(path: Path, rows: int, columns: int = 30) -> None:
    """An id column and ``columns`` float features, the same values on every row."""
    values = ",".join(f"{0.1 * i:.6f}" for i in range(columns))
    header = "id," + ",".join(f"x{i}" for i in range(columns))
    path.write_text(header + "\n" + "\n".join(f"{i},{values}" for i in range(rows)) + "\n")
