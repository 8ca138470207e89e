"""FlowClient's data and table calls: upload, history, download, table info, preview, delete."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pandas as pd

from fate_nb import _frames
from fate_nb._job_calls import JobCalls
from fate_nb.exceptions import InvalidArgument


class DataCalls(JobCalls):
    """``/v1/data/...`` and ``/v1/table/...``."""

    def upload(
        self,
        data: str | os.PathLike[str] | pd.DataFrame,
        *,
        namespace: str,
        table_name: str,
        head: bool = True,
        partition: int = 4,
        id_delimiter: str = ",",
        drop: bool = False,
        on_server: bool = False,
        wait: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Upload a table, as ``flow data upload``.

        Parameters
        ----------
        data
            A CSV file here (sent in the request), a DataFrame (sent as CSV: a named index,
            as after ``set_index("id")``, is the id column; else its first column is), or with
            ``on_server=True`` a path under the Jupyter server's root.
        namespace, table_name
            Where the table goes; DSLs name it so.
        head
            The file's first line is its header.
        partition
            How many partitions the table is stored in; 4 suits notebook-sized tables (the
            server's own default, for uploads that do not say, is 16).
        id_delimiter
            The file's delimiter.
        drop
            Replace a table of the same name; without it such an upload is refused.
        on_server
            ``data`` is a path on the server, which reads the file itself.
        wait
            Wait until the upload job ends; raise ``JobFailed`` if it failed.
        timeout
            Seconds to wait at most.

        Returns
        -------
        dict
            ``job_id``, ``namespace``, ``table_name``; after a wait also the rows stored
            (``count``), read (``upload_count``) and left out (``rejected_count``), and when
            rows were left out, why: ``rejected`` (count by reason) and ``message``.
        """
        config: dict[str, Any] = {
            "head": int(head),
            "partition": partition,
            "id_delimiter": id_delimiter,
            "namespace": namespace,
            "table_name": table_name,
            "work_mode": 0,
            "drop": int(drop),
        }
        if on_server:
            envelope = self.envelope("data/upload", {**config, "file": str(data)})
        elif isinstance(data, pd.DataFrame):
            text = _with_ids(data).to_csv(index=False, sep=id_delimiter, header=head)
            envelope = self._send_file(config, f"{table_name}.csv", io.BytesIO(text.encode()))
        elif isinstance(data, str | os.PathLike):
            path = Path(data)
            try:
                with path.open("rb") as stream:
                    envelope = self._send_file(config, path.name, stream)
            except OSError as error:
                raise InvalidArgument(_unreadable(path, error)) from None
        else:
            raise InvalidArgument(
                f"upload takes a CSV file's path or a DataFrame, got {type(data).__name__}"
            )

        job_id = str(envelope.get("jobId"))
        result: dict[str, Any] = {
            "job_id": job_id,
            "namespace": namespace,
            "table_name": table_name,
        }
        if wait:
            self.wait_success(job_id, timeout=timeout)
            result["count"] = self.table_info(namespace, table_name)["count"]
            result.update(self._upload_report(job_id))
        return result

    def _upload_report(self, job_id: str) -> dict[str, Any]:
        """Rows read and rejected by an upload, and why, as its history records them."""
        history = self.call("data/upload/history", {"job_id": job_id, "limit": 1}) or [{}]
        record = history[0].get(job_id) or {}
        info, summary = record.get("upload_info") or {}, record.get("summary") or {}
        report = {key: info[key] for key in ("upload_count", "rejected_count") if key in info}
        if info.get("rejected_count"):
            report["rejected"] = summary.get("rejected") or {}
            report["message"] = summary.get("message")
        return report

    def _send_file(self, config: dict[str, Any], name: str, stream: IO[bytes]) -> dict[str, Any]:
        # FATE's own client sends the config as JSON in the query string, the file as one part.
        query = quote(json.dumps({**config, "file": name}), safe=":,/")
        # The server may refuse before it has read the file, and then drops the connection:
        # "close" keeps httpx from reusing it for the next call.
        response = self._send(
            "POST",
            f"data/upload?{query}",
            files={"file": (name, stream, "application/octet-stream")},
            headers={"Connection": "close"},
        )
        return self._checked("data/upload", response)

    def upload_history(self, limit: int = 10, job_id: str | None = None) -> pd.DataFrame:
        """Successful uploads, newest first (``flow data upload-history``)."""
        request: dict[str, Any] = {"limit": limit}
        if job_id is not None:
            request["job_id"] = job_id
        return _frames.upload_history_frame(self.call("data/upload/history", request))

    def download(
        self, namespace: str, table_name: str, output_path: str, *, delimiter: str = ","
    ) -> dict[str, Any]:
        """Write a table to a CSV file on the server, under its root (``flow data download``)."""
        request = {
            "namespace": namespace,
            "table_name": table_name,
            "output_path": output_path,
            "delimitor": delimiter,
            "work_mode": 0,
        }
        envelope = self.envelope("data/download", request)
        return {"job_id": envelope.get("jobId"), **(envelope.get("data") or {})}

    def table_info(self, namespace: str, table_name: str) -> dict[str, Any]:
        """A table's ``count``, ``partition`` and ``schema`` (count 0 if there is no such table)."""
        return self.call("table/table_info", {"namespace": namespace, "table_name": table_name})

    def table_preview(self, namespace: str, table_name: str, limit: int = 100) -> pd.DataFrame:
        """The first ``limit`` rows of a stored table (``frame.attrs["total"]`` counts all)."""
        request = {"namespace": namespace, "table_name": table_name, "limit": limit}
        envelope = self.envelope("table/preview", request)
        meta = envelope.get("meta") or {}
        frame = _frames.rows_frame(envelope.get("data") or [], meta.get("header") or [])
        frame.attrs["total"] = meta.get("total")
        return frame

    def table_delete(self, namespace: str, table_name: str) -> None:
        """Delete a table and its files (``flow table delete``)."""
        self.call("table/delete", {"namespace": namespace, "table_name": table_name})


def _with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """A named index (``set_index("id")``) becomes the first column, the id; else left out."""
    names = [name for name in frame.index.names if name is not None]
    if not names:
        return frame
    clashing = [name for name in names if name in frame.columns]
    if clashing:
        raise InvalidArgument(
            f"the DataFrame's index {clashing[0]!r} is also one of its columns; drop one of "
            "them (reset_index(drop=True) keeps the column as the id)"
        )
    return frame.reset_index()


def _unreadable(path: Path, error: OSError) -> str:
    """Why a local file cannot be uploaded, and what to do."""
    if isinstance(error, FileNotFoundError):
        return (
            f"file {str(path)!r} does not exist here (looked from {Path.cwd()}); check the path, "
            "or pass on_server=True for a path under the Jupyter server's root"
        )
    return f"file {str(path)!r} cannot be read: {error.strerror or error}"
