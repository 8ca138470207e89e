"""FeatureScale: the same numbers as scikit-learn's scalers, column choice, bounds, models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from fate_nb.components import get_component, module_roles
from fate_nb.components.feature_scale import FeatureScaleParam
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.store import ComponentModel, DataTable

if TYPE_CHECKING:
    from conftest import Flow, Ran

GUEST_FEATURES = [f"x{i}" for i in range(10)]
HOST_FEATURES = [f"x{i}" for i in range(20)]


def features_of(flow: Flow, party: str) -> tuple[DataTable, pd.DataFrame, list[str]]:
    """A party's DataIO output table, its rows sorted by id, and its feature names."""
    table = flow.upload_breast(party)
    ran = flow.run("DataIO", {"with_label": party == "guest"}, data=table)
    frame, _ = ran.output()
    return ran.output_table(), frame, GUEST_FEATURES if party == "guest" else HOST_FEATURES


@pytest.fixture
def guest(flow: Flow) -> tuple[DataTable, pd.DataFrame, list[str]]:
    return features_of(flow, "guest")


def scale(
    flow: Flow, table: DataTable, models: list[ComponentModel] | None = None, **conf: Any
) -> tuple[pd.DataFrame, Ran]:
    ran = flow.run("FeatureScale", conf, data=table, models=models)
    frame, _ = ran.output()
    return frame, ran


def close(actual: Any, expected: Any, atol: float = 0.0) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=1e-12, atol=atol)


# Registry and parameters


def test_registry_lists_feature_scale_for_guest_and_host() -> None:
    assert module_roles(dsl_only=True)["FeatureScale"] == frozenset({"guest", "host"})
    assert get_component("FeatureScale").param_class is FeatureScaleParam


def test_defaults_are_fates() -> None:
    params, unknown = FeatureScaleParam.from_conf({}, "scale_0")
    assert unknown == []
    assert params.as_dict() == {
        "need_run": True,
        "method": "standard_scale",
        "mode": "normal",
        "scale_col_indexes": -1,
        "scale_names": None,
        "feat_upper": None,
        "feat_lower": None,
        "with_mean": True,
        "with_std": True,
    }


def test_from_conf_takes_a_list_of_indexes_and_reports_unknown_keys() -> None:
    conf = {"scale_col_indexes": [0, 3], "scale_names": ["x5"], "method_": "x"}
    params, unknown = FeatureScaleParam.from_conf(conf, "scale_0")
    assert (params.scale_col_indexes, params.scale_names) == ([0, 3], ["x5"])
    assert unknown == ["method_"]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"method": "robust_scale"}, "scale_0.method is 'robust_scale'; use one of"),
        ({"mode": "clip"}, "scale_0.mode is 'clip'; use one of"),
        ({"with_mean": "no"}, "scale_0.with_mean must be true or false"),
        ({"scale_col_indexes": "all"}, "scale_0.scale_col_indexes must be a number"),
        ({"scale_col_indexes": 3}, "scale_0.scale_col_indexes is 3; use -1 for every feature"),
        ({"scale_col_indexes": [0, -2]}, "scale_0.scale_col_indexes is [0, -2]"),
        ({"scale_names": "x0"}, "scale_0.scale_names is 'x0'; use a list"),
        ({"feat_upper": "high"}, "scale_0.feat_upper is 'high'; use a number"),
        ({"mode": "cap", "feat_upper": 95}, "scale_0.feat_upper is 95; in cap mode it is a"),
        ({"feat_upper": 1, "feat_lower": 2}, "scale_0.feat_upper 1 is below feat_lower 2"),
    ],
)
def test_from_conf_refuses_wrong_values(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as error:
        FeatureScaleParam.from_conf(conf, "scale_0")
    assert error.value.message.startswith(message)


# The numbers


@pytest.mark.parametrize("party", ["guest", "host"])
def test_standard_scale_equals_sklearn(flow: Flow, party: str) -> None:
    table, before, features = features_of(flow, party)
    frame, ran = scale(flow, table)

    scaler = StandardScaler().fit(before[features].to_numpy())
    close(frame[features], scaler.transform(before[features].to_numpy()))
    assert frame["id"].tolist() == before["id"].tolist()
    if party == "guest":
        assert frame["y"].tolist() == before["y"].tolist()
    _, param = ran.model()
    # The breast features are already centred: their means are about 1e-8, and a different
    # summation order moves them by about 1e-17, more than a relative 1e-12 allows.
    means = [param["colScaleParam"][name]["mean"] for name in features]
    close(means, scaler.mean_, atol=1e-15)
    close([param["colScaleParam"][name]["std"] for name in features], scaler.scale_)


@pytest.mark.parametrize("party", ["guest", "host"])
def test_min_max_scale_equals_sklearn(flow: Flow, party: str) -> None:
    table, before, features = features_of(flow, party)
    frame, ran = scale(flow, table, method="min_max_scale")

    close(frame[features], MinMaxScaler().fit_transform(before[features].to_numpy()))
    _, param = ran.model()
    assert param["colScaleParam"]["x0"] == {
        "columnUpper": before["x0"].max(),
        "columnLower": before["x0"].min(),
        "mean": 0.0,
        "std": 0.0,
    }


@pytest.mark.parametrize(("with_mean", "with_std"), [(False, True), (True, False), (False, False)])
def test_with_mean_and_with_std_equal_sklearn(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]], with_mean: bool, with_std: bool
) -> None:
    table, before, features = guest
    frame, _ = scale(flow, table, with_mean=with_mean, with_std=with_std)

    scaler = StandardScaler(with_mean=with_mean, with_std=with_std)
    close(frame[features], scaler.fit_transform(before[features].to_numpy()))


def test_only_chosen_columns_are_scaled(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]
) -> None:
    table, before, features = guest
    frame, ran = scale(flow, table, scale_col_indexes=[2, 0], scale_names=["x5", "x0"])

    chosen = ["x0", "x2", "x5"]
    close(frame[chosen], StandardScaler().fit_transform(before[chosen].to_numpy()))
    rest = [name for name in features if name not in chosen]
    pd.testing.assert_frame_equal(frame[["id", "y", *rest]], before[["id", "y", *rest]])
    meta, param = ran.model()
    assert meta["scaleColumn"] == chosen
    assert sorted(param["colScaleParam"]) == chosen
    assert param["header"] == features
    assert sorted(ran.summary) == chosen


def test_column_choice_past_the_header_is_refused(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]
) -> None:
    with pytest.raises(ParameterError, match=r"scale_col_indexes has \[10\], past the last"):
        scale(flow, guest[0], scale_col_indexes=[1, 10])
    with pytest.raises(ParameterError, match=r"scale_names has \['x10'\], which are not"):
        scale(flow, guest[0], scale_col_indexes=[], scale_names=["x10"])


def test_a_constant_column_is_divided_by_one(flow: Flow) -> None:
    table = flow.upload("id,a,b\n1,5,1\n2,5,2\n3,5,4\n", "constant")
    frame, ran = scale(flow, flow.run("DataIO", {}, data=table).output_table())

    assert frame["a"].tolist() == [0.0, 0.0, 0.0]
    assert ran.model()[1]["colScaleParam"]["a"]["std"] == 1.0
    close(frame["b"], StandardScaler().fit_transform(np.array([[1.0], [2.0], [4.0]]))[:, 0])


def test_feat_bounds_clip_before_min_max(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]
) -> None:
    table, before, features = guest
    frame, ran = scale(flow, table, method="min_max_scale", feat_upper=1.5, feat_lower=-0.5)

    values = before[features].to_numpy()
    low = np.maximum(values.min(axis=0), -0.5)
    high = np.minimum(values.max(axis=0), 1.5)
    close(frame[features], (np.clip(values, low, high) - low) / (high - low))
    assert ran.model()[1]["colScaleParam"]["x0"]["columnUpper"] == 1.5


def test_feat_bounds_per_column_clip_before_standard_scale(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]
) -> None:
    table, before, features = guest
    uppers = [1.0 + index / 10 for index in range(10)]
    frame, _ = scale(flow, table, feat_upper=uppers)

    clipped = np.minimum(before[features].to_numpy(), uppers)
    close(frame[features], StandardScaler().fit_transform(clipped))


def test_cap_mode_bounds_are_quantiles(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]
) -> None:
    table, before, features = guest
    frame, ran = scale(flow, table, method="min_max_scale", mode="cap", feat_upper=0.9)

    values = before[features].to_numpy()
    low, high = values.min(axis=0), np.quantile(values, 0.9, axis=0)
    close(frame[features], (np.clip(values, low, high) - low) / (high - low))
    meta, _ = ran.model()
    assert meta["featUpper"] == ["0.9"] * 10 and meta["featLower"] == ["None"] * 10


def test_metric_and_summary(flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]) -> None:
    _, ran = scale(flow, guest[0], method="min_max_scale")

    meta = {"name": "scale", "metric_type": "SCALE", "method": "min_max_scale"}
    assert ran.metrics() == {"train": {"scale": {"data": [], "meta": meta}}}
    assert ran.summary["x1"] == {
        "column_upper": guest[1]["x1"].max(),
        "column_lower": guest[1]["x1"].min(),
        "mean": 0.0,
        "std": 0.0,
    }


def test_text_features_are_refused(flow: Flow) -> None:
    table = flow.upload("id,a,b\n1,x,1\n2,y,2\n", "text")
    with pytest.raises(DataError, match="feature 'a' is not numeric .*run DataIO"):
        scale(flow, table)


# An input model


@pytest.mark.parametrize("method", ["standard_scale", "min_max_scale"])
def test_input_model_scales_with_the_fitted_values(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]], method: str
) -> None:
    table, before, features = guest
    fitted = scale(flow, table, method=method, scale_col_indexes=[0, 1])[1]
    few = flow.upload("id,y,x0,x1,x2,x3,x4,x5,x6,x7,x8,x9\n" + "a,1," + ",".join(["9"] * 10))
    few_features = flow.run("DataIO", {"with_label": True}, data=few).output_table()

    frame, ran = scale(flow, few_features, models=fitted.models())

    expected = StandardScaler() if method == "standard_scale" else MinMaxScaler()
    expected.fit(before[["x0", "x1"]].to_numpy())
    # 9 is past every column's maximum, so it is clipped to it first.
    clipped = np.minimum([[9.0, 9.0]], before[["x0", "x1"]].max().to_numpy())
    close(frame[["x0", "x1"]], expected.transform(clipped))
    assert frame["x2"].tolist() == [9.0]
    assert ran.model() == fitted.model()


def test_input_model_of_another_module_is_refused(
    flow: Flow, guest: tuple[DataTable, pd.DataFrame, list[str]]
) -> None:
    table, _, _ = guest
    dataio_models = flow.run("DataIO", {}, data=table).models()
    with pytest.raises(ParameterError, match=r"got a model of \['DataIO'\]"):
        scale(flow, table, models=dataio_models)
