"""FATE's published example jobs on the breast data, as fresh submit bodies.

Each function returns ``{"job_dsl": ..., "job_runtime_conf": ...}``, ready for
``FlowClient.submit(**job)`` or ``POST /v1/job/submit``; the tables are the ones
``fate_nb.datasets`` ships, uploaded into the ``experiment`` namespace under their file names
(``breast_hetero_guest``, ``breast_homo_host``...).
"""

from __future__ import annotations

import copy
from typing import Any

from fate_nb.exceptions import InvalidArgument

GUEST, HOST, ARBITER = 9999, 10000, 10000
NAMESPACE = "experiment"
GUEST_TABLE = {"name": "breast_hetero_guest", "namespace": NAMESPACE}
HOST_TABLE = {"name": "breast_hetero_host", "namespace": NAMESPACE}
ROLES = {"guest": [GUEST], "host": [HOST], "arbiter": [ARBITER]}

# FATE 1.4's published hetero-LR example (fate_flow_api.md 4.3), its settings unchanged.
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

SCALE_DSL: dict[str, Any] = {
    "components": {
        "dataio_0": {
            "module": "DataIO",
            "input": {"data": {"data": ["args.train_data"]}},
            "output": {"data": ["train"], "model": ["dataio"]},
        },
        "feature_scale_0": {
            "module": "FeatureScale",
            "input": {"data": {"data": ["dataio_0.train"]}},
            "output": {"data": ["train"], "model": ["feature_scale"]},
        },
    }
}

SCALE_CONF: dict[str, Any] = {
    "initiator": {"role": "guest", "party_id": GUEST},
    "job_parameters": {"work_mode": 0},
    # The arbiter runs no task here (DataIO and FeatureScale are guest and host modules).
    "role": ROLES,
    "role_parameters": {
        "guest": {
            "args": {"data": {"train_data": [GUEST_TABLE]}},
            "dataio_0": {"with_label": [True], "label_name": ["y"]},
        },
        "host": {
            "args": {"data": {"train_data": [HOST_TABLE]}},
            "dataio_0": {"with_label": [False]},
        },
    },
    "algorithm_parameters": {"feature_scale_0": {"method": "standard_scale"}},
}

# FATE's benchmark_quality/homo_lr settings for breast_homo.
HOMO_LR_SETTINGS: dict[str, Any] = {
    "penalty": "L2",
    "alpha": 0.01,
    "learning_rate": 0.15,
    "optimizer": "rmsprop",
    "batch_size": 320,
    "max_iter": 30,
    "init_param": {"init_method": "zeros"},
}

HOMO_LR_DSL: dict[str, Any] = {
    "components": {
        "dataio_0": {
            "module": "DataIO",
            "input": {"data": {"data": ["args.train_data"]}},
            "output": {"data": ["train"], "model": ["dataio"]},
        },
        "homo_lr_0": {
            "module": "HomoLR",
            "input": {"data": {"train_data": ["dataio_0.train"]}},
            "output": {"data": ["train"], "model": ["homo_lr"]},
        },
        "evaluation_0": {
            "module": "Evaluation",
            "input": {"data": {"data": ["homo_lr_0.train"]}},
            "output": {"data": ["evaluate"]},
        },
    }
}

# Guest and host each hold their own rows of breast_homo, with labels; both evaluate.
HOMO_LR_CONF: dict[str, Any] = {
    "initiator": {"role": "guest", "party_id": GUEST},
    "job_parameters": {"work_mode": 0},
    "role": ROLES,
    "role_parameters": {
        role: {
            "args": {
                "data": {"train_data": [{"name": f"breast_homo_{role}", "namespace": NAMESPACE}]}
            },
            "dataio_0": {"with_label": [True], "label_name": ["y"], "label_type": ["int"]},
            "evaluation_0": {"eval_type": ["binary"]},
        }
        for role in ("guest", "host")
    },
    "algorithm_parameters": {"homo_lr_0": HOMO_LR_SETTINGS},
}

_JOBS = {
    "hetero_lr": (HETERO_LR_DSL, HETERO_LR_CONF),
    "homo_lr": (HOMO_LR_DSL, HOMO_LR_CONF),
    "feature_scale": (SCALE_DSL, SCALE_CONF),
}


def names() -> list[str]:
    """The example jobs there are, by name."""
    return sorted(_JOBS)


def job(name: str) -> dict[str, Any]:
    """A fresh copy of an example job's DSL and runtime conf, e.g. ``job("hetero_lr")``."""
    if name not in _JOBS:
        raise InvalidArgument(f"no example job named {name!r}; there are: {', '.join(names())}")
    dsl, conf = _JOBS[name]
    return {"job_dsl": copy.deepcopy(dsl), "job_runtime_conf": copy.deepcopy(conf)}


def hetero_lr_job() -> dict[str, Any]:
    """DataIO, Intersection, HeteroLR and Evaluation on breast: FATE's canonical job (DSL v1)."""
    return job("hetero_lr")


def homo_lr_job() -> dict[str, Any]:
    """DataIO, HomoLR and Evaluation on breast_homo (DSL v1): FATE's homo-LR benchmark job."""
    return job("homo_lr")


def scale_job() -> dict[str, Any]:
    """DataIO then FeatureScale on breast (DSL v1); it runs in a few seconds."""
    return job("feature_scale")
