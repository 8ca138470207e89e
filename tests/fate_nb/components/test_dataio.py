"""DataIO and DataTransform: label, feature types, missing and outlier values, refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from fate_nb.components import get_component, module_roles
from fate_nb.components.dataio import DataIOParam, DataTransformParam
from fate_nb.flow.errors import DataError, ParameterError
from fate_nb.flow.store import DataTable

if TYPE_CHECKING:
    from conftest import Flow, Ran

GUEST_FEATURES = [f"x{i}" for i in range(10)]
HOST_FEATURES = [f"x{i}" for i in range(20)]

# Gaps: a has an empty float, b empty ints, c is text with "NA" and "?".
GAPS = "id,y,a,b,c\nr1,1,1.0,10,NA\nr2,0,,20,7\nr3,1,3.0,,9\nr4,0,5.0,40,?\n"


@pytest.fixture
def gaps(flow: Flow) -> DataTable:
    return flow.upload(GAPS, "gaps")


def run_gaps(flow: Flow, gaps: DataTable, **conf: Any) -> tuple[pd.DataFrame, Ran]:
    ran = flow.run("DataIO", {"with_label": True, **conf}, data=gaps)
    frame, _ = ran.output()
    return frame.set_index("id"), ran


# Registry and parameters


@pytest.mark.parametrize("module", ["DataIO", "DataTransform"])
def test_registry_lists_the_module_for_guest_and_host(module: str) -> None:
    assert module_roles(dsl_only=True)[module] == frozenset({"guest", "host"})
    assert get_component(module).module == module


def test_defaults_are_fates() -> None:
    params, unknown = DataIOParam.from_conf({}, "dataio_0")
    assert unknown == []
    assert params.as_dict() == {
        "need_run": True,
        "input_format": "dense",
        "delimitor": ",",
        "data_type": "float64",
        "exclusive_data_type": None,
        "tag_with_value": False,
        "tag_value_delimitor": ":",
        "missing_fill": False,
        "default_value": 0,
        "missing_fill_method": None,
        "missing_impute": None,
        "outlier_replace": False,
        "outlier_replace_method": None,
        "outlier_impute": None,
        "outlier_replace_value": 0,
        "with_label": False,
        "label_name": "y",
        "label_type": "int",
        "output_format": "dense",
    }


def test_data_transform_adds_the_match_id_settings() -> None:
    params, _ = DataTransformParam.from_conf({"with_label": True}, "data_transform_0")
    assert params.with_label is True
    assert (params.with_match_id, params.match_id_name, params.match_id_index) == (False, "", 0)


def test_from_conf_reports_unknown_keys() -> None:
    params, unknown = DataIOParam.from_conf({"with_label": True, "labl_name": "y"}, "dataio_0")
    assert unknown == ["labl_name"]
    assert params.with_label is True


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"with_label": "yes"}, "dataio_0.with_label must be true or false"),
        ({"default_value": "zero"}, "dataio_0.default_value must be a number"),
        ({"label_name": 3}, "dataio_0.label_name must be a string"),
        ({"missing_fill_method": "mode"}, "dataio_0.missing_fill_method is 'mode'; use one of"),
        ({"missing_impute": "NA"}, "dataio_0.missing_impute must be a list"),
        ({"data_type": "decimal"}, "dataio_0.data_type is 'decimal'; use one of"),
        ({"label_type": "bool"}, "dataio_0.label_type is 'bool'; use one of"),
        ({"exclusive_data_type": {"x0": "text"}}, "dataio_0.exclusive_data_type.x0 is 'text'"),
    ],
)
def test_from_conf_refuses_wrong_values(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError, match=message.replace(".", r"\.")):
        DataIOParam.from_conf(conf, "dataio_0")


@pytest.mark.parametrize(
    ("key", "value"),
    [("input_format", "sparse"), ("input_format", "tag"), ("output_format", "sparse")],
)
def test_sparse_and_tag_formats_are_refused_until_supported(key: str, value: str) -> None:
    with pytest.raises(ParameterError) as error:
        DataIOParam.from_conf({key: value}, "dataio_0")
    assert error.value.message == (f"dataio_0.{key} '{value}' is not supported yet; use \"dense\"")


def test_data_transform_refuses_a_separate_match_id() -> None:
    with pytest.raises(ParameterError, match="with_match_id true is not supported yet"):
        DataTransformParam.from_conf({"with_match_id": True}, "data_transform_0")


# Dense tables


@pytest.mark.parametrize("module", ["DataIO", "DataTransform"])
def test_guest_label_and_features(
    flow: Flow, guest_table: DataTable, guest_csv: pd.DataFrame, module: str
) -> None:
    ran = flow.run(module, {"with_label": True}, data=guest_table)

    frame, schema = ran.output()
    assert list(frame.columns) == ["id", "y", *GUEST_FEATURES]
    assert schema == {"sid": "id", "header": GUEST_FEATURES, "label_name": "y"}
    assert frame["id"].tolist() == guest_csv["id"].tolist()
    assert frame["y"].dtype == np.int64
    assert frame["y"].tolist() == guest_csv["y"].tolist()
    assert (frame[GUEST_FEATURES].dtypes == np.float64).all()
    np.testing.assert_array_equal(frame[GUEST_FEATURES], guest_csv[GUEST_FEATURES])
    assert ran.output_table().count == 569
    assert ran.summary == {"count": 569, "feature_count": 10, "label_name": "y"}
    assert ran.metrics() == {}


def test_model_holds_the_header_sid_and_label(flow: Flow, guest_table: DataTable) -> None:
    meta, param = flow.run("DataIO", {"with_label": True}, data=guest_table).model()

    assert param["header"] == GUEST_FEATURES
    assert (param["sidName"], param["labelName"]) == ("id", "y")
    assert meta["inputFormat"] == "dense"
    assert (meta["withLabel"], meta["labelName"], meta["labelType"]) == (True, "y", "int")
    assert meta["imputerMeta"] == {"isImputer": False, "strategy": "", "missingValue": []}
    assert param["imputerParam"] == {"missingReplaceValue": {}, "missingValueRatio": {}}


def test_host_without_label(flow: Flow, host_table: DataTable) -> None:
    ran = flow.run("DataIO", {}, data=host_table, party=("host", "10000"))

    frame, schema = ran.output()
    assert schema == {"sid": "id", "header": HOST_FEATURES}
    assert list(frame.columns) == ["id", *HOST_FEATURES]
    assert ran.model()[1]["labelName"] == ""


def test_missing_label_column_names_it_and_the_columns(flow: Flow, host_table: DataTable) -> None:
    with pytest.raises(DataError) as error:
        flow.run("DataIO", {"with_label": True}, data=host_table)
    message = error.value.message
    assert "label column 'y' is not in table experiment.breast_hetero_host" in message
    assert "'x0', 'x1'" in message
    assert "set label_name" in message


@pytest.mark.parametrize(("label_type", "first"), [("float", 1.0), ("str", "1")])
def test_label_type_casts_the_label(
    flow: Flow, guest_table: DataTable, label_type: str, first: Any
) -> None:
    conf = {"with_label": True, "label_type": label_type}
    frame, _ = flow.run("DataIO", conf, data=guest_table).output()
    if label_type == "str":
        assert pd.api.types.is_string_dtype(frame["y"])
    else:
        assert frame["y"].dtype == np.float64
    assert frame.set_index("id").loc["133", "y"] == first


def test_label_name_picks_another_column(flow: Flow, guest_table: DataTable) -> None:
    conf = {"with_label": True, "label_name": "x3", "label_type": "float"}
    frame, schema = flow.run("DataIO", conf, data=guest_table).output()
    assert schema["label_name"] == "x3"
    assert schema["header"] == ["y", "x0", "x1", "x2", "x4", "x5", "x6", "x7", "x8", "x9"]
    assert frame.set_index("id").loc["133", "x3"] == 0.074214


def test_data_type_and_exclusive_data_type(flow: Flow, guest_table: DataTable) -> None:
    conf = {"data_type": "float32", "exclusive_data_type": {"y": "int64"}}
    frame, schema = flow.run("DataIO", conf, data=guest_table).output()
    assert schema["header"] == ["y", *GUEST_FEATURES]
    assert frame["y"].dtype == np.int64
    assert frame["x0"].dtype == np.float32
    assert frame.set_index("id").loc["133", "x0"] == np.float32(0.254879)


def test_exclusive_data_type_of_an_unknown_column_is_refused(
    flow: Flow, guest_table: DataTable
) -> None:
    with pytest.raises(ParameterError, match=r"exclusive_data_type names columns .*\['z'\]"):
        flow.run("DataIO", {"exclusive_data_type": {"z": "int"}}, data=guest_table)


# Missing values and outliers


def test_non_numeric_value_without_missing_fill_names_column_and_value(
    flow: Flow, gaps: DataTable
) -> None:
    with pytest.raises(DataError) as error:
        run_gaps(flow, gaps)
    where, _, message = error.value.message.partition(": ")
    assert where.startswith("dataio_")
    assert message == (
        "column 'c' holds '?' at id 'r4', which is not a number; list such values in "
        "missing_impute and set missing_fill true, or fix the data"
    )


def test_missing_values_stay_empty_without_missing_fill(flow: Flow, gaps: DataTable) -> None:
    frame, _ = run_gaps(flow, gaps, missing_impute=["?", "NA"])
    assert np.isnan(frame.loc["r2", "a"]) and np.isnan(frame.loc["r3", "b"])
    assert np.isnan(frame.loc["r1", "c"]) and np.isnan(frame.loc["r4", "c"])
    assert frame.loc["r2", "c"] == 7.0


def test_default_missing_values_are_fates(flow: Flow, gaps: DataTable) -> None:
    # "?" is not among FATE's default missing values, so it is still refused.
    with pytest.raises(DataError, match="column 'c' holds '\\?'"):
        run_gaps(flow, gaps, missing_fill=True)


@pytest.mark.parametrize(
    ("method", "a", "b", "c"),
    [
        ("mean", 3.0, 70 / 3, 8.0),
        ("median", 3.0, 20.0, 8.0),
        ("min", 1.0, 10.0, 7.0),
        ("max", 5.0, 40.0, 9.0),
        ("designated", -1.0, -1.0, -1.0),
        (None, -1.0, -1.0, -1.0),
    ],
)
def test_missing_fill_methods(
    flow: Flow, gaps: DataTable, method: str | None, a: float, b: float, c: float
) -> None:
    conf = {
        "missing_fill": True,
        "missing_fill_method": method,
        "default_value": -1,
        "missing_impute": ["", "NA", "?"],
    }
    frame, ran = run_gaps(flow, gaps, **conf)

    assert frame.loc["r2", "a"] == pytest.approx(a, rel=1e-12)
    assert frame.loc["r3", "b"] == pytest.approx(b, rel=1e-12)
    assert frame.loc["r1", "c"] == frame.loc["r4", "c"] == pytest.approx(c, rel=1e-12)
    assert frame.loc["r4", "a"] == 5.0 and frame.loc["r4", "b"] == 40.0
    meta, param = ran.model()
    assert meta["imputerMeta"] == {
        "isImputer": True,
        "strategy": method or "",
        "missingValue": ["", "NA", "?"],
    }
    assert param["imputerParam"]["missingValueRatio"] == {"a": 0.25, "b": 0.25, "c": 0.5}
    assert float(param["imputerParam"]["missingReplaceValue"]["c"]) == pytest.approx(c)
    assert ran.summary["missing_fill_info"]["missing_impute_rate"]["c"] == 0.5


def test_missing_fill_of_an_empty_column_needs_a_designated_value(flow: Flow) -> None:
    table = flow.upload("id,a,b\n1,,2\n2,,3\n", "empty_a")
    conf = {"missing_fill": True, "missing_fill_method": "mean"}
    with pytest.raises(DataError, match="column 'a' has no value to take the mean of"):
        flow.run("DataIO", conf, data=table)


def test_outlier_replace_after_missing_fill(flow: Flow, gaps: DataTable) -> None:
    conf = {
        "missing_fill": True,
        "missing_impute": ["", "NA", "?"],
        "outlier_replace": True,
        "outlier_impute": [40, "9"],
        "outlier_replace_method": "max",
    }
    frame, ran = run_gaps(flow, gaps, **conf)

    # b is 10, 20, 0 (filled), 40 (outlier): the max of the others is 20.
    assert frame["b"].tolist() == [10.0, 20.0, 0.0, 20.0]
    assert frame["c"].tolist() == [0.0, 7.0, 7.0, 0.0]
    meta, param = ran.model()
    assert meta["outlierMeta"] == {
        "isOutlier": True,
        "strategy": "max",
        "outlierValue": ["40", "9"],
    }
    assert param["outlierParam"]["outlierValueRatio"] == {"a": 0.0, "b": 0.25, "c": 0.25}


def test_int_features_refuse_missing_values(flow: Flow, gaps: DataTable) -> None:
    with pytest.raises(DataError, match="column 'a' has missing values, which int features"):
        run_gaps(flow, gaps, data_type="int64", missing_impute=["?", "NA"])


def test_label_with_a_gap_is_refused(flow: Flow) -> None:
    table = flow.upload("id,y,a\n1,1,2\n2,,3\n", "label_gap")
    with pytest.raises(DataError, match="label column 'y' holds an empty value at id '2'"):
        flow.run("DataIO", {"with_label": True}, data=table)


# An input model


def test_input_model_fills_with_the_fitted_values(flow: Flow, gaps: DataTable) -> None:
    conf = {"missing_fill": True, "missing_fill_method": "mean", "missing_impute": ["?", "NA"]}
    fitted = flow.run("DataIO", {"with_label": True, **conf}, data=gaps)
    later = flow.upload("id,y,c,a,b\nq1,1,3,,1\nq2,0,NA,100,\n", "later")

    ran = flow.run("DataIO", {}, data=later, models=fitted.models())

    frame, schema = ran.output()
    assert schema == {"sid": "id", "header": ["a", "b", "c"], "label_name": "y"}
    assert list(frame.columns) == ["id", "y", "a", "b", "c"]
    assert frame["a"].tolist() == [3.0, 100.0]
    assert frame["b"].tolist() == [1.0, 70 / 3]
    assert frame["c"].tolist() == [3.0, 8.0]
    assert ran.model()[0] == fitted.model()[0]


def test_input_model_refuses_a_table_with_other_features(flow: Flow, gaps: DataTable) -> None:
    fitted = flow.run("DataIO", {"with_label": True, "missing_impute": ["?", "NA"]}, data=gaps)
    later = flow.upload("id,y,a,d\nq1,1,3,1\n", "other")
    with pytest.raises(DataError, match="differ from the input model's"):
        flow.run("DataIO", {}, data=later, models=fitted.models())
