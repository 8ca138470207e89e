"""Job DSLs and runtime confs for tests, shaped like FATE's published examples on breast data."""

from __future__ import annotations

import copy
from typing import Any

from fate_nb import demo

GUEST, HOST, ARBITER = 9999, 10000, 10000
ROLES = {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}
GUEST_TABLE = {"name": "breast_hetero_guest", "namespace": "experiment"}
HOST_TABLE = {"name": "breast_hetero_host", "namespace": "experiment"}

V2_DSL: dict[str, Any] = {
    "components": {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "feature_scale_0": {
            "module": "FeatureScale",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}

V2_CONF: dict[str, Any] = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": GUEST},
    "role": ROLES,
    "job_parameters": {"common": {"task_parallelism": 2}},
    "component_parameters": {
        "common": {"feature_scale_0": {"method": "standard_scale"}},
        "role": {
            "guest": {
                "0": {
                    "reader_0": {"table": GUEST_TABLE},
                    "data_transform_0": {"with_label": True, "label_name": "y"},
                }
            },
            "host": {
                "0": {
                    "reader_0": {"table": HOST_TABLE},
                    "data_transform_0": {"with_label": False},
                }
            },
        },
    },
}


def v1_job() -> dict[str, Any]:
    """A fresh submit body for the DSL v1 DataIO -> FeatureScale job (the demo's job)."""
    return demo.scale_job()


def v2_job() -> dict[str, Any]:
    """A fresh submit body for the DSL v2 Reader -> DataTransform -> FeatureScale job."""
    return {"job_dsl": copy.deepcopy(V2_DSL), "job_runtime_conf": copy.deepcopy(V2_CONF)}


def single_party_v1_job(table: dict[str, str], timeout: float | None = None) -> dict[str, Any]:
    """A guest-only DSL v1 DataIO -> FeatureScale job on ``table``."""
    conf: dict[str, Any] = {
        "initiator": {"role": "guest", "party_id": GUEST},
        "job_parameters": {"work_mode": 0},
        "role": {"guest": [GUEST]},
        "role_parameters": {
            "guest": {
                "args": {"data": {"train_data": [table]}},
                "dataio_0": {"with_label": [False]},
            }
        },
    }
    if timeout is not None:
        conf["job_parameters"]["timeout"] = timeout
    return {"job_dsl": v1_job()["job_dsl"], "job_runtime_conf": conf}


# FATE 1.4's published hetero-LR example (fate_flow_api.md 4.3) on breast.
LR_SETTINGS: dict[str, Any] = {
    "penalty": "L2",
    "optimizer": "nesterov_momentum_sgd",
    "tol": 0.0001,
    "alpha": 0.01,
    "max_iter": 30,
    "early_stop": "weight_diff",
    "batch_size": -1,
    "learning_rate": 0.15,
    "init_param": {"init_method": "random_uniform", "random_seed": 11},
}

HETERO_LR_DSL: dict[str, Any] = {
    "components": {
        "dataio_0": {
            "module": "DataIO",
            "input": {"data": {"data": ["args.train_data"]}},
            "output": {"data": ["train"], "model": ["dataio"]},
        },
        "intersection_0": {
            "module": "Intersection",
            "input": {"data": {"data": ["dataio_0.train"]}},
            "output": {"data": ["train"]},
        },
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {"data": {"train_data": ["intersection_0.train"]}},
            "output": {"data": ["train"], "model": ["hetero_lr"]},
        },
        "evaluation_0": {
            "module": "Evaluation",
            "input": {"data": {"data": ["hetero_lr_0.train"]}},
            "output": {"data": ["evaluate"]},
        },
    }
}

HETERO_LR_CONF: dict[str, Any] = {
    "initiator": {"role": "guest", "party_id": GUEST},
    "job_parameters": {"work_mode": 0},
    "role": ROLES,
    "role_parameters": {
        "guest": {
            "args": {"data": {"train_data": [GUEST_TABLE]}},
            "dataio_0": {
                "with_label": [True],
                "label_name": ["y"],
                "label_type": ["int"],
                "output_format": ["dense"],
            },
            "evaluation_0": {"eval_type": ["binary"], "pos_label": [1]},
        },
        "host": {
            "args": {"data": {"train_data": [HOST_TABLE]}},
            "dataio_0": {"with_label": [False], "output_format": ["dense"]},
            "evaluation_0": {"need_run": [False]},
        },
    },
    "algorithm_parameters": {
        "intersection_0": {
            "intersect_method": "rsa",
            "sync_intersect_ids": True,
            "only_output_key": False,
        },
        "hetero_lr_0": LR_SETTINGS,
    },
}
