"""Online scoring: train, load and bind a hetero-LR model (with FeatureScale), restart the
server, and score new rows through /v1/serving/predict; the scores are a predict job's."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from csv_files import DATA_DIR
from job_confs import GUEST, GUEST_TABLE, HETERO_LR_CONF, HETERO_LR_DSL, HOST, HOST_TABLE, ROLES
from sync_flow import END_STATUSES, post, upload, wait

from fate_nb.launch import start_server

SERVICE = "breast-lr"


def _scaled_lr_job() -> dict[str, Any]:
    """FATE's hetero-LR job with FeatureScale between DataIO and Intersection."""
    dsl = copy.deepcopy(HETERO_LR_DSL)
    dsl["components"]["feature_scale_0"] = {
        "module": "FeatureScale",
        "input": {"data": {"data": ["dataio_0.train"]}},
        "output": {"data": ["train"], "model": ["scale"]},
    }
    dsl["components"]["intersection_0"]["input"]["data"]["data"] = ["feature_scale_0.train"]
    conf = copy.deepcopy(HETERO_LR_CONF)
    conf["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = 5
    conf["algorithm_parameters"]["feature_scale_0"] = {"method": "min_max_scale"}
    return {"job_dsl": dsl, "job_runtime_conf": conf}


def _predict_job(model_info: dict[str, str]) -> dict[str, Any]:
    conf = {
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": copy.deepcopy(ROLES),
        "job_parameters": {"work_mode": 0, "job_type": "predict", **model_info},
        "role_parameters": {
            "guest": {"args": {"data": {"eval_data": [GUEST_TABLE]}}},
            "host": {"args": {"data": {"eval_data": [HOST_TABLE]}}},
        },
    }
    return {"job_dsl": {}, "job_runtime_conf": conf}


def _predict_job_scores(client: httpx.Client, job_id: str) -> pd.DataFrame:
    reply = post(
        client,
        "tracking/component/output/data",
        {
            "job_id": job_id,
            "component_name": "hetero_lr_0",
            "role": "guest",
            "party_id": GUEST,
            "limit": 1000,
        },
    )
    assert reply["retcode"] == 0, reply
    frame = pd.DataFrame(reply["data"], columns=reply["meta"]["header"])
    return frame.set_index(frame.columns[0])


def _train_load_bind(client: httpx.Client) -> dict[str, str]:
    upload(client, "breast_hetero_guest.csv", GUEST_TABLE)
    upload(client, "breast_hetero_host.csv", HOST_TABLE)
    trained = post(client, "job/submit", _scaled_lr_job())
    assert wait(client, trained["jobId"], END_STATUSES, 300)["f_status"] == "success"
    info = trained["data"]["model_info"]
    loaded = post(client, "model/load", {"job_id": info["model_version"]})
    assert loaded["retcode"] == 0, loaded
    bound = post(
        client,
        "model/bind",
        {"service_id": SERVICE, "job_parameters": dict(info), "initiator": {"role": "guest"}},
    )
    assert bound == {"retcode": 0, "retmsg": f"service id is {SERVICE}"}, bound
    return info


def test_a_bound_service_scores_new_rows_after_a_restart_as_a_predict_job_does(
    tmp_path: Path,
) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    for name in ("breast_hetero_guest.csv", "breast_hetero_host.csv"):
        shutil.copy(DATA_DIR / name, root)
    guest_rows = pd.read_csv(root / "breast_hetero_guest.csv")
    new_rows = guest_rows.drop(columns="y").sample(40, random_state=3)
    records = [{**row, "id": str(int(row["id"]))} for row in new_rows.to_dict("records")]

    first = start_server(root, home, tmp_path / "first.log")
    try:
        first.wait_ready()
        with first.client() as client:
            info = _train_load_bind(client)
    finally:
        first.stop()

    second = start_server(root, home, tmp_path / "second.log")
    try:
        second.wait_ready()
        with second.client() as client:
            many = post(client, "serving/predict", {"service_id": SERVICE, "feature_data": records})
            one = post(
                client, "serving/predict", {"service_id": SERVICE, "feature_data": records[0]}
            )
            predicted = post(client, "job/submit", _predict_job(info))
            assert predicted["retcode"] == 0, predicted
            assert wait(client, predicted["jobId"], END_STATUSES, 300)["f_status"] == "success"
            expected = _predict_job_scores(client, predicted["jobId"])
    finally:
        second.stop()

    assert many["retcode"] == 0, many
    assert set(many["data"]) == {"service_id", "model_id", "model_version", "predictions"}
    assert many["data"]["model_version"] == info["model_version"]
    assert many["data"]["model_id"] == info["model_id"]
    predictions = many["data"]["predictions"]
    assert [p["id"] for p in predictions] == [r["id"] for r in records]
    assert set(predictions[0]) == {"id", "predict_result", "predict_score", "predict_detail"}
    scores = np.array([p["predict_score"] for p in predictions])
    want = expected.loc[[r["id"] for r in records]]
    np.testing.assert_allclose(scores, want["predict_score"].to_numpy(dtype=float), rtol=1e-9)
    assert [p["predict_result"] for p in predictions] == want["predict_result"].tolist()
    for prediction in predictions:
        detail = prediction["predict_detail"]
        assert detail["1"] == prediction["predict_score"]
        assert abs(detail["0"] + detail["1"] - 1) < 1e-12
    assert one["data"]["predictions"] == predictions[:1]


def test_scoring_refusals_say_what_to_send(tmp_path: Path) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    for name in ("breast_hetero_guest.csv", "breast_hetero_host.csv"):
        shutil.copy(DATA_DIR / name, root)
    row = pd.read_csv(root / "breast_hetero_guest.csv").drop(columns="y").iloc[0].to_dict()
    row["id"] = str(int(row["id"]))

    server = start_server(root, home, tmp_path / "server.log")
    try:
        server.wait_ready()
        with server.client() as client:
            info = _train_load_bind(client)

            def score(body: dict[str, Any]) -> dict[str, Any]:
                return post(client, "serving/predict", body)

            no_service = score({"feature_data": row})
            unknown = score({"service_id": "nope", "feature_data": row})
            no_rows = score({"service_id": SERVICE, "feature_data": []})
            text_rows = score({"service_id": SERVICE, "feature_data": "x0=1"})
            no_id = score(
                {"service_id": SERVICE, "feature_data": {k: v for k, v in row.items() if k != "id"}}
            )
            stranger = score({"service_id": SERVICE, "feature_data": {**row, "id": "no-such-id"}})
            short = score({"service_id": SERVICE, "feature_data": {"id": row["id"], "x0": 1.0}})
            bad_value = score({"service_id": SERVICE, "feature_data": {**row, "x3": "abc"}})
            null = score({"service_id": SERVICE, "feature_data": {**row, "x2": None}})
            bind = {"service_id": "other", "job_parameters": dict(info)}
            host_bind = post(
                client, "model/bind", {**bind, "initiator": {"role": "host", "party_id": HOST}}
            )
            text_bind = post(client, "model/bind", {**bind, "initiator": "guest"})
    finally:
        server.stop()

    assert no_service == {
        "retcode": 101,
        "retmsg": "service_id missing; give the service bound by /v1/model/bind",
    }
    assert unknown["retcode"] == 101
    assert unknown["retmsg"] == "no service 'nope'; bind one with /v1/model/bind"
    assert "feature_data must be a row or a list of rows" in no_rows["retmsg"]
    assert "feature_data must be a row or a list of rows" in text_rows["retmsg"]
    assert no_id["retmsg"] == "every row needs its id under 'id', the model's id column"
    assert stranger["retcode"] == 101
    assert "host 10000 has no row with id 'no-such-id'" in stranger["retmsg"]
    assert short["retcode"] == 102
    assert "differ from the input model's" in short["retmsg"]
    assert bad_value["retcode"] == 102
    assert "column 'x3' holds 'abc'" in bad_value["retmsg"]
    # A missing feature would make the score NaN (not JSON): refused, named.
    assert null["retcode"] == 102 and "x2 must be finite numbers" in null["retmsg"], null
    # Serving takes the guest's rows: a host initiator would count the host's part twice.
    assert host_bind["retcode"] == 101 and "bind with the guest" in host_bind["retmsg"]
    assert text_bind["retcode"] == 101 and "initiator must be an object" in text_bind["retmsg"]
    answers = (no_service, unknown, no_rows, text_rows, no_id, stranger, short, bad_value, null)
    for answer in answers:
        assert "Traceback" not in answer["retmsg"]
