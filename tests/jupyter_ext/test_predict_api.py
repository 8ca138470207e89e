"""Predict jobs: a trained hetero-LR model scores data again, in DSL v1 (the inference DSL is
derived from the training job) and DSL v2 (the user's DSL with pipeline model inputs)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flow_api import FlowApi
from job_confs import GUEST, GUEST_TABLE, HETERO_LR_CONF, HETERO_LR_DSL, HOST_TABLE, ROLES

from fate_nb.flow import storage, tables, tracking


async def _train(flow_api: FlowApi) -> dict[str, Any]:
    conf = copy.deepcopy(HETERO_LR_CONF)
    conf["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = 5
    reply = await flow_api.post(
        "job/submit", {"job_dsl": copy.deepcopy(HETERO_LR_DSL), "job_runtime_conf": conf}
    )
    assert (await flow_api.wait_job(reply["jobId"], limit_s=300))["f_status"] == "success"
    return reply


def _scores(jp_serverapp: Any, job_id: str, data_name: str) -> pd.DataFrame:
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    output = tracking.output_table(
        flow.engine, job_id, "hetero_lr_0", "guest", str(GUEST), data_name
    )
    frame = storage.read_table(tables.table_dir(flow.config, output)).to_pandas()
    return frame.set_index(frame.columns[0]).sort_index()


def _predict_conf(model_info: dict[str, str], v2: bool = False) -> dict[str, Any]:
    parameters = {"work_mode": 0, "job_type": "predict", **model_info}
    conf: dict[str, Any] = {
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": copy.deepcopy(ROLES),
        "job_parameters": {"common": parameters} if v2 else parameters,
    }
    if v2:
        conf["dsl_version"] = 2
        conf["component_parameters"] = {
            "role": {
                "guest": {"0": {"reader_0": {"table": GUEST_TABLE}}},
                "host": {"0": {"reader_0": {"table": HOST_TABLE}}},
            }
        }
    else:
        conf["role_parameters"] = {
            "guest": {"args": {"data": {"eval_data": [GUEST_TABLE]}}},
            "host": {"args": {"data": {"eval_data": [HOST_TABLE]}}},
        }
    return conf


async def test_v1_predict_derives_the_inference_dsl_and_scores_as_training_did(
    flow_api: FlowApi, jp_serverapp: Any, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    trained = await _train(flow_api)

    reply = await flow_api.post(
        "job/submit",
        {"job_dsl": {}, "job_runtime_conf": _predict_conf(trained["data"]["model_info"])},
    )

    assert reply["retcode"] == 0, reply
    assert reply["data"]["model_info"] == trained["data"]["model_info"]
    assert (await flow_api.wait_job(reply["jobId"], limit_s=300))["f_status"] == "success"
    config = (await flow_api.post("job/config", {"job_id": reply["jobId"]}))["data"]
    assert sorted(config["dsl"]["components"]) == ["dataio_0", "hetero_lr_0", "intersection_0"]
    assert config["dsl"]["components"]["hetero_lr_0"]["input"] == {
        "data": {"eval_data": ["intersection_0.train"]},
        "model": ["pipeline.hetero_lr_0.hetero_lr"],
    }
    assert config["train_runtime_conf"]["job_parameters"]["model_version"] == trained["jobId"]

    predicted = _scores(jp_serverapp, reply["jobId"], "train")
    training = _scores(jp_serverapp, trained["jobId"], "train")
    assert len(predicted) == 569
    assert set(predicted["type"]) == {"predict"}
    np.testing.assert_allclose(predicted["predict_score"], training["predict_score"], rtol=1e-12)
    assert list(predicted["label"]) == list(training["label"])


async def test_v2_predict_runs_the_given_dsl_with_pipeline_models(
    flow_api: FlowApi, jp_serverapp: Any, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    trained = await _train(flow_api)
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "dataio_0": {
                "module": "DataIO",
                "input": {
                    "data": {"data": ["reader_0.data"]},
                    "model": ["pipeline.dataio_0.dataio"],
                },
                "output": {"data": ["data"]},
            },
            "hetero_lr_0": {
                "module": "HeteroLR",
                "input": {
                    "data": {"test_data": ["dataio_0.data"]},
                    "model": ["pipeline.hetero_lr_0.hetero_lr"],
                },
                "output": {"data": ["data"]},
            },
        }
    }

    reply = await flow_api.post(
        "job/submit",
        {"job_dsl": dsl, "job_runtime_conf": _predict_conf(trained["data"]["model_info"], True)},
    )

    assert reply["retcode"] == 0, reply
    assert (await flow_api.wait_job(reply["jobId"], limit_s=300))["f_status"] == "success"
    predicted = _scores(jp_serverapp, reply["jobId"], "data")
    training = _scores(jp_serverapp, trained["jobId"], "train")
    np.testing.assert_allclose(predicted["predict_score"], training["predict_score"], rtol=1e-12)


async def test_predict_refusals_name_the_model(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    trained = await _train(flow_api)
    info = trained["data"]["model_info"]

    missing = await flow_api.post(
        "job/submit",
        {"job_dsl": {}, "job_runtime_conf": _predict_conf({**info, "model_version": "1"})},
    )
    wrong = await flow_api.post(
        "job/submit",
        {"job_dsl": {}, "job_runtime_conf": _predict_conf({**info, "model_id": "guest-1#model"})},
    )
    bare = await flow_api.post("job/submit", {"job_dsl": {}, "job_runtime_conf": _predict_conf({})})

    assert missing["retmsg"] == "no trained model version 1: no such job; train it first"
    assert f"job {trained['jobId']} trained model" in wrong["retmsg"]
    assert "needs job_parameters.model_id and model_version" in bare["retmsg"]
