"""``make demo`` from start to end: the hetero-LR job's result, then the quickstart notebook."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from fate_nb import demo
from fate_nb.exceptions import FateNbError
from fate_nb.launch import ServerProcess


def test_demo_runs_the_job_and_the_quickstart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0, AUC and KS printed, a loss per iteration, every task seen ending success."""
    workdir = tmp_path / "demo"
    demo.main(["--workdir", str(workdir)])

    printed = capsys.readouterr().out
    assert printed.count("rows") == 2 and "569 rows" in printed
    assert re.search(r"job \d+: success in \d+\.\d s", printed)
    auc = float(re.search(r"AUC (\d\.\d+)", printed).group(1))
    assert auc >= 0.98
    assert re.search(r"KS 0\.\d+", printed)
    losses = re.findall(r"^\s+(\d+)\s+(\d+\.\d+)$", printed, flags=re.MULTILINE)
    assert [int(key) for key, _ in losses] == list(range(len(losses))) and len(losses) > 1
    ended = {tuple(line.split()[2:5]) for line in printed.splitlines() if line.endswith("success")}
    assert ("hetero_lr_0", "arbiter", "10000") in ended and len(ended) == 10

    executed = nbformat.read(workdir / "root" / "01_quickstart.ipynb", as_version=4)
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells)
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]
    assert "jupyter lab" in printed


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    """An existing folder without the demo's marker is left alone."""
    (tmp_path / "keep.txt").write_text("mine")

    with pytest.raises(SystemExit) as ended:
        demo.main(["--workdir", str(tmp_path)])

    assert ended.value.code == 1
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_a_notebook_cell_that_raises_is_one_line_and_the_copy_is_kept(
    tmp_path: Path, live_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo names the failing cell's error in one line and keeps the executed copy."""
    broken = tmp_path / "broken.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(notebook, broken)
    monkeypatch.setattr(demo, "NOTEBOOK", broken)
    target = tmp_path / "out" / "broken.ipynb"
    target.parent.mkdir()

    with pytest.raises(FateNbError, match=r"raised ZeroDivisionError: division by zero; the"):
        demo.run_notebook(live_server, target)

    saved = nbformat.read(target, as_version=4)
    assert saved.cells[0].outputs[0].output_type == "error"
