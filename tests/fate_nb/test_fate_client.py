"""fate_nb.fate_client's parts that need no fate-client (tests/peer drives the real clients)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fate_nb.fate_client import add_token, main


def test_sitecustomize_command_writes_a_file_python_can_compile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sitecustomize", str(tmp_path / "site")]) == 0
    written = tmp_path / "site" / "sitecustomize.py"
    compile(written.read_text(), str(written), "exec")
    out = capsys.readouterr().out
    assert f"PYTHONPATH={(tmp_path / 'site').resolve()} FATE_NB_TOKEN=<token> flow" in out


def test_sitecustomize_without_requests_or_token_changes_nothing(tmp_path: Path) -> None:
    main(["sitecustomize", str(tmp_path)])
    done = subprocess.run(
        [sys.executable, "-c", "import sitecustomize, sys; print(sitecustomize.__file__)"],
        env={"PYTHONPATH": str(tmp_path), "FATE_NB_TOKEN": "t", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(tmp_path / "sitecustomize.py")
    assert done.stderr == ""


def test_add_token_without_a_token_says_where_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FATE_NB_TOKEN", raising=False)
    with pytest.raises(ValueError, match="pass token=... or set FATE_NB_TOKEN"):
        add_token(object())


def test_add_token_names_what_it_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match="expected fate-client's flow_sdk.client.FlowClient"):
        add_token(42, "token")
