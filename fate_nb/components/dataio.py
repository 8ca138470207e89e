"""DataIO and DataTransform: split a table into its id, its label and numeric features."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params, one_of
from fate_nb.flow.errors import DataError, ParameterError

log = logging.getLogger(__name__)

_INTS = dict.fromkeys(("int", "int64", "long"), "int64")
_FLOATS = dict.fromkeys(("float", "float64", "double"), "float64")
FEATURE_TYPES = {**_FLOATS, "float32": "float32", **_INTS}
LABEL_TYPES = {**_INTS, **_FLOATS, "str": "str"}
FILL_METHODS = ["min", "max", "mean", "median", "designated"]
# FATE reads these as missing when missing_impute is not given.
DEFAULT_MISSING = ["", "NULL", "null", "NA"]
# Texts an upload stores as null in a numeric column, so a marker among them matches nulls too.
_NULL_TEXTS = frozenset(
    {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"}
    | {"1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"}
)
_MODULES = ("DataIO", "DataTransform")


@dataclass
class DataIOParam(Params):
    """FATE's DataIOParam: how to read the id, the label and the features of a table."""

    input_format: str = "dense"
    delimitor: str = ","
    data_type: str = "float64"
    exclusive_data_type: dict[str, str] | None = None
    tag_with_value: bool = False
    tag_value_delimitor: str = ":"
    missing_fill: bool = False
    default_value: float = 0
    missing_fill_method: str | None = None
    missing_impute: list[Any] | None = None
    outlier_replace: bool = False
    outlier_replace_method: str | None = None
    outlier_impute: list[Any] | None = None
    outlier_replace_value: float = 0
    with_label: bool = False
    label_name: str = "y"
    label_type: str = "int"
    output_format: str = "dense"

    def check(self, where: str) -> None:
        """Refuse formats and types that are not supported, and malformed value lists."""
        _refuse_unsupported(self.input_format, "input_format", ("sparse", "tag"), where)
        _refuse_unsupported(self.output_format, "output_format", ("sparse",), where)
        one_of(self.data_type, FEATURE_TYPES, f"{where}.data_type")
        one_of(self.label_type, LABEL_TYPES, f"{where}.label_type")
        if self.exclusive_data_type is not None:
            if not isinstance(self.exclusive_data_type, dict):
                raise ParameterError(
                    f"{where}.exclusive_data_type must be an object of column name to type, "
                    f"got {self.exclusive_data_type!r}"
                )
            for column, dtype in self.exclusive_data_type.items():
                one_of(dtype, FEATURE_TYPES, f"{where}.exclusive_data_type.{column}")

        for key in ("missing_fill_method", "outlier_replace_method"):
            if getattr(self, key) is not None:
                one_of(getattr(self, key), FILL_METHODS, f"{where}.{key}")
        for key in ("missing_impute", "outlier_impute"):
            _check_markers(getattr(self, key), f"{where}.{key}")
        if self.with_label and not self.label_name:
            raise ParameterError(
                f"{where}.label_name is empty; name the label column, or set with_label false"
            )


@dataclass
class DataTransformParam(DataIOParam):
    """FATE's DataTransformParam: DataIO's parameters and the match-id settings."""

    with_match_id: bool = False
    match_id_name: str = ""
    match_id_index: int = 0

    def check(self, where: str) -> None:
        """DataIO's checks; a separate match id is not supported yet."""
        super().check(where)
        if self.with_match_id:
            raise ParameterError(
                f"{where}.with_match_id true is not supported yet; set it false "
                "(the table's first column is then the sample id)"
            )


@dataclass
class _Fill:
    """Which values one replacement step takes, and what it puts in their place."""

    enabled: bool
    markers: list[Any] | None
    method: str | None
    default: float
    values: dict[str, float] | None = None
    used: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.markers = list(DEFAULT_MISSING if self.markers is None else self.markers)

    def value_for(self, column: str, kept: pd.Series, where: str) -> float:
        """The replacement of ``column``: from the model, the default, or a statistic."""
        if self.values is not None:
            if column not in self.values:
                raise DataError(f"{where}: the input model has no fill value for column {column!r}")
            return self.values[column]
        if self.method in (None, "designated"):
            return self.default
        value = float(kept.agg(self.method)) if len(kept) else math.nan
        if math.isnan(value):
            raise DataError(
                f"{where}: column {column!r} has no value to take the {self.method} of; "
                "use the method designated with a default value"
            )
        return value


@dataclass
class _Rules:
    """What one run reads from the table, from the parameters or from an input model."""

    with_label: bool
    label_name: str
    label_type: str
    data_type: str
    exclusive: dict[str, str]
    missing: _Fill
    outlier: _Fill
    header: list[str] | None = None


class DataIO(Component):
    """FATE's DataIO: the first column is the id, the label is taken out, the rest are features."""

    module = "DataIO"
    roles = frozenset({"guest", "host"})
    param_class = DataIOParam

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Convert the input table; with an input model, apply that model's settings."""
        where = ctx.task.component_name
        table = ctx.input_table()
        frame, _ = ctx.read_frame(table)
        ctx.progress(0.2)

        loaded = ctx.input_model(*_MODULES)
        rules = _rules_from_params(ctx.params) if loaded is None else _rules_from_model(*loaded)
        name = f"{table.namespace}.{table.table_name}"
        output, schema = _convert(frame, rules, name, where, ctx.progress)
        sid, label, header = schema["sid"], schema.get("label_name"), schema["header"]

        ctx.save_data(output, schema, table.partition)
        meta = loaded[0] if loaded is not None else _meta(ctx.params, rules)
        ctx.save_model(meta, _param(header, sid, label, rules))
        log.info("%s: %d rows, %d features, label %s", where, len(output), len(header), label)
        return _summary(len(output), header, label, rules)

    @classmethod
    def serve(
        cls,
        frame: pd.DataFrame,
        schema: dict[str, Any],
        meta: dict[str, Any],
        param: dict[str, Any],
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Convert rows to score (id column first) with a trained model's settings."""
        return _convert(frame, _rules_from_model(meta, param), "the rows to score", cls.module)


class DataTransform(DataIO):
    """FATE's DataTransform: DataIO under its later name, with match-id settings."""

    module = "DataTransform"
    param_class = DataTransformParam


def _convert(
    frame: pd.DataFrame,
    rules: _Rules,
    table: str,
    where: str,
    progress: Callable[[float], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The id, the label and the typed, filled features of ``frame``, and their schema."""
    sid, columns = str(frame.columns[0]), [str(name) for name in frame.columns[1:]]
    label = _label_column(rules, columns, table, where)
    header = [name for name in columns if name != label]
    if rules.header is not None and sorted(rules.header) != sorted(header):
        raise DataError(
            f"{where}: the features {header} of {table} differ from the input model's "
            f"{rules.header}; give the same columns"
        )
    header = rules.header or header
    if set(rules.exclusive) - set(header):
        raise ParameterError(
            f"{where}.exclusive_data_type names columns that are not features: "
            f"{sorted(set(rules.exclusive) - set(header))}; use names from {header}"
        )

    ids = frame[sid].astype(str)
    converted: dict[str, pd.Series] = {sid: ids}
    if label is not None:
        converted[label] = _label_values(frame[label], rules.label_type, ids, where)
    for position, name in enumerate(header):
        converted[name] = _feature(frame[name], name, rules, ids, where)
        if progress is not None:
            progress(0.2 + 0.6 * (position + 1) / len(header))
    # One frame from all columns: adding them one by one costs more than the conversion.
    output = pd.DataFrame(converted)

    schema: dict[str, Any] = {"sid": sid, "header": header}
    if label is not None:
        schema["label_name"] = label
    return output, schema


def _refuse_unsupported(value: str, key: str, later: tuple[str, ...], where: str) -> None:
    if value in later:
        raise ParameterError(f'{where}.{key} {value!r} is not supported yet; use "dense"')
    one_of(value, ["dense"], f"{where}.{key}")


def _check_markers(markers: Any, where: str) -> None:
    if markers is None:
        return
    if not isinstance(markers, list) or any(
        isinstance(item, (bool, dict, list)) for item in markers
    ):
        raise ParameterError(
            f'{where} must be a list of texts or numbers such as ["", "NA", -999], got {markers!r}'
        )


def _rules_from_params(params: DataIOParam) -> _Rules:
    missing = (params.missing_impute, params.missing_fill_method, params.default_value)
    outlier = (params.outlier_impute, params.outlier_replace_method, params.outlier_replace_value)
    return _Rules(
        with_label=params.with_label,
        label_name=params.label_name,
        label_type=params.label_type,
        data_type=params.data_type,
        exclusive=dict(params.exclusive_data_type or {}),
        missing=_Fill(params.missing_fill, *missing),
        outlier=_Fill(params.outlier_replace, *outlier),
    )


def _rules_from_model(meta: dict[str, Any], param: dict[str, Any]) -> _Rules:
    def fill(kind: str, flag: str, part: str) -> _Fill:
        settings = meta.get(f"{kind}Meta", {})
        stored = param.get(f"{kind}Param", {}).get(f"{part}ReplaceValue", {})
        values = {name: float(value) for name, value in stored.items()}
        markers = list(settings.get(f"{part}Value", []))
        return _Fill(bool(settings.get(flag)), markers, settings.get("strategy") or None, 0, values)

    return _Rules(
        with_label=bool(meta.get("withLabel")),
        label_name=param.get("labelName") or meta.get("labelName", ""),
        label_type=meta.get("labelType", "int"),
        data_type=meta.get("dataType", "float64"),
        exclusive=dict(meta.get("exclusiveDataType") or {}),
        missing=fill("imputer", "isImputer", "missing"),
        outlier=fill("outlier", "isOutlier", "outlier"),
        header=list(param.get("header", [])),
    )


def _label_column(rules: _Rules, columns: list[str], table: str, where: str) -> str | None:
    if not rules.with_label:
        return None
    if rules.label_name in columns:
        return rules.label_name
    # A model fitted with labels is applied to tables without them too, as FATE does.
    if rules.header is not None:
        return None
    raise DataError(
        f"{where}: label column {rules.label_name!r} is not in table {table}, whose columns "
        f"are {columns}; set label_name to the label's column, or with_label false"
    )


def _label_values(raw: pd.Series, label_type: str, ids: pd.Series, where: str) -> pd.Series:
    kind = LABEL_TYPES[label_type]
    values = raw if kind == "str" else _numbers(raw)
    bad = values.isna()
    if bad.any():
        example = raw[bad].iloc[0]
        shown = "an empty value" if pd.isna(example) else repr(example)
        raise DataError(
            f"{where}: label column {raw.name!r} holds {shown} at id {ids[bad].iloc[0]!r}; "
            'give every row a label, or set label_type to "str" for text labels'
        )
    if kind == "str":
        return raw.astype(str)
    if kind == "int64" and not np.array_equal(values, np.round(values)):
        example = values[values != np.round(values)].iloc[0]
        raise DataError(
            f"{where}: label column {raw.name!r} holds {example!r}, not a whole number; "
            'set label_type to "float"'
        )
    return values.astype(kind)


def _feature(raw: pd.Series, name: str, rules: _Rules, ids: pd.Series, where: str) -> pd.Series:
    values = _numbers(raw)
    missing = _marked(raw, values, rules.missing.markers) | raw.isna()
    outlier = pd.Series(False, index=raw.index)
    if rules.outlier.enabled:
        # Missing values are filled before outliers are looked for, as FATE does.
        taken = missing if rules.missing.enabled else pd.Series(False, index=raw.index)
        outlier = _marked(raw, values, rules.outlier.markers) & ~taken

    bad = values.isna() & ~missing & ~outlier
    if bad.any():
        raise DataError(
            f"{where}: column {name!r} holds {raw[bad].iloc[0]!r} at id {ids[bad].iloc[0]!r}, "
            "which is not a number; list such values in missing_impute and set missing_fill "
            "true, or fix the data"
        )

    values = values.mask(missing)
    for step, rows in ((rules.missing, missing), (rules.outlier, outlier)):
        if not step.enabled:
            continue
        fill = step.value_for(name, values[~rows].dropna(), where)
        values = values.mask(rows, fill)
        step.used[name] = fill
        step.ratios[name] = float(rows.mean()) if len(rows) else 0.0
    return _cast(values, FEATURE_TYPES[rules.exclusive.get(name, rules.data_type)], name, where)


def _numbers(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64")
    text = raw.astype("string").str.strip()
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _as_number(marker: Any) -> float | None:
    if isinstance(marker, bool) or marker is None:
        return None
    try:
        number = float(marker)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _marked(raw: pd.Series, values: pd.Series, markers: list[Any]) -> pd.Series:
    """Where ``raw`` (read as the numbers ``values``) holds one of ``markers``."""
    numbers = [number for number in map(_as_number, markers) if number is not None]
    hit = values.isin(numbers) if numbers else pd.Series(False, index=raw.index)
    if not pd.api.types.is_numeric_dtype(raw):
        texts = {str(marker) for marker in markers if marker is not None}
        hit |= raw.astype("string").isin(texts).to_numpy(dtype=bool)
    if any(marker is None or str(marker) in _NULL_TEXTS for marker in markers):
        hit |= raw.isna()
    return hit


def _cast(values: pd.Series, dtype: str, name: str, where: str) -> pd.Series:
    if dtype != "int64":
        return values.astype(dtype)
    if values.isna().any():
        raise DataError(
            f"{where}: column {name!r} has missing values, which int features cannot hold; "
            "set missing_fill true, or data_type float64"
        )
    fractional = values != np.round(values)
    if fractional.any():
        raise DataError(
            f"{where}: column {name!r} holds {values[fractional].iloc[0]!r}, not a whole "
            "number; use data_type float64"
        )
    return values.astype("int64")


def _meta(params: DataIOParam, rules: _Rules) -> dict[str, Any]:
    def settings(step: _Fill, flag: str, values_key: str) -> dict[str, Any]:
        return {
            flag: step.enabled,
            "strategy": (step.method or "") if step.enabled else "",
            values_key: [str(marker) for marker in step.markers] if step.enabled else [],
        }

    return {
        "inputFormat": params.input_format,
        "delimitor": params.delimitor,
        "dataType": params.data_type,
        "tagWithValue": params.tag_with_value,
        "tagValueDelimitor": params.tag_value_delimitor,
        "withLabel": params.with_label,
        "labelName": params.label_name,
        "labelType": params.label_type,
        "outputFormat": params.output_format,
        "imputerMeta": settings(rules.missing, "isImputer", "missingValue"),
        "outlierMeta": settings(rules.outlier, "isOutlier", "outlierValue"),
        "needRun": params.need_run,
        "exclusiveDataType": dict(rules.exclusive),
    }


def _param(header: list[str], sid: str, label: str | None, rules: _Rules) -> dict[str, Any]:
    return {
        "header": header,
        "sidName": sid,
        "labelName": label or "",
        "imputerParam": {
            "missingReplaceValue": {name: str(v) for name, v in rules.missing.used.items()},
            "missingValueRatio": dict(rules.missing.ratios),
        },
        "outlierParam": {
            "outlierReplaceValue": {name: str(v) for name, v in rules.outlier.used.items()},
            "outlierValueRatio": dict(rules.outlier.ratios),
        },
    }


def _summary(count: int, header: list[str], label: str | None, rules: _Rules) -> dict[str, Any]:
    summary: dict[str, Any] = {"count": count, "feature_count": len(header), "label_name": label}
    # FATE's keys, its odd "outlier_replace_rate" for the whole outlier part included.
    for step, key, kind, verb in (
        (rules.missing, "missing_fill_info", "missing", "impute"),
        (rules.outlier, "outlier_replace_rate", "outlier", "replace"),
    ):
        if step.enabled:
            summary[key] = {
                f"{kind}_value": [str(marker) for marker in step.markers],
                f"{kind}_{verb}_value": dict(step.used),
                f"{kind}_{verb}_rate": dict(step.ratios),
            }
    return summary
