"""A JobMonitor in a real JupyterLab, in headless Chromium, watching FATE's hetero-LR job.

The job is submitted (not waited for) before the notebook opens, so the widget shows it live:
the kernel's background thread sends each poll to the page through the widget comm. The test
waits until the rendered header says ``success``, saves screenshots (the page, and the cell
alone) under tests/browser/artifacts/, and checks the rendered text.

Set ``FATE_NB_DOCS_SCREENSHOT=docs/job_monitor.png`` to also refresh the README's picture.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from csv_files import DATA_DIR
from playwright.sync_api import Page, expect

from fate_nb import examples
from fate_nb.client import FlowClient
from fate_nb.launch import ServerProcess

JOB_TIMEOUT_S = 600.0
KERNEL_TIMEOUT_S = 120.0
NOTEBOOK = "job_monitor.ipynb"
COMPONENTS = ("dataio_0", "intersection_0", "hetero_lr_0", "evaluation_0")


@pytest.fixture(scope="module")
def client(lab: ServerProcess) -> Iterator[FlowClient]:
    """A FlowClient of the lab server, given its address explicitly."""
    with FlowClient(lab.base_url, lab.token) as flow:
        yield flow


@pytest.fixture(scope="module")
def running_job(client: FlowClient, lab_root: Path) -> str:
    """FATE's breast tables uploaded and the canonical hetero-LR job submitted: its id."""
    for table in (examples.GUEST_TABLE, examples.HOST_TABLE):
        path = Path(shutil.copy(DATA_DIR / f"{table['name']}.csv", lab_root))
        client.upload(path, namespace=table["namespace"], table_name=table["name"], timeout=180)
    return str(client.submit(examples.hetero_lr_job())["job_id"])


def write_notebook(path: Path, source: str) -> None:
    """A one-cell notebook for the python3 kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, path)


def wait_kernel_idle(page: Page) -> None:
    """Wait until the status bar shows the python3 kernel connected and idle.

    (The toolbar's execution indicator says idle before any kernel is connected.)
    """
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text(
        "Python 3 (ipykernel) | Idle", timeout=KERNEL_TIMEOUT_S * 1000
    )


def test_job_monitor_shows_success_in_chromium(
    page: Page,
    lab: ServerProcess,
    lab_root: Path,
    client: FlowClient,
    running_job: str,
    artifacts: Path,
) -> None:
    """The monitor's rendered text reaches ``success``, with every component's task listed."""
    job_id = running_job
    # FlowClient() in the kernel finds this server by itself (JPY_PARENT_PID).
    write_notebook(
        lab_root / NOTEBOOK,
        f'from fate_nb.widgets import JobMonitor\n\nJobMonitor("{job_id}")',
    )
    started = time.monotonic()
    page.goto(f"{lab.base_url}lab/tree/{NOTEBOOK}?token={lab.token}")
    try:
        wait_kernel_idle(page)
        print(f"\nnotebook open, kernel idle after {time.monotonic() - started:.1f} s")
        # Fold the file browser away (Ctrl+B), so the notebook gets the window's width.
        page.keyboard.press("Control+b")
        cell = page.locator(".jp-Notebook .jp-CodeCell").first
        cell.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        expect(cell.locator(".jp-InputPrompt")).to_have_text(
            re.compile(r"\[1\]"), timeout=KERNEL_TIMEOUT_S * 1000
        )
        wait_kernel_idle(page)

        output = cell.locator(".jp-OutputArea-output")
        header = output.locator(".widget-html", has_text=f"Job {job_id}")
        expect(header).to_be_visible(timeout=KERNEL_TIMEOUT_S * 1000)
        first_seen = header.inner_text()
        print(f"widget rendered after {time.monotonic() - started:.1f} s: {first_seen!r}")

        expect(header).to_contain_text(re.compile(r"\bsuccess\b"), timeout=JOB_TIMEOUT_S * 1000)
        print(f"widget says success after {time.monotonic() - started:.1f} s")
        shot = artifacts / "job_monitor.png"
        page.screenshot(path=str(shot))
        cell.screenshot(path=str(artifacts / "job_monitor_cell.png"))
        print(f"screenshots: {shot}, {artifacts / 'job_monitor_cell.png'}")
        docs_copy = os.environ.get("FATE_NB_DOCS_SCREENSHOT")
        if docs_copy:
            Path(docs_copy).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, docs_copy)
            print(f"copied to {docs_copy}")
    except Exception:
        page.screenshot(path=str(artifacts / "job_monitor_failure.png"))
        print(f"failure screenshot: {artifacts / 'job_monitor_failure.png'}")
        raise

    # The progress bar is full.
    expect(output.locator(".widget-hprogress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width: 100%")
    )
    text = output.inner_text()
    assert "poll failed" not in text, text
    assert "Traceback" not in text, text
    for component in COMPONENTS:
        assert component in text, text
    # Every task row is coloured and worded as its final status; none failed.
    assert "failed" not in text, text
    assert client.job_status(job_id) == "success"
