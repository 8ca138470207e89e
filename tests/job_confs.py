"""Job DSLs and runtime confs for tests, shaped like FATE's published examples on breast data."""

from __future__ import annotations

import copy
from typing import Any

from fate_nb import examples
from fate_nb.examples import (
    ARBITER,
    GUEST,
    GUEST_TABLE,
    HETERO_LR_CONF,
    HETERO_LR_DSL,
    HOST,
    HOST_TABLE,
    LR_SETTINGS,
    ROLES,
)

__all__ = [
    "ARBITER",
    "GUEST",
    "GUEST_TABLE",
    "HETERO_LR_CONF",
    "HETERO_LR_DSL",
    "HOST",
    "HOST_TABLE",
    "LR_SETTINGS",
    "ROLES",
]

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
    return examples.scale_job()


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
