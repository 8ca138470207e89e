"""/v1/job/submit refuses a bad DSL or conf with a retmsg naming the culprit, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flow_api import FlowApi
from job_confs import v1_job, v2_job
from sqlmodel import func, select

from fate_nb import examples
from fate_nb.flow.store import Job, Task, session


def _cycle(job: dict[str, Any]) -> None:
    job["job_dsl"]["components"]["dataio_0"]["input"]["data"]["data"] = ["feature_scale_0.train"]


def _unknown_upstream(job: dict[str, Any]) -> None:
    job["job_dsl"]["components"]["feature_scale_0"]["input"]["data"]["data"] = ["dataio_7.train"]


def _unknown_output(job: dict[str, Any]) -> None:
    job["job_dsl"]["components"]["feature_scale_0"]["input"]["data"]["data"] = ["dataio_0.test"]


def _unknown_module(job: dict[str, Any]) -> None:
    job["job_dsl"]["components"]["feature_scale_0"]["module"] = "FeatureScaler"


def _empty_dsl(job: dict[str, Any]) -> None:
    job["job_dsl"] = {}


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def change(job: dict[str, Any]) -> None:
        del job["job_runtime_conf"][key]

    return change


def _initiator_not_listed(job: dict[str, Any]) -> None:
    job["job_runtime_conf"]["initiator"]["party_id"] = 1234


def _bad_party_id(job: dict[str, Any]) -> None:
    job["job_runtime_conf"]["role"]["host"] = ["host-a"]


def _scalar_role_parameter(job: dict[str, Any]) -> None:
    job["job_runtime_conf"]["role_parameters"]["guest"]["dataio_0"]["label_name"] = "y"


def _bad_name(job: dict[str, Any]) -> None:
    components = job["job_dsl"]["components"]
    components["scale"] = components.pop("feature_scale_0")


def _reader_in_v1(job: dict[str, Any]) -> None:
    job["job_dsl"]["components"]["reader_0"] = {"module": "Reader", "output": {"data": ["data"]}}


def _args_in_v2(job: dict[str, Any]) -> None:
    job["job_dsl"]["components"]["data_transform_0"]["input"]["data"]["data"] = ["args.train"]


def _no_input(job: dict[str, Any]) -> None:
    del job["job_dsl"]["components"]["feature_scale_0"]["input"]


def _rename(name: str) -> Callable[[dict[str, Any]], None]:
    def change(job: dict[str, Any]) -> None:
        components = job["job_dsl"]["components"]
        components[name] = components.pop("feature_scale_0")

    return change


def _conf(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(job: dict[str, Any]) -> None:
        node = job["job_runtime_conf"]
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        node[last] = value

    return change


V1_FAILURES = [
    (_rename("/tmp/elsewhere/x_0"), "component name '/tmp/elsewhere/x_0' must be <prefix>_<index>"),
    (_rename("../x_0"), "component name '../x_0' must be"),
    (_rename("feature_scale_1\n"), "component name 'feature_scale_1\\n' must be"),
    (_rename("f" * 99 + "_0"), "at most 100 characters"),
    (_conf("role.arbitre", [10000]), "role 'arbitre' is not a FATE role; use guest, host, arbiter"),
    (_conf("role.host", [-5]), "role.host[0] must be an integer party id from 0 to"),
    (_conf("role.host", [10**30]), "role.host[0] must be an integer party id from 0 to"),
    (_conf("dsl_version", 3), "dsl_version is 3; use 1 or 2"),
    (_conf("role_parameters.host.args", {}), "role_parameters.host.args.data.train_data has no"),
    (_no_input, "feature_scale_0 (FeatureScale) has no data input; give it one"),
    (_conf("algorithm_parameters.feature_scale_0", 5), "algorithm_parameters.feature_scale_0 must"),
    (_cycle, "loop (dataio_0 -> feature_scale_0 -> dataio_0)"),
    (_unknown_upstream, "unknown module input 'dataio_7.train': no component 'dataio_7'"),
    (_unknown_output, "feature_scale_0 reads 'dataio_0.test', but dataio_0 declares data outputs"),
    (_unknown_module, "feature_scale_0 has unknown module 'FeatureScaler'"),
    (_empty_dsl, "job_dsl has no components"),
    (_drop("initiator"), "job_runtime_conf is missing initiator"),
    (_drop("role"), "job_runtime_conf is missing role"),
    (_drop("job_parameters"), "job_runtime_conf is missing job_parameters"),
    (_initiator_not_listed, "initiator party id error: guest:1234 is not listed under role.guest"),
    (_bad_party_id, "role.host[0] must be an integer party id from 0 to 9223372036854775807"),
    (_scalar_role_parameter, "role_parameters.guest.dataio_0.label_name must be a list"),
    (_bad_name, "component name 'scale' must be <prefix>_<index>"),
    (_reader_in_v1, "reader_0 uses Reader, which DSL v1 lacks"),
    (_conf("role.host", [10000, 10000]), "role.host lists party 10000 more than once"),
]


def _rows(jp_serverapp: Any) -> tuple[int, int]:
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    with session(flow.engine) as db:
        jobs = db.exec(select(func.count()).select_from(Job)).one()
        tasks = db.exec(select(func.count()).select_from(Task)).one()
    return jobs, tasks


@pytest.mark.parametrize(
    ("change", "expected"), V1_FAILURES, ids=lambda v: getattr(v, "__name__", "")
)
async def test_a_bad_v1_job_is_refused_before_anything_is_written(
    flow_api: FlowApi,
    jp_serverapp: Any,
    fate_home: Path,
    change: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    job = v1_job()
    change(job)

    reply = await flow_api.post("job/submit", job)

    assert reply["retcode"] == 101, reply
    assert expected in reply["retmsg"]
    assert "jobId" not in reply
    assert _rows(jp_serverapp) == (0, 0)
    assert list((fate_home / "jobs").iterdir()) == []


async def test_args_inputs_are_refused_in_dsl_v2(flow_api: FlowApi, jp_serverapp: Any) -> None:
    job = v2_job()
    _args_in_v2(job)

    reply = await flow_api.post("job/submit", job)

    assert reply["retcode"] == 101
    assert (
        "data_transform_0 has an args.train input, which DSL v2 does not allow" in reply["retmsg"]
    )
    assert _rows(jp_serverapp) == (0, 0)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"timeout": -5}, "job_parameters.timeout is -5; give seconds, above 0"),
        ({"work_mode": 3}, "job_parameters.work_mode is 3"),
        ({"job_type": "cross_validate"}, "job_type is 'cross_validate'; use train or predict"),
        ({"task_parallelism": 0}, "job_parameters.task_parallelism is 0"),
        ({"work_mode": True}, "job_parameters.work_mode is True"),
    ],
)
async def test_bad_job_parameters_are_refused(
    flow_api: FlowApi, jp_serverapp: Any, parameters: dict[str, Any], expected: str
) -> None:
    job = v1_job()
    job["job_runtime_conf"]["job_parameters"].update(parameters)

    reply = await flow_api.post("job/submit", job)

    assert reply["retcode"] == 101
    assert expected in reply["retmsg"]
    assert _rows(jp_serverapp) == (0, 0)


async def test_a_bad_component_parameter_is_refused_at_submit(
    flow_api: FlowApi, jp_serverapp: Any
) -> None:
    job = v1_job()
    job["job_runtime_conf"]["algorithm_parameters"]["feature_scale_0"]["method"] = "log_scale"

    reply = await flow_api.post("job/submit", job)

    assert reply["retcode"] == 101
    assert "feature_scale_0 (FeatureScale) for guest party index 0.method" in reply["retmsg"]
    assert "'log_scale'" in reply["retmsg"]
    assert _rows(jp_serverapp) == (0, 0)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("arbiter", "hetero_lr_0 (HeteroLR) needs a party of role arbiter; add it"),
        ("host", "intersection_0 (Intersection) needs a party of role host; add it"),
    ],
)
async def test_a_job_without_a_role_its_modules_need_is_refused(
    flow_api: FlowApi, jp_serverapp: Any, role: str, expected: str
) -> None:
    """HeteroLR cannot train without an arbiter, nor Intersection without a host: refused at
    submit rather than failing once running."""
    job = examples.hetero_lr_job()
    del job["job_runtime_conf"]["role"][role]
    job["job_runtime_conf"].get("role_parameters", {}).pop(role, None)

    reply = await flow_api.post("job/submit", job)

    assert reply["retcode"] == 101, reply
    assert expected in reply["retmsg"]
    assert _rows(jp_serverapp) == (0, 0)


async def test_missing_dsl_or_conf_is_named(flow_api: FlowApi) -> None:
    reply = await flow_api.post("job/submit", {"job_dsl": v1_job()["job_dsl"]})

    assert reply["retcode"] == 101
    assert reply["retmsg"] == ("job_runtime_conf missing; send both job_dsl and job_runtime_conf")


async def test_ignored_keys_are_accepted_and_reported(flow_api: FlowApi, fate_home: Path) -> None:
    job = v1_job()
    conf = job["job_runtime_conf"]
    conf["algorithm_parameters"]["intersect_0"] = {"intersect_method": "rsa"}
    conf["algorithm_parameters"]["feature_scale_0"]["scale_method"] = "standard"

    reply = await flow_api.post("job/submit", job)

    assert reply["retcode"] == 0, reply
    assert reply["data"]["warnings"] == [
        "algorithm_parameters.intersect_0 names no component of the DSL, so it is ignored; "
        "rename or remove it",
        "feature_scale_0: 'scale_method' is not a parameter of FeatureScale, so it is ignored; "
        "check its spelling",
    ]
    schedule_log = fate_home / "logs" / reply["jobId"] / "fate_flow_schedule.log"
    for warning in reply["data"]["warnings"]:
        assert f"WARNING {warning}" in schedule_log.read_text()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"job_dsl": {}, "job_runtime_conf": {"job_parameters": {"timeout": NaN}}}', "NaN"),
        ('{"job_dsl": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    ],
)
async def test_bodies_json_does_not_allow_are_refused(
    flow_api: FlowApi, jp_serverapp: Any, body: str, expected: str
) -> None:
    response = await flow_api.raw("job/submit", body)

    reply = json.loads(response.body)
    assert response.code == 200
    assert reply["retcode"] == 101
    assert expected in reply["retmsg"]
    assert _rows(jp_serverapp) == (0, 0)
