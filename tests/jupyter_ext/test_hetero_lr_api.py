"""HeteroLR through the REST API: the encrypted run equals its plaintext replay, message by
message, and the host's worker never receives the guest's labels or features."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flow_api import FlowApi
from hetero_lr_replay import replay
from job_confs import ARBITER, GUEST, HOST, v1_job

from fate_nb.federation.codec import decode
from fate_nb.flow import tracking

SETTINGS = [
    {
        "penalty": "L2",
        "optimizer": "nesterov_momentum_sgd",
        "alpha": 0.01,
        "learning_rate": 0.15,
        "max_iter": 6,
        "early_stop": "weight_diff",
        "init_param": {"init_method": "random_uniform", "random_seed": 7},
    },
    {
        "penalty": "L1",
        "optimizer": "adam",
        "alpha": 0.001,
        "learning_rate": 0.05,
        "max_iter": 3,
        "batch_size": 200,
        "init_param": {"init_method": "zeros", "random_seed": 3},
    },
]


def lr_job(settings: dict[str, Any]) -> dict[str, Any]:
    """DataIO then HeteroLR on breast, with ``settings`` for every party of HeteroLR."""
    job = v1_job()
    components = job["job_dsl"]["components"]
    del components["feature_scale_0"]
    components["hetero_lr_0"] = {
        "module": "HeteroLR",
        "input": {"data": {"train_data": ["dataio_0.train"]}},
        "output": {"data": ["train"], "model": ["hetero_lr"]},
    }
    job["job_runtime_conf"]["algorithm_parameters"] = {"hetero_lr_0": copy.deepcopy(settings)}
    return job


def _joined(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    guest = pd.read_csv(data_dir / "breast_hetero_guest.csv", dtype={"id": str})
    host = pd.read_csv(data_dir / "breast_hetero_host.csv", dtype={"id": str})
    # The component orders rows by id as text, on every party.
    guest, host = guest.sort_values("id"), host.sort_values("id")
    assert list(guest["id"]) == list(host["id"])
    features = guest.drop(columns=["id", "y"])
    return (
        features.to_numpy(float),
        host.drop(columns=["id"]).to_numpy(float),
        guest["y"].to_numpy(float),
    )


def _model(flow: Any, job_id: str, role: str, party_id: int) -> dict[str, Any]:
    (model,) = tracking.component_models(flow.engine, job_id, "hetero_lr_0", role, str(party_id))
    return json.loads(model.param)


@pytest.mark.parametrize("settings", SETTINGS, ids=["nesterov_l2_full", "adam_l1_batches"])
async def test_the_encrypted_run_equals_its_plaintext_replay(
    flow_api: FlowApi,
    jp_serverapp: Any,
    breast_guest: Path,
    breast_host: Path,
    settings: dict[str, Any],
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)

    reply = await flow_api.post("job/submit", lr_job(settings))
    row = await flow_api.wait_job(reply["jobId"], limit_s=300)

    assert row["f_status"] == "success", row
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    job_id = reply["jobId"]
    expected = replay(*_joined(breast_guest.parent), settings)
    losses = tracking.metrics(flow.engine, job_id, "hetero_lr_0", "arbiter", str(ARBITER))
    logged = [value for _, value in losses["train"]["loss"]["data"]]
    np.testing.assert_allclose(logged, expected.losses, rtol=1e-6)
    assert losses["train"]["loss"]["meta"] == {
        "name": "train",
        "metric_type": "LOSS",
        "unit_name": "iters",
        "curve_name": "loss",
    }

    guest = _model(flow, job_id, "guest", GUEST)
    host = _model(flow, job_id, "host", HOST)
    np.testing.assert_allclose(
        list(guest["weight"].values()), expected.guest_weights, rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(guest["intercept"], expected.intercept, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        list(host["weight"].values()), expected.host_weights, rtol=1e-6, atol=1e-9
    )
    assert list(host["weight"]) == [f"x{i}" for i in range(20)]
    assert int(guest["iters"]) == int(host["iters"]) == expected.iters

    # FATE's summary of a trained LR party (what fate-client's get_summary() shows).
    for role, party_id, model in (("guest", GUEST, guest), ("host", HOST, host)):
        request = {"job_id": job_id, "component_name": "hetero_lr_0", "role": role}
        reply = await flow_api.post(
            "tracking/component/summary/download", {**request, "party_id": party_id}
        )
        assert reply["data"] == {
            "coef": model["weight"],
            "intercept": model["intercept"],
            "is_converged": model["isConverged"],
            "one_vs_rest": False,
            "best_iteration": -1,
            "iters": expected.iters,
        }


async def test_the_host_never_receives_labels_or_guest_features(
    flow_api: FlowApi, jp_serverapp: Any, breast_guest: Path, breast_host: Path
) -> None:
    await flow_api.upload_breast(breast_guest, breast_host)
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    received: list[tuple[str, Any]] = []

    def record(key: tuple[str, ...], payload: bytes) -> None:
        if key[6] == "host":
            received.append((key[2], decode(payload)))

    flow.scheduler.broker.observers.append(record)
    reply = await flow_api.post("job/submit", lr_job({**SETTINGS[0], "max_iter": 2}))
    assert (await flow_api.wait_job(reply["jobId"], limit_s=300))["f_status"] == "success"

    guest_x, _, labels = _joined(breast_guest.parent)
    names = {name for name, _ in received}
    assert names == {
        "paillier_pubkey",
        "batch_info",
        "fore_gradient",
        "host_optim_gradient",
        "converge_flag",
    }
    plain_values = {float(v) for v in np.concatenate([guest_x.ravel(), labels])}
    for name, value in received:
        numbers = _numbers(value)
        if name == "fore_gradient":
            # What the host gets of y and the guest's features is Paillier ciphertexts only.
            assert len(numbers) == len(labels)
            assert all(isinstance(n, int) and n.bit_length() > 1500 for n in numbers)
        elif name not in {"batch_info", "paillier_pubkey"}:
            assert not plain_values & {float(n) for n in numbers}, name


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, np.ndarray):
        return [float(v) for v in value.ravel()]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    return [n for item in getattr(value, "values", []) for n in _numbers(item)]
