"""/v1/tracking on real jobs: FATE's hetero-LR job (DSL v1) and the DSL v2 scale job, every
endpoint's answer checked field by field against fate_flow_api.md 2.11-2.17 and 6."""

from __future__ import annotations

import copy
import csv
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from flow_api import FlowApi
from job_confs import (
    ARBITER,
    GUEST,
    HETERO_LR_CONF,
    HETERO_LR_DSL,
    HOST,
    LR_SETTINGS,
    ROLES,
    v2_job,
)
from tracking_calls import PARTIES, assert_refused, cpn, parse_cell, read_archive, run_job, track

PREDICTION_HEADER = ["id", "label", "predict_result", "predict_score", "predict_detail", "type"]


async def check_data_view(api: FlowApi, job_id: str) -> None:
    """2.11: partners, datasets and roles for the initiator and the other parties."""
    initiator = await track(api, "job/data_view", job_id)
    assert initiator == {
        "retcode": 0,
        "retmsg": "success",
        "data": {
            "partner": {"host": [HOST], "arbiter": [ARBITER]},
            "dataset": {
                "guest": {str(GUEST): {"train_data": "experiment.breast_hetero_guest"}},
                "host": {str(HOST): {"train_data": "experiment.breast_hetero_host"}},
            },
            "roles": ROLES,
            "model_summary": {},
        },
    }
    assert await track(api, "job/data_view", job_id, "guest") == initiator

    host = (await track(api, "job/data_view", job_id, "host"))["data"]
    assert host["partner"] == {"guest": [GUEST], "arbiter": [ARBITER]}
    assert host["roles"] == {"host": [HOST]}
    assert host["dataset"] == {"host": {str(HOST): {"train_data": "experiment.breast_hetero_host"}}}
    arbiter = (await track(api, "job/data_view", job_id, "arbiter"))["data"]
    assert arbiter["partner"] == {"guest": [GUEST], "host": [HOST]}
    assert arbiter["roles"] == {"arbiter": [ARBITER]}
    assert arbiter["dataset"] == {}


async def check_metrics(api: FlowApi, job_id: str) -> None:
    """2.12-2.14: names, every metric, one metric by either spelling, and no data."""
    names = await cpn(api, "metrics", job_id, "hetero_lr_0", "arbiter")
    assert names == {"retcode": 0, "retmsg": "success", "data": {"train": ["loss"]}}

    everything = await cpn(api, "metric/all", job_id, "hetero_lr_0", "arbiter")
    loss = everything["data"]["train"]["loss"]
    assert set(everything["data"]) == {"train"} and set(loss) == {"data", "meta"}
    assert loss["meta"] == {
        "name": "train",
        "metric_type": "LOSS",
        "unit_name": "iters",
        "curve_name": "loss",
    }
    assert [key for key, _ in loss["data"]] == list(range(len(loss["data"])))
    assert all(isinstance(value, float) for _, value in loss["data"])

    for field in ("metric_name", "meric_name"):
        one = await cpn(
            api, "metric_data", job_id, "hetero_lr_0", "arbiter", metric_namespace="train",
            **{field: "loss"},
        )  # fmt: skip
        assert one == {"retcode": 0, "retmsg": "success", **loss}

    evaluation = (await cpn(api, "metrics", job_id, "evaluation_0", "guest"))["data"]
    assert set(evaluation) == {"train"}
    assert {"hetero_lr_0", "hetero_lr_0_roc", "hetero_lr_0_ks_fpr"} <= set(evaluation["train"])
    roc = await cpn(
        api, "metric_data", job_id, "evaluation_0", "guest", metric_namespace="train",
        metric_name="hetero_lr_0_roc",
    )  # fmt: skip
    assert roc["meta"]["metric_type"] == "ROC_EVALUATION" and roc["meta"]["name"]
    fpr = [key for key, _ in roc["data"]]
    assert fpr == sorted(fpr) and len(fpr) > 10
    summary = await cpn(
        api, "metric_data", job_id, "evaluation_0", "guest", metric_namespace="train",
        metric_name="hetero_lr_0",
    )  # fmt: skip
    assert [key for key, _ in summary["data"]] == sorted(key for key, _ in summary["data"])
    assert dict(summary["data"])["auc"] >= 0.98

    # FATE answers a metric that does not exist with retcode 0, empty data and a null meta.
    missing = await cpn(
        api, "metric_data", job_id, "hetero_lr_0", "arbiter", metric_namespace="train",
        metric_name="auc",
    )  # fmt: skip
    assert missing == {
        "retcode": 0,
        "retmsg": "no data",
        "data": [],
        "meta": {"name": None, "metric_type": None},
    }
    no_name = await cpn(
        api, "metric_data", job_id, "hetero_lr_0", "arbiter", metric_namespace="train"
    )
    assert_refused(no_name, "metric_name")
    # A component without metrics on this party: FATE's "no data".
    for path in ("metrics", "metric/all"):
        empty = await cpn(api, path, job_id, "evaluation_0", "host")
        assert empty == {"retcode": 0, "retmsg": "no data", "data": {}}


async def check_parameters(api: FlowApi, job_id: str) -> None:
    """2.15: merged parameters under FATE's class names; a role without the component."""
    lr = await cpn(api, "parameters", job_id, "hetero_lr_0", "guest")
    assert lr["retcode"] == 0 and set(lr["data"]) == {"module", "HeteroLogisticParam"}
    assert lr["data"]["module"] == "HeteroLR"
    params = lr["data"]["HeteroLogisticParam"]
    for key, value in LR_SETTINGS.items():
        if key != "init_param":
            assert params[key] == value, key
    # The conf's init_param merged into the defaults; untouched parameters keep FATE's defaults.
    assert params["init_param"] == {
        "init_method": "random_uniform",
        "init_const": 1,
        "fit_intercept": True,
        "random_seed": 11,
    }
    assert params["encrypt_param"] == {"method": "Paillier", "key_length": 1024}
    assert params["need_run"] is True and params["decay"] == 1

    dataio = (await cpn(api, "parameters", job_id, "dataio_0", "guest"))["data"]
    assert dataio["module"] == "DataIO"
    assert dataio["DataIOParam"]["with_label"] is True
    assert dataio["DataIOParam"]["label_name"] == "y"
    host = (await cpn(api, "parameters", job_id, "dataio_0", "host"))["data"]
    assert host["DataIOParam"]["with_label"] is False
    intersect = (await cpn(api, "parameters", job_id, "intersection_0", "host"))["data"]
    assert intersect["IntersectParam"]["intersect_method"] == "rsa"
    evaluation = (await cpn(api, "parameters", job_id, "evaluation_0", "host"))["data"]
    assert evaluation["EvaluateParam"]["need_run"] is False

    # DataIO has no arbiter task: FATE's retcode 0 without data.
    none = await cpn(api, "parameters", job_id, "dataio_0", "arbiter")
    assert none == {"retcode": 0, "retmsg": "can not found this component parameters"}


async def check_output_model(api: FlowApi, job_id: str) -> None:
    """2.16: Param as data, Meta and module name as meta; no model is no data."""
    for role, features in (("guest", 10), ("host", 20)):
        model = await cpn(api, "output/model", job_id, "hetero_lr_0", role)
        assert model["retcode"] == 0 and set(model) == {"retcode", "retmsg", "data", "meta"}
        assert len(model["data"]["weight"]) == features
        assert set(model["meta"]) == {"meta_data", "module_name"}
        assert model["meta"]["module_name"] == "HeteroLR"
        assert isinstance(model["meta"]["meta_data"], dict) and model["meta"]["meta_data"]
    dataio = await cpn(api, "output/model", job_id, "dataio_0", "guest")
    assert dataio["meta"]["module_name"] == "DataIO" and dataio["data"]
    # Intersection keeps no model: FATE's "no data".
    none = await cpn(api, "output/model", job_id, "intersection_0", "guest")
    assert none == {"retcode": 0, "retmsg": "no data", "data": {}}


async def check_output_data(api: FlowApi, job_id: str) -> list[list[Any]]:
    """Check the preview and the table list; return every guest prediction row."""
    preview = await cpn(api, "output/data", job_id, "hetero_lr_0", "guest")
    assert set(preview) == {"retcode", "retmsg", "data", "meta"} and preview["retcode"] == 0
    assert preview["meta"] == {"header": PREDICTION_HEADER, "total": 569}
    rows = preview["data"]
    assert len(rows) == 100 and all(len(row) == 6 for row in rows)
    for row_id, label, result, score, detail, kind in rows:
        assert isinstance(row_id, str) and label in (0, 1) and result in (0, 1)
        assert set(detail) == {"0", "1"} and abs(detail["1"] - score) < 1e-12
        assert abs(detail["0"] + detail["1"] - 1) < 1e-12 and kind == "train"

    five = await cpn(api, "output/data", job_id, "hetero_lr_0", "guest", limit=5)
    assert five["data"] == rows[:5] and five["meta"]["total"] == 569
    every = await cpn(api, "output/data", job_id, "hetero_lr_0", "guest", limit=1000)
    assert len(every["data"]) == 569 and every["data"][:100] == rows
    assert_refused(await cpn(api, "output/data", job_id, "hetero_lr_0", "guest", limit=0), "limit")

    dataio = await cpn(api, "output/data", job_id, "dataio_0", "host")
    assert dataio["meta"]["total"] == 569 and dataio["meta"]["header"][0] == "id"
    assert len(dataio["meta"]["header"]) == 21 and len(dataio["data"][0]) == 21
    # The arbiter keeps no data: FATE's "no data".
    none = await cpn(api, "output/data", job_id, "hetero_lr_0", "arbiter")
    assert none == {"retcode": 0, "retmsg": "no data", "data": []}

    listed = await cpn(api, "output/data/table", job_id, "hetero_lr_0", "guest")
    assert listed["retcode"] == 0
    (table,) = listed["data"]
    assert set(table) == {"table_name", "table_namespace", "data_name"}
    assert table["data_name"] == "train" and table["table_name"] == "train"
    info = await api.post(
        "table/table_info",
        {"namespace": table["table_namespace"], "table_name": table["table_name"]},
    )
    assert info["data"]["count"] == 569
    empty = await cpn(api, "output/data/table", job_id, "hetero_lr_0", "arbiter")
    assert empty == {"retcode": 0, "retmsg": "no data", "data": []}
    return list(every["data"])


async def check_download(api: FlowApi, job_id: str, rows: list[list[Any]], folder: Path) -> None:
    """6.5: every row in <name>.csv at the root, FATE 1.4's files beside; HTTP 210 errors."""
    body = {
        "job_id": job_id,
        "component_name": "hetero_lr_0",
        "role": "guest",
        "party_id": GUEST,
        "output_path": "/tmp/ignored",
        "limit": -1,
    }
    path = "tracking/component/output/data/download"
    # FATE's clients send a GET with a JSON body.
    response = await api.raw(path, json.dumps(body), method="GET")
    assert response.code == 200, response.body
    assert response.headers["Content-Type"] == "application/gzip"
    name = f"job_{job_id}_hetero_lr_0_guest_{GUEST}_output_data.tar.gz"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    files = read_archive(response.body)
    assert set(files) == {
        "train.csv",
        "train.meta",
        "fate_flow_1.4/output_data.csv",
        "fate_flow_1.4/output_data_meta.json",
    }
    # FATE's pipeline counts the .csv files at the root: one output, one file.
    assert [name for name in files if "/" not in name and name.endswith("csv")] == ["train.csv"]
    assert json.loads(files["train.meta"]) == {"header": PREDICTION_HEADER}
    assert json.loads(files["fate_flow_1.4/output_data_meta.json"]) == {"header": PREDICTION_HEADER}
    assert files["fate_flow_1.4/output_data.csv"] == files["train.csv"]
    # Extracted as FATE's clients do: the 1.4 file is a hard link to the root's CSV.
    with tarfile.open(fileobj=io.BytesIO(response.body), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
    assert sorted(path.name for path in folder.iterdir()) == [
        "fate_flow_1.4",
        "train.csv",
        "train.meta",
    ]
    assert (folder / "fate_flow_1.4" / "output_data.csv").read_bytes() == files["train.csv"]

    text = files["train.csv"].decode()
    lines = text.splitlines()
    assert lines[0] == ",".join(PREDICTION_HEADER) and len(lines) == 570
    # predict_detail is JSON in CSV quoting, never a Python repr.
    assert '"{""0"": ' in lines[1] and "'" not in text
    records = list(csv.reader(io.StringIO(text)))
    parsed = [[fields[0], *map(parse_cell, fields[1:])] for fields in records[1:]]
    assert len(parsed) == 569 and parsed == rows

    posted = await api.raw(path, json.dumps(body))
    assert posted.code == 200 and read_archive(posted.body)["train.csv"] == files["train.csv"]
    first = await api.raw(path, json.dumps({**body, "limit": 3, "head": 0}))
    assert read_archive(first.body)["train.csv"].decode().splitlines() == lines[1:4]

    # Errors of file endpoints: HTTP 210 with the envelope, which FATE's clients expect.
    for wrong, words in (
        ({"limit": 0}, ("limit",)),
        ({"role": "arbiter", "party_id": ARBITER}, ("no output data",)),
        ({"job_id": "20200101000000000000000"}, ("20200101000000000000000",)),
        ({"component_name": "hetero_lr_9"}, ("hetero_lr_9",)),
    ):
        failed = await api.raw(path, json.dumps({**body, **wrong}), method="GET")
        assert failed.code == 210, failed.body
        assert failed.headers["Content-Type"] == "application/json"
        assert_refused(json.loads(failed.body), *words)


async def check_summary(api: FlowApi, job_id: str) -> None:
    """The summary as data and as a file; no summary is HTTP 210."""
    loss = (await cpn(api, "metric/all", job_id, "hetero_lr_0", "arbiter"))["data"]
    arbiter = await cpn(api, "summary/download", job_id, "hetero_lr_0", "arbiter")
    assert arbiter["retcode"] == 0 and set(arbiter) == {"retcode", "retmsg", "data"}
    assert arbiter["data"]["loss_history"] == [value for _, value in loss["train"]["loss"]["data"]]
    guest = await cpn(api, "summary/download", job_id, "hetero_lr_0", "guest")
    assert set(guest["data"]) >= {"iters", "is_converged"}

    # FATE's CLI asks for the summary as a file.
    path = "tracking/component/summary/download"
    body = {"job_id": job_id, "component_name": "hetero_lr_0", "role": "guest", "party_id": GUEST}
    response = await api.raw(path, json.dumps({**body, "filename": "../lr summary.json"}))
    assert response.code == 200
    disposition = 'attachment; filename="lr_summary.json"'
    assert response.headers["Content-Disposition"] == disposition
    assert json.loads(response.body) == guest["data"]

    # No summary: FATE's HTTP 210 with the envelope, which its pipeline turns into {}.
    for component, role, words in (
        ("dataio_0", "arbiter", ("does not run on arbiter",)),
        ("evaluation_0", "arbiter", ("no summary of evaluation_0",)),
        ("hetero_lr_9", "guest", ("hetero_lr_9",)),
    ):
        failed = await api.raw(
            path,
            json.dumps(
                {**body, "component_name": component, "role": role, "party_id": PARTIES[role]}
            ),
        )
        assert failed.code == 210, failed.body
        assert_refused(json.loads(failed.body), *words)


async def check_errors(api: FlowApi, job_id: str) -> None:
    """Unknown job, party or component and missing arguments: retcode 101, clear retmsg."""
    component_paths = [
        "component/metrics",
        "component/metric/all",
        "component/metric_data",
        "component/parameters",
        "component/output/model",
        "component/output/data",
        "component/output/data/table",
    ]
    base = {"component_name": "hetero_lr_0", "metric_namespace": "train", "metric_name": "loss"}
    for path in ["job/data_view", *component_paths]:
        unknown = await api.post(f"tracking/{path}", {**base, "job_id": "20200101000000000000000"})
        assert_refused(unknown, "no job", "20200101000000000000000")
        assert_refused(await api.post(f"tracking/{path}", base), "job_id")
        half = await api.post(f"tracking/{path}", {**base, "job_id": job_id, "role": "host"})
        assert_refused(half, "role and party_id together")
        stranger = {**base, "job_id": job_id, "role": "host", "party_id": 12345}
        assert_refused(await api.post(f"tracking/{path}", stranger), "no party host 12345")
    for path in component_paths:
        wrong = {**base, "job_id": job_id, "component_name": "hetero_lr_9"}
        assert_refused(await api.post(f"tracking/{path}", wrong), "no component 'hetero_lr_9'")
        missing = {key: value for key, value in base.items() if key != "component_name"}
        assert_refused(await api.post(f"tracking/{path}", {**missing, "job_id": job_id}))


async def test_tracking_of_the_hetero_lr_job(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path, tmp_path: Path
) -> None:
    job = {
        "job_dsl": copy.deepcopy(HETERO_LR_DSL),
        "job_runtime_conf": copy.deepcopy(HETERO_LR_CONF),
    }
    job_id = await run_job(flow_api, job, breast_guest, breast_host)

    await check_data_view(flow_api, job_id)
    await check_metrics(flow_api, job_id)
    await check_parameters(flow_api, job_id)
    await check_output_model(flow_api, job_id)
    rows = await check_output_data(flow_api, job_id)
    await check_download(flow_api, job_id, rows, tmp_path / "download")
    await check_summary(flow_api, job_id)
    await check_errors(flow_api, job_id)


async def test_tracking_of_a_dsl_v2_job(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    job_id = await run_job(flow_api, v2_job(), breast_guest, breast_host)

    # DSL v2: each party's table is its Reader's, keyed by the Reader's name.
    view = (await track(flow_api, "job/data_view", job_id))["data"]
    assert view["dataset"] == {
        "guest": {str(GUEST): {"reader_0": "experiment.breast_hetero_guest"}},
        "host": {str(HOST): {"reader_0": "experiment.breast_hetero_host"}},
    }
    assert view["roles"] == ROLES and view["partner"] == {"host": [HOST], "arbiter": [ARBITER]}

    # component_parameters.common and .role merged over FeatureScale's defaults.
    scale = (await cpn(flow_api, "parameters", job_id, "feature_scale_0", "host"))["data"]
    assert scale["module"] == "FeatureScale"
    assert scale["FeatureScaleParam"]["method"] == "standard_scale"
    reader = (await cpn(flow_api, "parameters", job_id, "reader_0", "guest"))["data"]
    table = {"name": "breast_hetero_guest", "namespace": "experiment"}
    assert reader == {"module": "Reader", "ReaderParam": {"need_run": True, "table": table}}

    # The output data name of DSL v2 is "data", the name FATE's pipeline reads.
    preview = await cpn(flow_api, "output/data", job_id, "feature_scale_0", "guest")
    assert preview["meta"]["total"] == 569 and preview["meta"]["header"][:2] == ["id", "y"]
    response = await flow_api.raw(
        "tracking/component/output/data/download",
        json.dumps({"job_id": job_id, "component_name": "feature_scale_0"}),
        method="GET",
    )
    assert response.code == 200, response.body
    files = read_archive(response.body)
    assert {"data.csv", "data.meta"} <= set(files)
    lines = files["data.csv"].decode().splitlines()
    assert lines[0].split(",") == preview["meta"]["header"] and len(lines) == 570
    records = list(csv.reader(io.StringIO(files["data.csv"].decode())))[1:101]
    assert [[row[0], *map(parse_cell, row[1:])] for row in records] == preview["data"]

    listed = (await cpn(flow_api, "output/data/table", job_id, "reader_0", "host"))["data"]
    assert [item["data_name"] for item in listed] == ["data"]
    scale_model = await cpn(flow_api, "output/model", job_id, "feature_scale_0", "guest")
    assert scale_model["meta"]["module_name"] == "FeatureScale"
