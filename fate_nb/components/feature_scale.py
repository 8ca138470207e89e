"""FeatureScale: standard or min-max scaling of one party's feature columns."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fate_nb.components.base import Component, TaskContext
from fate_nb.components.params import Params, one_of
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.tracking import header_of

log = logging.getLogger(__name__)

STANDARD = "standard_scale"
MIN_MAX = "min_max_scale"
# FATE takes a spread this small for none and divides by 1 instead.
ZERO_SPREAD = 1e-6


@dataclass
class FeatureScaleParam(Params):
    """FATE's ScaleParam: which features to scale, how, and the bounds to clip them to."""

    method: str = STANDARD
    mode: str = "normal"
    scale_col_indexes: int | list[int] = -1
    scale_names: list[str] | None = None
    feat_upper: float | list[float] | None = None
    feat_lower: float | list[float] | None = None
    with_mean: bool = True
    with_std: bool = True

    def check(self, where: str) -> None:
        """Refuse unknown methods and modes, malformed column choices and bounds."""
        one_of(self.method, [STANDARD, MIN_MAX], f"{where}.method")
        one_of(self.mode, ["normal", "cap"], f"{where}.mode")
        indexes = self.scale_col_indexes
        if indexes != -1 and not (
            isinstance(indexes, list) and all(_is_int(i) and i >= 0 for i in indexes)
        ):
            raise ParameterError(
                f"{where}.scale_col_indexes is {indexes!r}; use -1 for every feature, or a list "
                "of feature positions such as [0, 2]"
            )
        names = self.scale_names
        if names is not None and not (
            isinstance(names, list) and all(isinstance(n, str) for n in names)
        ):
            raise ParameterError(f"{where}.scale_names is {names!r}; use a list of feature names")

        for key in ("feat_upper", "feat_lower"):
            bound = getattr(self, key)
            if self.mode == "cap" and not (
                bound is None or (_is_number(bound) and 0 <= bound <= 1)
            ):
                raise ParameterError(
                    f"{where}.{key} is {bound!r}; in cap mode it is a quantile from 0 to 1"
                )
            if not (bound is None or _is_number(bound) or _is_numbers(bound)):
                raise ParameterError(
                    f"{where}.{key} is {bound!r}; use a number, a list of numbers (one per "
                    "feature) or null"
                )
        upper, lower = self.feat_upper, self.feat_lower
        if _is_number(upper) and _is_number(lower) and upper < lower:
            raise ParameterError(f"{where}.feat_upper {upper} is below feat_lower {lower}")


class FeatureScale(Component):
    """FATE's FeatureScale: scale the chosen features; the id and the label stay as they are."""

    module = "FeatureScale"
    model_buffer = "Scale"
    roles = frozenset({"guest", "host"})
    param_class = FeatureScaleParam

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Fit on the input table and scale it, or scale it with an input model."""
        where = ctx.task.component_name
        table = ctx.input_table()
        frame, schema = ctx.read_frame(table)
        header = header_of(schema)
        ctx.progress(0.2)

        loaded = ctx.input_model(FeatureScale.module)
        if loaded is None:
            params: FeatureScaleParam = ctx.params
            method, columns = params.method, _selected(params, header, where)
            features = _features(frame, columns, where)
            lower, upper = _bounds(params, features, header, where)
            features = features.clip(lower, upper, axis=1)
            center, spread = _fit(params, features, lower, upper, where)
            meta = _meta(params, columns, len(header))
        else:
            meta = loaded[0]
            method, columns, lower, upper, center, spread = _stored(*loaded, header)
            features = _features(frame, columns, where).clip(lower, upper, axis=1)
        ctx.progress(0.6)

        output = frame.copy()
        output[columns] = (features - center) / spread
        ctx.save_data(output, {**schema, "header": header}, table.partition)
        columns_param = _columns_param(method, columns, lower, upper, center, spread)
        ctx.save_model(meta, {"colScaleParam": columns_param, "header": header})
        ctx.set_metric_meta(
            "train", "scale", {"name": "scale", "metric_type": "SCALE", "method": method}
        )
        log.info("%s: %s of %d of %d features", where, method, len(columns), len(header))
        return {
            name: {
                "column_upper": values["columnUpper"],
                "column_lower": values["columnLower"],
                "mean": values["mean"],
                "std": values["std"],
            }
            for name, values in columns_param.items()
        }

    @classmethod
    def serve(
        cls,
        frame: pd.DataFrame,
        schema: dict[str, Any],
        meta: dict[str, Any],
        param: dict[str, Any],
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Scale rows to score with a trained model, as a predict job does."""
        header = header_of(schema)
        _, columns, lower, upper, center, spread = _stored(meta, param, header)
        output = frame.copy()
        features = _features(frame, columns, cls.module).clip(lower, upper, axis=1)
        output[columns] = (features - center) / spread
        return output, {**schema, "header": header}


def _stored(
    meta: dict[str, Any], param: dict[str, Any], header: list[str]
) -> tuple[str, list[str], pd.Series, pd.Series, pd.Series, pd.Series]:
    """A trained model's method, scaled columns, clip bounds, centre and spread."""
    method, stored = meta.get("method", STANDARD), param.get("colScaleParam", {})
    columns = [name for name in param.get("header", header) if name in stored]
    lower, upper, center, spread = (
        pd.Series({name: float(stored[name].get(key, 0.0)) for name in columns}, dtype="float64")
        for key in ("columnLower", "columnUpper", "mean", "std")
    )
    if method == MIN_MAX:
        center, spread = lower, _nonzero(upper - lower)
    return method, columns, lower, upper, center, spread


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_number(item) for item in value)


def _selected(params: FeatureScaleParam, header: list[str], where: str) -> list[str]:
    if params.scale_col_indexes == -1:
        if params.scale_names:
            log.warning("%s: scale_col_indexes is -1, so every feature is scaled", where)
        return list(header)

    indexes = list(params.scale_col_indexes)
    past = [index for index in indexes if index >= len(header)]
    if past:
        raise ParameterError(
            f"{where}.scale_col_indexes has {past}, past the last feature; the features are "
            f"{header}, at positions 0 to {len(header) - 1}"
        )
    unknown = [name for name in params.scale_names or [] if name not in header]
    if unknown:
        raise ParameterError(
            f"{where}.scale_names has {unknown}, which are not features; use names from {header}"
        )
    chosen = set(indexes) | {header.index(name) for name in params.scale_names or []}
    return [header[index] for index in sorted(chosen)]


def _features(frame: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    absent = [name for name in columns if name not in frame.columns]
    if absent:
        raise DataError(f"{where}: the input table has no columns {absent}")
    for name in columns:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            raise DataError(
                f"{where}: feature {name!r} is not numeric ({frame[name].dtype}); "
                "run DataIO or DataTransform before FeatureScale"
            )
    return frame[columns].astype("float64")


def _per_column(bound: Any, header: list[str], columns: list[str], key: str, where: str) -> Any:
    if not isinstance(bound, list):
        return bound
    if len(bound) != len(header):
        raise ParameterError(
            f"{where}.{key} has {len(bound)} values; give one per feature ({len(header)}: "
            f"{header}), or a single number"
        )
    return pd.Series(dict(zip(header, bound, strict=True)))[columns].astype("float64")


def _bounds(
    params: FeatureScaleParam, features: pd.DataFrame, header: list[str], where: str
) -> tuple[pd.Series, pd.Series]:
    columns = list(features.columns)
    if params.mode == "cap":
        low = 0.0 if params.feat_lower is None else params.feat_lower
        high = 1.0 if params.feat_upper is None else params.feat_upper
        return features.quantile(low), features.quantile(high)

    lower, upper = features.min(), features.max()
    if params.feat_upper is not None:
        cap = _per_column(params.feat_upper, header, columns, "feat_upper", where)
        lower, upper = np.minimum(lower, cap), np.minimum(upper, cap)
    if params.feat_lower is not None:
        floor = _per_column(params.feat_lower, header, columns, "feat_lower", where)
        lower, upper = np.maximum(lower, floor), np.maximum(upper, floor)
    return lower, upper


def _nonzero(spread: pd.Series) -> pd.Series:
    return spread.mask(spread.abs() < ZERO_SPREAD, 1.0)


def _fit(
    params: FeatureScaleParam,
    features: pd.DataFrame,
    lower: pd.Series,
    upper: pd.Series,
    where: str,
) -> tuple[pd.Series, pd.Series]:
    if params.method == MIN_MAX:
        inverted = list(lower.index[upper < lower])
        if inverted:
            raise ParameterError(
                f"{where}: feat_lower is above feat_upper for {inverted}; swap those bounds"
            )
        return lower, _nonzero(upper - lower)

    ones = pd.Series(1.0, index=features.columns)
    center = features.mean() if params.with_mean else ones * 0.0
    spread = _nonzero(features.std(ddof=0)) if params.with_std else ones
    return center, spread


def _bound_texts(bound: Any, count: int) -> list[str]:
    if isinstance(bound, list):
        return [str(item) for item in bound]
    return [str(bound)] * count


def _meta(params: FeatureScaleParam, columns: list[str], count: int) -> dict[str, Any]:
    return {
        "method": params.method,
        "mode": params.mode,
        "area": "null",
        "scaleColumn": columns,
        "featUpper": _bound_texts(params.feat_upper, count),
        "featLower": _bound_texts(params.feat_lower, count),
        "withMean": params.with_mean,
        "withStd": params.with_std,
        "needRun": params.need_run,
    }


def _columns_param(
    method: str,
    columns: list[str],
    lower: pd.Series,
    upper: pd.Series,
    center: pd.Series,
    spread: pd.Series,
) -> dict[str, dict[str, float]]:
    standard = method == STANDARD
    return {
        name: {
            "columnUpper": float(upper[name]),
            "columnLower": float(lower[name]),
            "mean": float(center[name]) if standard else 0.0,
            "std": float(spread[name]) if standard else 0.0,
        }
        for name in columns
    }
