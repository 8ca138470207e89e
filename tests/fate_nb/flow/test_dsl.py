"""Tests of DSL and runtime conf parsing, v1 and v2."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fate_nb.examples import HETERO_LR_DSL
from fate_nb.flow.dsl import JobPlan, parse_job
from fate_nb.flow.errors import ParameterError

GH = frozenset({"guest", "host"})
MODULES = {
    "Reader": GH,
    "DataIO": GH,
    "DataTransform": GH,
    "Intersection": GH,
    "FeatureScale": GH,
    "HeteroLR": frozenset({"guest", "host", "arbiter"}),
    "Evaluation": frozenset({"guest", "host", "arbiter"}),
}

# FATE 1.4's published hetero-LR DSL (fate_flow_api.md 4.3).
V1_DSL: dict[str, Any] = copy.deepcopy(HETERO_LR_DSL)

V1_CONF: dict[str, Any] = {
    "initiator": {"role": "guest", "party_id": 9999},
    "job_parameters": {"work_mode": 0},
    "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    "role_parameters": {
        "guest": {
            "args": {
                "data": {"train_data": [{"name": "breast_hetero_guest", "namespace": "experiment"}]}
            },
            "dataio_0": {
                "with_label": [True],
                "label_name": ["y"],
                "label_type": ["int"],
                "output_format": ["dense"],
            },
            "evaluation_0": {"eval_type": ["binary"], "pos_label": [1]},
        },
        "host": {
            "args": {
                "data": {"train_data": [{"name": "breast_hetero_host", "namespace": "experiment"}]}
            },
            "dataio_0": {"with_label": [False], "output_format": ["dense"]},
            "evaluation_0": {"need_run": [False]},
        },
    },
    "algorithm_parameters": {
        "intersect_0": {"intersect_method": "rsa", "sync_intersect_ids": True},
        "hetero_lr_0": {
            "penalty": "L2",
            "max_iter": 30,
            "init_param": {"init_method": "random_uniform"},
        },
    },
}

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
    "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
    "job_parameters": {
        "common": {"task_parallelism": 1, "engine": {"computing": "standalone"}},
        "role": {"host": {"all": {"engine": {"cores": 2}}, "0": {"task_parallelism": 3}}},
    },
    "component_parameters": {
        "common": {"feature_scale_0": {"method": "min_max_scale", "scale_param": {"a": 1}}},
        "role": {
            "guest": {
                "0": {
                    "reader_0": {"table": {"name": "breast_hetero_guest", "namespace": "exp"}},
                    "data_transform_0": {"with_label": True},
                    "feature_scale_0": {"scale_param": {"b": 2}},
                }
            },
            "host": {
                "all": {"data_transform_0": {"with_label": False, "output_format": "dense"}},
                "0": {
                    "reader_0": {"table": {"name": "breast_hetero_host", "namespace": "exp"}},
                    "data_transform_0": {"output_format": "sparse"},
                },
            },
        },
    },
}


def v1() -> JobPlan:
    return parse_job(V1_DSL, V1_CONF, MODULES)


def v2() -> JobPlan:
    return parse_job(V2_DSL, V2_CONF, MODULES)


def fails(dsl: dict[str, Any], conf: dict[str, Any], *fragments: str) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_job(dsl, conf, MODULES)
    for fragment in fragments:
        assert fragment in caught.value.message


def test_v1_example_plan() -> None:
    plan = v1()
    assert plan.dsl_version == 1
    assert (plan.initiator_role, plan.initiator_party_id) == ("guest", 9999)
    assert plan.roles == {"guest": [9999], "host": [10000], "arbiter": [10000]}
    assert plan.job_parameters == {"work_mode": 0}
    assert [c.name for c in plan.components] == [
        "dataio_0",
        "intersection_0",
        "hetero_lr_0",
        "evaluation_0",
    ]
    lr = plan.component("hetero_lr_0")
    assert lr.upstream == ["intersection_0"]
    assert lr.data_inputs == {"train_data": ["intersection_0.train"]}
    assert (lr.data_outputs, lr.model_outputs) == (["train"], ["hetero_lr"])
    assert plan.component("dataio_0").upstream == []
    assert all(c.need_deploy for c in plan.components)


def test_roles_per_component_follow_the_module_and_conf_order() -> None:
    plan = v1()
    assert plan.component("dataio_0").roles == ["guest", "host"]
    assert plan.component("hetero_lr_0").roles == ["guest", "host", "arbiter"]
    conf = copy.deepcopy(V1_CONF)
    conf["role"] = {"host": [10000], "guest": [9999]}
    assert parse_job(V1_DSL, conf, MODULES).component("hetero_lr_0").roles == ["host", "guest"]


def test_v1_parameter_merge() -> None:
    plan = v1()
    assert plan.parameters("dataio_0", "guest", 0) == {
        "with_label": True,
        "label_name": "y",
        "label_type": "int",
        "output_format": "dense",
    }
    assert plan.parameters("evaluation_0", "host", 0) == {"need_run": False}
    assert plan.parameters("hetero_lr_0", "arbiter", 0)["init_param"] == {
        "init_method": "random_uniform"
    }
    assert plan.parameters("intersection_0", "guest", 0) == {}


def test_v1_role_parameters_override_and_deep_merge() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["role"]["host"] = [10000, 10001]
    conf["role_parameters"]["host"]["hetero_lr_0"] = {
        "max_iter": [5, 6],
        "init_param": {"fit_intercept": [False]},
    }
    plan = parse_job(V1_DSL, conf, MODULES)
    assert plan.parameters("hetero_lr_0", "host", 0)["init_param"] == {
        "init_method": "random_uniform",
        "fit_intercept": False,
    }
    second = plan.parameters("hetero_lr_0", "host", 1)
    assert second["max_iter"] == 6
    assert second["init_param"] == {"init_method": "random_uniform"}


def test_v1_input_tables() -> None:
    plan = v1()
    assert plan.input_tables("dataio_0", "host", 0) == {
        "train_data": {"name": "breast_hetero_host", "namespace": "experiment"}
    }
    assert plan.input_tables("intersection_0", "guest", 0) == {}
    with pytest.raises(ParameterError, match="role_parameters.arbiter.args.data.train_data"):
        plan.input_tables("dataio_0", "arbiter", 0)


def test_party_lookups_are_checked() -> None:
    plan = v1()
    with pytest.raises(ParameterError, match="party index 1 is out of range"):
        plan.parameters("dataio_0", "guest", 1)
    with pytest.raises(ParameterError, match="role 'local' is not in this job"):
        plan.parameters("dataio_0", "local", 0)
    with pytest.raises(ParameterError, match="no component 'dataio_1'"):
        plan.parameters("dataio_1", "guest", 0)


def test_v1_dependency_shape() -> None:
    dependency = v1().dependency()
    assert dependency == {
        "component_list": ["dataio_0", "intersection_0", "hetero_lr_0", "evaluation_0"],
        "dependencies": {
            "intersection_0": [{"component_name": "dataio_0", "type": "data"}],
            "hetero_lr_0": [{"component_name": "intersection_0", "type": "data"}],
            "evaluation_0": [{"component_name": "hetero_lr_0", "type": "data"}],
        },
        "component_module": {
            "dataio_0": "DataIO",
            "intersection_0": "Intersection",
            "hetero_lr_0": "HeteroLR",
            "evaluation_0": "Evaluation",
        },
        "component_need_run": dict.fromkeys(
            ["dataio_0", "intersection_0", "hetero_lr_0", "evaluation_0"], True
        ),
    }


def test_dependency_need_run_per_party() -> None:
    plan = v1()
    host = plan.dependency("host", 10000)["component_need_run"]
    assert host == {
        "dataio_0": True,
        "intersection_0": True,
        "hetero_lr_0": True,
        "evaluation_0": False,
    }
    arbiter = plan.dependency("arbiter", 10000)["component_need_run"]
    assert arbiter["dataio_0"] is False and arbiter["hetero_lr_0"] is True
    with pytest.raises(ParameterError, match="guest:1"):
        plan.dependency("guest", 1)


def branching_dsl() -> dict[str, Any]:
    dsl = copy.deepcopy(V1_DSL)
    components = dsl["components"]
    components["dataio_1"] = {
        "module": "DataIO",
        "input": {"data": {"data": ["args.eval_data"]}, "model": ["dataio_0.dataio"]},
        "output": {"data": ["eval"]},
    }
    components["hetero_lr_0"]["input"]["data"]["eval_data"] = ["dataio_1.eval"]
    components["hetero_lr_1"] = {
        "module": "HeteroLR",
        "input": {"data": {"eval_data": ["dataio_1.eval"]}, "model": ["hetero_lr_0.hetero_lr"]},
        "output": {"data": ["predict"]},
    }
    return dsl


def test_topological_orders_of_a_branching_dag() -> None:
    plan = parse_job(branching_dsl(), V1_CONF, MODULES)
    assert [c.name for c in plan.components] == [
        "dataio_0",
        "intersection_0",
        "dataio_1",
        "hetero_lr_0",
        "evaluation_0",
        "hetero_lr_1",
    ]
    assert plan.component("dataio_1").upstream == ["dataio_0"]
    assert plan.component("hetero_lr_1").upstream == ["dataio_1", "hetero_lr_0"]
    dependency = plan.dependency()
    assert dependency["component_list"] == [
        "dataio_0",
        "dataio_1",
        "intersection_0",
        "hetero_lr_0",
        "hetero_lr_1",
        "evaluation_0",
    ]
    assert dependency["dependencies"]["dataio_1"] == [
        {"component_name": "dataio_0", "type": "model"}
    ]
    assert dependency["dependencies"]["hetero_lr_1"] == [
        {"component_name": "dataio_1", "type": "data"},
        {"component_name": "hetero_lr_0", "type": "model"},
    ]
    with pytest.raises(ParameterError, match="args.data.eval_data has no table for guest"):
        plan.input_tables("dataio_1", "guest", 0)


def test_v1_warnings_name_conf_keys_without_components() -> None:
    plan = v1()
    assert len(plan.warnings) == 1
    assert "algorithm_parameters.intersect_0" in plan.warnings[0]


def test_v2_plan_and_roles() -> None:
    plan = v2()
    assert plan.dsl_version == 2
    assert [c.name for c in plan.components] == ["reader_0", "data_transform_0", "feature_scale_0"]
    assert plan.component("data_transform_0").roles == ["guest", "host"]
    assert plan.roles == {"guest": [9999], "host": [10000], "arbiter": [10000]}
    assert plan.warnings == []
    conf = copy.deepcopy(V2_CONF)
    conf["dsl_version"] = "2"
    assert parse_job(V2_DSL, conf, MODULES).dsl_version == 2


def test_v2_parameter_merge() -> None:
    plan = v2()
    assert plan.parameters("reader_0", "host", 0) == {
        "table": {"name": "breast_hetero_host", "namespace": "exp"}
    }
    assert plan.parameters("data_transform_0", "host", 0) == {
        "with_label": False,
        "output_format": "sparse",
    }
    assert plan.parameters("feature_scale_0", "guest", 0) == {
        "method": "min_max_scale",
        "scale_param": {"a": 1, "b": 2},
    }
    assert plan.parameters("feature_scale_0", "arbiter", 0) == {
        "method": "min_max_scale",
        "scale_param": {"a": 1},
    }
    assert plan.input_tables("reader_0", "guest", 0) == {}


def test_v2_job_parameters() -> None:
    plan = v2()
    assert plan.job_parameters == {"task_parallelism": 1, "engine": {"computing": "standalone"}}
    assert plan.job_parameters_for("host", 0) == {
        "task_parallelism": 3,
        "engine": {"computing": "standalone", "cores": 2},
    }
    assert plan.job_parameters_for("guest", 0) == plan.job_parameters
    assert v1().job_parameters_for("host", 0) == {"work_mode": 0}


def test_v2_dependency() -> None:
    dependency = v2().dependency("arbiter", 10000)
    assert dependency["component_list"] == ["reader_0", "data_transform_0", "feature_scale_0"]
    assert list(dependency["dependencies"]) == ["data_transform_0", "feature_scale_0"]
    assert set(dependency["component_need_run"].values()) == {False}


def test_v2_warnings() -> None:
    conf = copy.deepcopy(V2_CONF)
    conf["component_parameters"]["common"]["hetero_lr_0"] = {"penalty": "L2"}
    conf["component_parameters"]["role"]["host"]["0"]["evaluation_0"] = {"need_run": False}
    warnings = parse_job(V2_DSL, conf, MODULES).warnings
    assert len(warnings) == 2
    assert "component_parameters.common.hetero_lr_0" in warnings[0]
    assert "component_parameters.role.host.0.evaluation_0" in warnings[1]


def test_party_ids_are_normalised_to_int() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["initiator"]["party_id"] = "9999"
    conf["role"] = {"guest": ["9999"], "host": ["10000"], "arbiter": [10000]}
    plan = parse_job(V1_DSL, conf, MODULES)
    assert plan.initiator_party_id == 9999
    assert plan.roles == {"guest": [9999], "host": [10000], "arbiter": [10000]}


def test_empty_dsl() -> None:
    fails({}, V1_CONF, "no components")
    fails({"components": {}}, V1_CONF, "no components")


@pytest.mark.parametrize("key", ["initiator", "role", "job_parameters"])
def test_missing_conf_section(key: str) -> None:
    conf = copy.deepcopy(V1_CONF)
    del conf[key]
    fails(V1_DSL, conf, f"missing {key}")


@pytest.mark.parametrize("key", ["role", "party_id"])
def test_missing_initiator_field(key: str) -> None:
    conf = copy.deepcopy(V1_CONF)
    del conf["initiator"][key]
    fails(V1_DSL, conf, f"initiator.{key} is missing")


def test_initiator_not_listed() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["initiator"]["party_id"] = 10000
    fails(V1_DSL, conf, "initiator party id error", "guest:10000", "role.guest")


@pytest.mark.parametrize("bad", [True, "99a", 1.5, None])
def test_bad_party_id(bad: Any) -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["role"]["host"] = [bad]
    fails(V1_DSL, conf, "role.host[0] must be an integer party id")


def test_bad_initiator_party_id() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["initiator"]["party_id"] = False
    fails(V1_DSL, conf, "initiator.party_id must be an integer party id")


def renamed(old: str, new: str) -> dict[str, Any]:
    dsl = copy.deepcopy(V1_DSL)
    components = dsl["components"]
    components[new] = components.pop(old)
    return dsl


def test_name_without_index() -> None:
    fails(renamed("evaluation_0", "evaluation"), V1_CONF, "'evaluation'", "<prefix>_<index>")


def test_indices_not_consecutive() -> None:
    fails(renamed("evaluation_0", "evaluation_1"), V1_CONF, "evaluation_*", "from 0")


def test_a_predict_job_may_number_from_elsewhere() -> None:
    """FATE checks consecutive indices in train jobs only: a predict DSL may add reader_1."""
    conf = copy.deepcopy(V1_CONF)
    conf["job_parameters"]["job_type"] = "predict"
    plan = parse_job(renamed("evaluation_0", "evaluation_1"), conf, MODULES)
    assert "evaluation_1" in [component.name for component in plan.components]


def test_prefix_with_two_modules() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["dataio_1"] = {"module": "Intersection", "output": {"data": ["x"]}}
    fails(dsl, V1_CONF, "dataio_*", "'DataIO'", "'Intersection'")


def test_unknown_module() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["evaluation_0"]["module"] = "Evaluator"
    fails(dsl, V1_CONF, "evaluation_0", "unknown module 'Evaluator'")


def test_unknown_upstream() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["evaluation_0"]["input"]["data"]["data"] = ["hetero_lr_1.train"]
    fails(dsl, V1_CONF, "evaluation_0", "no component 'hetero_lr_1'")


def test_undeclared_output_alias() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["evaluation_0"]["input"]["model"] = ["intersection_0.model"]
    fails(dsl, V1_CONF, "'intersection_0.model'", "model outputs []")


def test_loop() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["dataio_0"]["input"]["model"] = ["hetero_lr_0.hetero_lr"]
    fails(dsl, V1_CONF, "loop", "dataio_0 -> intersection_0 -> hetero_lr_0 -> dataio_0")


def test_v1_role_parameter_leaf_not_a_list() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["role_parameters"]["host"]["dataio_0"]["output_format"] = "dense"
    fails(V1_DSL, conf, "role_parameters.host.dataio_0.output_format", "['dense']")


def test_v1_nested_role_parameter_leaf_not_a_list() -> None:
    conf = copy.deepcopy(V1_CONF)
    conf["role_parameters"]["guest"]["hetero_lr_0"] = {"init_param": {"fit_intercept": True}}
    fails(V1_DSL, conf, "role_parameters.guest.hetero_lr_0.init_param.fit_intercept")


def test_reader_in_v1() -> None:
    dsl = copy.deepcopy(V2_DSL)
    fails(dsl, V1_CONF, "reader_0", "Reader")


def test_args_input_in_v2() -> None:
    dsl = copy.deepcopy(V2_DSL)
    dsl["components"]["data_transform_0"]["input"]["data"]["data"] = ["args.train_data"]
    fails(dsl, V2_CONF, "data_transform_0", "args.train_data", "Reader")


def test_need_deploy_must_be_a_bool() -> None:
    dsl = copy.deepcopy(V1_DSL)
    dsl["components"]["evaluation_0"]["need_deploy"] = "false"
    fails(dsl, V1_CONF, "evaluation_0.need_deploy")
    dsl["components"]["evaluation_0"]["need_deploy"] = False
    assert not parse_job(dsl, V1_CONF, MODULES).component("evaluation_0").need_deploy


def test_v2_group_keys_apply_to_each_party_they_name() -> None:
    conf = copy.deepcopy(V2_CONF)
    conf["role"]["host"] = [10000, 10001, 10002]
    conf["component_parameters"]["role"]["host"] = {
        "0|2": {"data_transform_0": {"label_name": "grouped"}},
        "2": {"data_transform_0": {"with_label": True}},
    }
    plan = parse_job(V2_DSL, conf, MODULES)

    assert plan.parameters("data_transform_0", "host", 0) == {"label_name": "grouped"}
    assert plan.parameters("data_transform_0", "host", 1) == {}
    assert plan.parameters("data_transform_0", "host", 2) == {
        "label_name": "grouped",
        "with_label": True,
    }


@pytest.mark.parametrize("party", ["5", "1", "x", "0|3"])
def test_v2_party_keys_out_of_range_are_refused(party: str) -> None:
    conf = copy.deepcopy(V2_CONF)
    conf["component_parameters"]["role"]["guest"][party] = {"reader_0": {"table": {}}}

    fails(
        V2_DSL,
        conf,
        f"component_parameters.role.guest.{party}:",
        "which has 1 party; use 0 to 0, or 'all'",
    )


def test_conf_sections_of_roles_the_job_lacks_are_reported() -> None:
    conf = copy.deepcopy(V2_CONF)
    conf["component_parameters"]["role"]["local"] = {"0": {"reader_0": {}}}
    v1_conf = copy.deepcopy(V1_CONF)
    v1_conf["role_parameters"]["arbitre"] = {"dataio_0": {"with_label": [False]}}

    assert parse_job(V2_DSL, conf, MODULES).warnings == [
        "component_parameters.role.local names a role the job does not have, so it is ignored; "
        "the roles are ['arbiter', 'guest', 'host']"
    ]
    assert parse_job(V1_DSL, v1_conf, MODULES).warnings[0] == (
        "role_parameters.arbitre names a role the job does not have, so it is ignored; "
        "the roles are ['arbiter', 'guest', 'host']"
    )
