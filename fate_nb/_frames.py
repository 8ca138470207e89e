"""FATE's answers as pandas DataFrames: typed columns, times as datetimes, no ``f_`` prefix.

Every text column has pandas' own text dtype (``str`` from pandas 3, missing values NaN, so
comparisons give plain booleans; object before), in every frame;
an empty answer is an empty frame with the columns a full one has.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

# The dtype pandas itself gives a column of text, so our frames mix with the user's own.
TEXT_DTYPE = pd.Series(["text"]).dtype
# Columns FATE answers as epoch milliseconds, and as durations in milliseconds.
_TIME_COLUMNS = ("create_time", "update_time", "start_time", "end_time")
_DURATION_COLUMNS = ("elapsed",)
# Columns FATE answers as JSON text.
_JSON_COLUMNS = (
    "roles",
    "dsl",
    "runtime_conf",
    "train_runtime_conf",
    "current_steps",
    "current_tasks",
)
_INT_COLUMNS = ("progress", "work_mode", "run_pid")
# Text even when every value is missing.
_TEXT_COLUMNS = (
    "job_id",
    "task_id",
    "component_name",
    "role",
    "party_id",
    "initiator_party_id",
    "status",
    "name",
    "description",
    "tag",
    "error",
    "operator",
    "run_ip",
    "namespace",
    "table_name",
    "notes",
    "message",
    "metric_type",
)
# The front columns of job and task frames, then the rest in FATE's order.
_JOB_FRONT = ("job_id", "role", "party_id", "status", "progress", "create_time", "elapsed")
_TASK_FRONT = ("job_id", "component_name", "role", "party_id", "status", "elapsed")
_JOB_COLUMNS = (
    *_JOB_FRONT,
    *("current_steps", "current_tasks", "description", "dsl", "end_time", "error"),
    *("initiator_party_id", "is_initiator", "name", "roles", "run_ip", "runtime_conf"),
    *("start_time", "tag", "train_runtime_conf", "update_time", "work_mode"),
)
_TASK_COLUMNS = (
    *_TASK_FRONT,
    *("task_id", "operator", "run_ip", "run_pid", "error"),
    *("create_time", "update_time", "start_time", "end_time"),
)
_UPLOAD_COLUMNS = (
    *("job_id", "namespace", "table_name", "count", "upload_count", "rejected_count"),
    *("partition", "header", "notes", "message", "rejected", "rejected_examples"),
)


def job_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Job rows (``/v1/job/query``, ``/v1/job/list/job``) as a typed frame."""
    return _typed(rows, _JOB_FRONT, _JOB_COLUMNS)


def task_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Task rows (``/v1/job/task/query``) as a typed frame."""
    return _typed(rows, _TASK_FRONT, _TASK_COLUMNS)


def _typed(
    rows: Iterable[Mapping[str, Any]], front: tuple[str, ...], columns: tuple[str, ...]
) -> pd.DataFrame:
    frame = pd.DataFrame(
        [{key.removeprefix("f_"): value for key, value in row.items()} for row in rows]
    )
    if frame.empty:
        # Epoch milliseconds as numbers, so that the times get the units a full answer's do.
        numeric = (*_TIME_COLUMNS, *_DURATION_COLUMNS)
        frame = pd.DataFrame(
            {name: pd.Series([], dtype="int64" if name in numeric else object) for name in columns}
        )

    for name in _TIME_COLUMNS:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], unit="ms", utc=True)
    for name in _DURATION_COLUMNS:
        if name in frame:
            frame[name] = pd.to_timedelta(frame[name], unit="ms")
    for name in _JSON_COLUMNS:
        if name in frame:
            frame[name] = frame[name].map(_parsed_json)
    for name in _INT_COLUMNS:
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    if "is_initiator" in frame:
        frame["is_initiator"] = frame["is_initiator"].astype(bool)
    frame = text_typed(frame, skip=_JSON_COLUMNS)

    ordered = [name for name in front if name in frame]
    return frame[ordered + [name for name in frame.columns if name not in ordered]]


def text_typed(frame: pd.DataFrame, skip: Iterable[str] = ()) -> pd.DataFrame:
    """Every column of text (and missing values) as ``TEXT_DTYPE``; other columns unchanged."""
    skipped = set(skip)
    for name in frame.columns:
        column = frame[name]
        if name in skipped or not (
            column.dtype == object or isinstance(column.dtype, pd.StringDtype)
        ):
            continue
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind == "string" or (kind == "empty" and name in _TEXT_COLUMNS):
            frame[name] = column.astype(TEXT_DTYPE)
    return frame


def _parsed_json(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def metric_frame(metric_all: Mapping[str, Any]) -> pd.DataFrame:
    """``metric/all``'s nesting as one long frame: namespace, name, key, value, type, meta.

    A metric without points (its values in the meta) has one row with null key and value.
    """
    records = []
    for namespace, metrics in metric_all.items():
        for name, metric in metrics.items():
            meta = metric.get("meta") or {}
            # A metric whose values live in its meta (a confusion matrix) keeps one row.
            for key, value in metric.get("data") or [(None, None)]:
                records.append(
                    {
                        "namespace": namespace,
                        "name": name,
                        "key": key,
                        "value": value,
                        "metric_type": meta.get("metric_type"),
                        "meta": meta,
                    }
                )
    columns = ["namespace", "name", "key", "value", "metric_type", "meta"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return text_typed(_numeric_values(frame), skip=("meta",))


def curve_frame(points: Iterable[Any], meta: Mapping[str, Any]) -> pd.DataFrame:
    """One metric's ``[key, value]`` points as a frame; its meta in ``frame.attrs["meta"]``."""
    frame = pd.DataFrame.from_records([tuple(point) for point in points], columns=["key", "value"])
    frame = text_typed(_numeric_values(frame))
    frame.attrs["meta"] = dict(meta)
    return frame


def _numeric_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as float64 when every one is a number or null (booleans excepted)."""
    values = frame["value"]
    if len(values) and all(
        value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        for value in values
    ):
        frame["value"] = values.astype("float64")
    return frame


def upload_history_frame(history: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``/v1/data/upload/history`` as one row per upload, newest first.

    ``count`` is the rows stored, ``upload_count`` the rows read, ``rejected_count`` the
    rows left out (``rejected`` and ``message`` say why).
    """
    records = []
    for item in history:
        for job_id, record in item.items():
            info = record.get("upload_info") or {}
            summary = record.get("summary") or {}
            read = info.get("upload_count")
            records.append(
                {
                    "job_id": job_id,
                    "namespace": info.get("namespace"),
                    "table_name": info.get("table_name"),
                    # Uploads recorded before actual_count existed stored every row read.
                    "count": info.get("actual_count", read),
                    "upload_count": read,
                    "rejected_count": info.get("rejected_count", 0),
                    "partition": info.get("partition"),
                    "header": _header_list((record.get("schema") or {}).get("header")),
                    "notes": record.get("notes"),
                    **{key: value for key, value in summary.items() if key not in info},
                }
            )
    extra = [key for record in records for key in record if key not in _UPLOAD_COLUMNS]
    columns = [*_UPLOAD_COLUMNS, *dict.fromkeys(extra)]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for name in ("count", "upload_count", "rejected_count", "partition"):
        frame[name] = frame[name].astype("Int64")
    return text_typed(frame)


def _header_list(header: Any) -> list[str]:
    """An upload's feature names; FATE keeps them comma-joined in the schema."""
    if isinstance(header, str):
        return [name for name in header.split(",") if name]
    return list(header or [])


def rows_frame(rows: list[list[Any]], header: list[str]) -> pd.DataFrame:
    """Rows and their header (a table or output data preview); the id column as text."""
    frame = pd.DataFrame.from_records([tuple(row) for row in rows], columns=header)
    if header:
        frame[header[0]] = frame[header[0]].astype(TEXT_DTYPE)
    return text_typed(frame.infer_objects())


def output_data_frame(archive: bytes, data_name: str | None = None) -> pd.DataFrame:
    """The whole output table in a download's tar.gz: every row, numbers typed, JSON cells parsed.

    The archive holds one ``<data_name>.csv`` per output at its root; without ``data_name``
    the first is read.
    """
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tables = [
            member
            for member in tar.getmembers()
            if member.isfile() and "/" not in member.name and member.name.endswith(".csv")
        ]
        names = [member.name.removesuffix(".csv") for member in tables]
        if data_name is None:
            chosen = tables[0] if tables else None
        else:
            chosen = next(
                (m for m, name in zip(tables, names, strict=True) if name == data_name), None
            )
        if chosen is None:
            raise LookupError(
                f"no output named {data_name!r}; give data_name= one of {', '.join(names)}"
                if names
                else "the download holds no output table"
            )
        text = tar.extractfile(chosen).read()  # type: ignore[union-attr]

    header = pd.read_csv(io.BytesIO(text), nrows=0).columns
    frame = pd.read_csv(io.BytesIO(text), dtype={header[0]: TEXT_DTYPE}, keep_default_na=True)
    for name in frame.columns:
        if name == "predict_detail" or _looks_like_json(frame[name]):
            frame[name] = frame[name].map(_parsed_json)
    return text_typed(frame)


def _looks_like_json(column: pd.Series) -> bool:
    """A text column whose cells are JSON objects or lists."""
    if not pd.api.types.is_string_dtype(column) or column.empty:
        return False
    first = column.dropna()
    return bool(len(first)) and all(str(value)[:1] in "{[" for value in first.head(20))
