"""Two hosts: guest 9999, hosts 10000 and 10001 (the breast host's features split in two),
arbiter 10002; Intersection and HeteroLR through the REST API."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from csv_files import DATA_DIR
from flow_api import FlowApi
from hetero_lr_replay import replay
from job_confs import HETERO_LR_CONF, HETERO_LR_DSL
from sklearn.metrics import roc_auc_score

from fate_nb.flow import storage, tables, tracking

GUEST, HOSTS, ARBITER = 9999, [10000, 10001], 10002
SETTINGS = {
    "penalty": "L2",
    "optimizer": "rmsprop",
    "alpha": 0.01,
    "learning_rate": 0.05,
    "max_iter": 8,
    "early_stop": "weight_diff",
    "tol": 1e-9,
    "init_param": {"init_method": "zeros"},
    # rmsprop divides by small second moments; finer fixed point keeps the replay within 1e-6.
    "floating_point_precision": 32,
}


def _split_host(data_dir: Path, root: Path) -> None:
    """Host 10000 keeps x0..x9 and rows 0..539, host 10001 x10..x19 and rows 20..568."""
    host = pd.read_csv(data_dir / "breast_hetero_host.csv", dtype={"id": str})
    host.iloc[:540][["id", *[f"x{i}" for i in range(10)]]].to_csv(root / "host_a.csv", index=False)
    second = host.iloc[20:][["id", *[f"x{i}" for i in range(10, 20)]]]
    second.to_csv(root / "host_b.csv", index=False)


def _job() -> dict[str, Any]:
    dsl = copy.deepcopy(HETERO_LR_DSL)
    del dsl["components"]["evaluation_0"]
    conf = copy.deepcopy(HETERO_LR_CONF)
    conf["role"] = {"guest": [GUEST], "host": HOSTS, "arbiter": [ARBITER]}
    host = conf["role_parameters"]["host"]
    host["args"]["data"]["train_data"] = [
        {"name": "host_a", "namespace": "multi"},
        {"name": "host_b", "namespace": "multi"},
    ]
    host["dataio_0"] = {"with_label": [False, False]}
    del host["evaluation_0"]
    del conf["role_parameters"]["guest"]["evaluation_0"]
    conf["algorithm_parameters"]["hetero_lr_0"] = SETTINGS
    return {"job_dsl": dsl, "job_runtime_conf": conf}


async def test_two_hosts_train_one_model(
    flow_api: FlowApi, jp_serverapp: Any, jp_root_dir: Path, breast_guest: Path
) -> None:
    _split_host(DATA_DIR, jp_root_dir)
    await flow_api.upload(
        file=breast_guest.name, namespace="experiment", table_name="breast_hetero_guest"
    )
    for name in ("host_a", "host_b"):
        _, row = await flow_api.upload(file=f"{name}.csv", namespace="multi", table_name=name)
        assert row["f_status"] == "success"

    reply = await flow_api.post("job/submit", _job())
    assert reply["retcode"] == 0, reply
    row = await flow_api.wait_job(reply["jobId"], limit_s=600)

    assert row["f_status"] == "success", row
    flow = jp_serverapp.web_app.settings["fate_nb"].flow
    job_id = reply["jobId"]
    common = sorted(
        set(pd.read_csv(jp_root_dir / "host_a.csv", dtype={"id": str})["id"])
        & set(pd.read_csv(jp_root_dir / "host_b.csv", dtype={"id": str})["id"])
    )
    assert len(common) == 520

    guest_rows = pd.read_csv(breast_guest, dtype={"id": str}).set_index("id").loc[common]
    for party_id in HOSTS:
        counted = tracking.metrics(flow.engine, job_id, "intersection_0", "guest", str(GUEST))
        assert dict(counted["train"]["intersection"]["data"])["intersect_count"] == 520
        intersected = tracking.output_table(
            flow.engine, job_id, "intersection_0", "host", str(party_id), "train"
        )
        ids = storage.read_table(tables.table_dir(flow.config, intersected)).column(0)
        assert sorted(ids.to_pylist()) == common

    output = tracking.output_table(flow.engine, job_id, "hetero_lr_0", "guest", str(GUEST), "train")
    predictions = storage.read_table(tables.table_dir(flow.config, output)).to_pandas()
    assert len(predictions) == 520
    assert roc_auc_score(predictions["label"], predictions["predict_score"]) > 0.97

    # The arbiter stacks both hosts' gradients; a replay on their joined features agrees.
    host_a = pd.read_csv(jp_root_dir / "host_a.csv", dtype={"id": str}).set_index("id")
    host_b = pd.read_csv(jp_root_dir / "host_b.csv", dtype={"id": str}).set_index("id")
    hosts_x = np.hstack([host_a.loc[common].to_numpy(float), host_b.loc[common].to_numpy(float)])
    expected = replay(
        guest_rows.drop(columns=["y"]).to_numpy(float),
        hosts_x,
        guest_rows["y"].to_numpy(float),
        SETTINGS,
    )
    weights = []
    for party_id in HOSTS:
        (model,) = tracking.component_models(
            flow.engine, job_id, "hetero_lr_0", "host", str(party_id)
        )
        weights += list(json.loads(model.param)["weight"].values())
    np.testing.assert_allclose(weights, expected.host_weights, rtol=1e-6, atol=1e-9)
