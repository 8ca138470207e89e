"""HomoLR through the REST API: FATE's homo-LR benchmark job on breast_homo (DataIO, HomoLR,
Evaluation in DSL v1) against scikit-learn trained on the pooled rows."""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from csv_files import DATA_DIR
from flow_api import FlowApi
from job_confs import ARBITER, GUEST, HOST
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fate_nb import examples
from fate_nb.flow import storage, tables, tracking

log = logging.getLogger(__name__)


def homo_lr_job() -> dict[str, Any]:
    """DataIO -> HomoLR -> Evaluation in DSL v1; both clients evaluate their own predictions."""
    return examples.homo_lr_job()


def _scikit_learn_aucs() -> tuple[float, float]:
    """AUC of LogisticRegression fitted on the pooled rows: on those rows, and on the guest's."""
    guest, host = (pd.read_csv(DATA_DIR / f"breast_homo_{role}.csv") for role in ("guest", "host"))
    pooled = pd.concat([guest, host], ignore_index=True)
    model = LogisticRegression(max_iter=1000).fit(pooled.drop(columns=["id", "y"]), pooled["y"])

    def auc(frame: pd.DataFrame) -> float:
        scores = model.predict_proba(frame.drop(columns=["id", "y"]))[:, 1]
        return float(roc_auc_score(frame["y"], scores))

    return auc(pooled), auc(guest)


async def test_homo_lr_job_is_within_one_percent_of_pooled_scikit_learn(
    flow_api: FlowApi, jp_serverapp: Any, jp_root_dir: Path
) -> None:
    for role in ("guest", "host"):
        shutil.copy(DATA_DIR / f"breast_homo_{role}.csv", jp_root_dir)
        _, row = await flow_api.upload(
            file=f"breast_homo_{role}.csv",
            head=1,
            partition=4,
            namespace="experiment",
            table_name=f"breast_homo_{role}",
        )
        assert row["f_status"] == "success", row

    started = time.perf_counter()
    reply = await flow_api.post("job/submit", homo_lr_job())
    assert reply["retcode"] == 0, reply
    row = await flow_api.wait_job(reply["jobId"], limit_s=300)
    elapsed = time.perf_counter() - started

    assert row["f_status"] == "success", row
    job_id = reply["jobId"]
    flow = jp_serverapp.web_app.settings["fate_nb"].flow

    def metrics(component: str, role: str, party_id: int) -> dict[str, Any]:
        return tracking.metrics(flow.engine, job_id, component, role, str(party_id))

    def predictions(role: str, party_id: int) -> pd.DataFrame:
        output = tracking.output_table(
            flow.engine, job_id, "homo_lr_0", role, str(party_id), "train"
        )
        return storage.read_table(tables.table_dir(flow.config, output)).to_pandas()

    loss = metrics("homo_lr_0", "arbiter", ARBITER)["train"]["loss"]
    assert loss["meta"] == {
        "name": "train",
        "metric_type": "LOSS",
        "unit_name": "iters",
        "curve_name": "loss",
    }
    assert [key for key, _ in loss["data"]] == list(range(30))
    assert loss["data"][-1][1] < 0.15

    guest, host = predictions("guest", GUEST), predictions("host", HOST)
    assert (len(guest), len(host)) == (227, 228)
    pooled = pd.concat([guest, host])
    federated_auc = float(roc_auc_score(pooled["label"], pooled["predict_score"]))
    evaluated = {
        role: dict(metrics("evaluation_0", role, party)["train"]["homo_lr_0"]["data"])["auc"]
        for role, party in (("guest", GUEST), ("host", HOST))
    }
    assert evaluated["guest"] == round(roc_auc_score(guest["label"], guest["predict_score"]), 6)
    sklearn_pooled, sklearn_guest = _scikit_learn_aucs()
    log.info(
        "HomoLR job %.1f s; AUC pooled %.6f (scikit-learn %.6f), guest %.6f (scikit-learn "
        "%.6f), host %.6f",
        elapsed,
        federated_auc,
        sklearn_pooled,
        evaluated["guest"],
        sklearn_guest,
        evaluated["host"],
    )
    # fate_test's criterion for a benchmark group: relative tolerance 0.01.
    assert math.isclose(federated_auc, sklearn_pooled, rel_tol=0.01)
    assert math.isclose(evaluated["guest"], sklearn_guest, rel_tol=0.01)

    weights = []
    for role, party_id in (("guest", GUEST), ("host", HOST), ("arbiter", ARBITER)):
        (model,) = tracking.component_models(flow.engine, job_id, "homo_lr_0", role, str(party_id))
        assert model.module_name == "HomoLR"
        param = json.loads(model.param)
        assert param["header"] == [f"x{i}" for i in range(30)]
        weights.append([*param["weight"].values(), param["intercept"]])
    np.testing.assert_array_equal(weights[0], weights[1])
    np.testing.assert_array_equal(weights[0], weights[2])
