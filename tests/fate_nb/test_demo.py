"""``make demo`` runs from start to end: both uploads and the job succeed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fate_nb import demo


def test_demo_uploads_and_runs_a_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo.main(["--workdir", str(tmp_path)])

    printed = capsys.readouterr().out
    assert printed.count(": success") == 3
    assert '"count": 569' in printed
    assert "DAG: dataio_0 -> feature_scale_0" in printed
    task_lines = [line.split() for line in printed.splitlines() if line.endswith(" ms")]
    assert sorted(fields[:4] for fields in task_lines) == [
        ["dataio_0", "guest", "9999", "success"],
        ["dataio_0", "host", "10000", "success"],
        ["feature_scale_0", "guest", "9999", "success"],
        ["feature_scale_0", "host", "10000", "success"],
    ]
