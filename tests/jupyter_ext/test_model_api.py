"""The model registry after real hetero-LR jobs: versions, load, bind, transfer, deploy and the
predict DSL, in FATE's shapes, with every refusal naming what to change."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

from flow_api import FlowApi
from job_confs import ARBITER, GUEST, HETERO_LR_CONF, HETERO_LR_DSL, HOST, ROLES


async def _train(flow_api: FlowApi, max_iter: int = 3) -> dict[str, Any]:
    conf = copy.deepcopy(HETERO_LR_CONF)
    conf["algorithm_parameters"]["hetero_lr_0"]["max_iter"] = max_iter
    reply = await flow_api.post(
        "job/submit", {"job_dsl": copy.deepcopy(HETERO_LR_DSL), "job_runtime_conf": conf}
    )
    assert (await flow_api.wait_job(reply["jobId"], limit_s=300))["f_status"] == "success"
    return reply


def _publish_conf(model_info: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "initiator": {"party_id": str(GUEST), "role": "guest"},
        "role": {role: [str(p) for p in parties] for role, parties in ROLES.items()},
        "job_parameters": {"work_mode": 0, **model_info},
        **extra,
    }


async def test_versions_list_every_training_job_of_a_party_newest_first(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    first = await _train(flow_api)
    second = await _train(flow_api)
    model_id = first["data"]["model_info"]["model_id"]

    guest = await flow_api.post("model/version", {"namespace": f"guest#{GUEST}#{model_id}"})
    arbiter = await flow_api.post("model/version", {"namespace": f"arbiter#{ARBITER}#{model_id}"})
    unknown = await flow_api.post("model/version", {"namespace": "guest#1#nothing#model"})
    bare = await flow_api.post("model/version", {})

    assert model_id == f"arbiter-{ARBITER}#guest-{GUEST}#host-{HOST}#model"
    assert guest["retcode"] == 0, guest
    assert [entry["commitId"] for entry in guest["data"]] == [second["jobId"], first["jobId"]]
    newest = guest["data"][0]
    assert set(newest) == {"commitId", "parent", "name", "namespace", "log", "tag"}
    assert newest["parent"] == first["jobId"]
    assert newest["name"] == second["jobId"]
    assert newest["namespace"] == f"guest#{GUEST}#{model_id}"
    assert newest["log"].startswith("[AUTO] save model at ")
    assert newest["tag"] is None
    assert guest["data"][1]["parent"] is None
    assert [entry["name"] for entry in arbiter["data"]] == [second["jobId"], first["jobId"]]
    assert unknown["retcode"] == 101
    assert "no model under party model id 'guest#1#nothing#model'" in unknown["retmsg"]
    assert bare == {"retcode": 101, "retmsg": "missing required arguments: namespace"}


async def test_load_bind_and_transfer_answer_fate_shapes(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    trained = await _train(flow_api)
    info = trained["data"]["model_info"]
    version = info["model_version"]

    unloaded_bind = await flow_api.post("model/bind", _publish_conf(info, service_id="svc"))
    loaded = await flow_api.post("model/load", _publish_conf(info))
    by_job = await flow_api.post("model/load", {"job_id": version})
    missing = await flow_api.post("model/load", _publish_conf({**info, "model_version": "123"}))
    no_service = await flow_api.post("model/bind", _publish_conf(info))
    bound = await flow_api.post("model/bind", _publish_conf(info, service_id="svc"))

    assert "is not loaded; call /v1/model/load" in unloaded_bind["retmsg"]
    assert loaded["retcode"] == 0, loaded
    assert loaded["data"] == {
        "guest": {str(GUEST): 0},
        "host": {str(HOST): 0},
        "detail": {
            "guest": {str(GUEST): {"retcode": 0, "retmsg": "success"}},
            "host": {str(HOST): {"retcode": 0, "retmsg": "success"}},
        },
    }
    # A job id as FATE forms them: the time to microseconds and a counter of varying width.
    assert loaded["jobId"].isdigit() and 21 <= len(loaded["jobId"]) <= 25
    assert by_job["data"] == loaded["data"]
    assert missing["retcode"] == 101
    assert "model version 123 does not exist for guest#9999#" in missing["retmsg"]
    assert missing["data"]["guest"] == {str(GUEST): 100}
    assert no_service["retcode"] == 101
    assert "no service id" in no_service["retmsg"]
    assert bound == {"retcode": 0, "retmsg": "service id is svc"}

    namespace = f"guest#{GUEST}#{info['model_id']}"
    buffers = await flow_api.post("model/transfer", {"name": version, "namespace": namespace})
    host_buffers = await flow_api.post(
        "model/transfer", {"name": version, "namespace": f"host#{HOST}#{info['model_id']}"}
    )
    unknown = await flow_api.post("model/transfer", {"name": "1", "namespace": namespace})

    assert sorted(buffers["data"]) == [
        "dataio_0.dataio:DataIOMeta",
        "dataio_0.dataio:DataIOParam",
        "hetero_lr_0.hetero_lr:HeteroLogisticRegressionMeta",
        "hetero_lr_0.hetero_lr:HeteroLogisticRegressionParam",
        "pipeline.pipeline:Pipeline",
    ]
    decoded = {k: json.loads(base64.b64decode(v)) for k, v in buffers["data"].items()}
    host_param = json.loads(
        base64.b64decode(
            host_buffers["data"]["hetero_lr_0.hetero_lr:HeteroLogisticRegressionParam"]
        )
    )
    guest_param = decoded["hetero_lr_0.hetero_lr:HeteroLogisticRegressionParam"]
    assert guest_param["header"] == [f"x{i}" for i in range(10)]
    assert host_param["header"] == [f"x{i}" for i in range(20)]
    assert guest_param["iters"] == 3
    assert decoded["dataio_0.dataio:DataIOMeta"]["withLabel"] is True
    pipeline = decoded["pipeline.pipeline:Pipeline"]
    assert pipeline["train_dsl"] == HETERO_LR_DSL
    assert pipeline["model_version"] == version
    assert sorted(pipeline["inference_dsl"]["components"]) == [
        "dataio_0",
        "hetero_lr_0",
        "intersection_0",
    ]
    assert pipeline["train_runtime_conf"]["job_parameters"]["model_id"] == info["model_id"]
    assert unknown["retcode"] == 101
    assert "no model version '1' under party model id" in unknown["retmsg"]


async def test_deploy_sets_the_predict_dsl_that_get_predict_dsl_answers(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    trained = await _train(flow_api)
    info = trained["data"]["model_info"]

    before = await flow_api.post("model/get/predict/dsl", info)
    deployed = await flow_api.post(
        "model/deploy", {**info, "cpn_list": ["dataio_0", "intersection_0", "hetero_lr_0"]}
    )
    after = await flow_api.post("model/get/predict/dsl", info)
    unknown_cpn = await flow_api.post("model/deploy", {**info, "cpn_list": ["lr_9"]})
    nothing = await flow_api.post("model/deploy", info)
    unknown_model = await flow_api.post("model/get/predict/dsl", {**info, "model_version": "2020"})

    assert before["retcode"] == 0
    assert "evaluation_0" not in before["data"]["components"]
    assert deployed["retcode"] == 0, deployed
    assert deployed["data"]["model_id"] == info["model_id"]
    assert deployed["data"]["model_version"] == info["model_version"]
    components = after["data"]["components"]
    assert sorted(components) == ["dataio_0", "hetero_lr_0", "intersection_0"]
    assert components["hetero_lr_0"]["input"] == {
        "data": {"test_data": ["intersection_0.train"]},
        "model": ["pipeline.hetero_lr_0.hetero_lr"],
    }
    assert components["dataio_0"]["input"] == {
        "data": {"data": ["args.train_data"]},
        "model": ["pipeline.dataio_0.dataio"],
    }
    assert unknown_cpn["retcode"] == 101
    assert "cpn_list names ['lr_9']" in unknown_cpn["retmsg"]
    assert "give cpn_list" in nothing["retmsg"]
    assert unknown_model["retcode"] == 101
    assert "no model version 2020" in unknown_model["retmsg"]


async def test_deploy_rewires_left_out_components_and_refuses_unusable_dsls(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    """A component left out passes its inputs on; a DSL a predict job cannot run is refused."""
    await flow_api.upload_breast(breast_guest, breast_host)
    info = (await _train(flow_api, max_iter=2))["data"]["model_info"]

    skipped = await flow_api.post("model/deploy", {**info, "cpn_list": ["dataio_0", "hetero_lr_0"]})
    assert skipped["retcode"] == 0, skipped
    lr = skipped["data"]["predict_dsl"]["components"]["hetero_lr_0"]
    assert lr["input"]["data"] == {"test_data": ["dataio_0.train"]}

    refusals = {
        "no components": {"predict_dsl": {"components": {}}},
        "unknown module 'Nope'": {"predict_dsl": {"components": {"a_0": {"module": "Nope"}}}},
        "no data input": {"cpn_list": ["hetero_lr_0"]},
        "evaluation": {"cpn_list": ["evaluation_0"]},
    }
    for words, body in refusals.items():
        reply = await flow_api.post("model/deploy", {**info, **body})
        assert reply["retcode"] == 101, (words, reply)
        if words != "evaluation":
            assert words in reply["retmsg"], reply
    kept = await flow_api.post("model/get/predict/dsl", info)
    assert kept["data"] == skipped["data"]["predict_dsl"]


async def test_binding_a_service_again_scores_with_the_new_version(
    flow_api: FlowApi, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    first = (await _train(flow_api, max_iter=2))["data"]["model_info"]
    second = (await _train(flow_api, max_iter=4))["data"]["model_info"]
    row = {"id": "133", **{f"x{i}": 0.1 * i for i in range(10)}}

    versions = []
    for info in (first, second):
        assert (await flow_api.post("model/load", _publish_conf(info)))["retcode"] == 0
        bound = await flow_api.post("model/bind", _publish_conf(info, service_id="svc"))
        assert bound["retcode"] == 0, bound
        scored = await flow_api.post("serving/predict", {"service_id": "svc", "feature_data": row})
        assert scored["retcode"] == 0, scored
        versions.append(scored["data"])

    assert [v["model_version"] for v in versions] == [
        first["model_version"],
        second["model_version"],
    ]
    scores = [v["predictions"][0]["predict_score"] for v in versions]
    assert scores[0] != scores[1]
