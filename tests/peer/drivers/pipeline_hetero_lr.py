"""FATE's hetero-LR tutorial written with fate-client's pipeline SDK (1.5.3 or 1.11.3).

Runs inside the peer's virtual environment (``runpy`` from ``driver.py``'s code, see
test_pipeline.py), so it imports only fate-client, its dependencies and
``fate_nb.fate_client``. ``main(config)`` runs every step and answers, per step, the value the
pipeline returned or the error it raised; the tests then check each value.
"""

from __future__ import annotations

import sys
import traceback
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

GUEST, HOST, ARBITER = 9999, 10000, 10000


def install_tensorflow_stand_in() -> None:
    """1.5's pipeline.component imports keras' ``Layer`` at module level (NN); name it only."""
    names = ("tensorflow", "tensorflow.python", "tensorflow.python.keras")
    for name in (
        *names,
        "tensorflow.python.keras.engine",
        "tensorflow.python.keras.engine.base_layer",
    ):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["tensorflow.python.keras.engine.base_layer"].Layer = type("Layer", (), {})


def configure(version: str, base_url: str, log_directory: str) -> None:
    """Point the pipeline at the server without writing into site-packages."""
    address = urlsplit(base_url)
    if version.startswith("1.5."):
        install_tensorflow_stand_in()
        from pipeline.backend import set_default_config

        # 1.5 reads the config when pipeline.backend.config is first imported.
        set_default_config(address.hostname, address.port, log_directory)
    else:
        from pipeline.backend.config import PipelineConfig

        conf = {"ip": address.hostname, "port": address.port, "log_directory": log_directory}
        PipelineConfig._conf = conf


class Steps:
    """Runs named steps and keeps each one's value, or its error (SystemExit included)."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        """Run one step and record it; answer its value, None when it failed."""
        try:
            value = step()
        except BaseException as error:  # noqa: BLE001 - TaskInfo's errors end in sys.exit(1)
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            self.results[name] = {"ok": False, "error": detail}
            return None
        self.results[name] = {"ok": True, "value": value}
        return value


def spy(invoker: Any, method: str, call: Callable[[], Any]) -> list[Any]:
    """Run ``call``; answer what the JobInvoker's ``method`` returned to the pipeline."""
    original = getattr(invoker, method)
    seen: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(original(*args, **kwargs))
        return seen[-1]

    setattr(invoker, method, recording)
    try:
        call()
    finally:
        setattr(invoker, method, original)
    return seen


def frame_summary(frame: Any) -> dict[str, Any]:
    """A pandas DataFrame in JSON: shape, columns, first row as text."""
    return {
        "shape": list(frame.shape),
        "columns": [str(name) for name in frame.columns],
        "first": [str(value) for value in frame.iloc[0].tolist()],
    }


def main(config: dict[str, Any]) -> dict[str, Any]:
    """Upload, train, read results, deploy, predict, and 1.11's online load and bind."""
    version = config["version"]
    old = version.startswith("1.5.")
    configure(version, config["base_url"], config["log_directory"])
    from pipeline.backend.pipeline import PipeLine
    from pipeline.component import Evaluation, HeteroLR, Intersection, Reader
    from pipeline.interface import Data

    from fate_nb.fate_client import add_token

    if old:
        from pipeline.component import DataIO as DataTransform
    else:
        from pipeline.component import DataTransform

    def new_pipeline(**roles: int) -> Any:
        pipe = add_token(PipeLine(), config["token"])
        return pipe.set_initiator(role="guest", party_id=GUEST).set_roles(**roles)

    steps = Steps()
    namespace, tables = config["namespace"], config["tables"]

    # The pipeline's own upload: one multipart upload and poll loop per table.
    upload = new_pipeline(guest=GUEST)
    for role in ("guest", "host"):
        upload.add_upload_data(config["files"][role], tables[role], namespace, head=1, partition=4)
    steps.run("upload", lambda: upload.upload(drop=1) or upload._train_job_id)
    flow = upload._job_invoker.client
    for role in ("guest", "host"):
        steps.run(
            f"table_info_{role}",
            lambda r=role: flow.table.info(table_name=tables[r], namespace=namespace),
        )

    def reader(name: str) -> Any:
        component = Reader(name=name)
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            component.get_party_instance(role=role, party_id=party_id).component_param(
                table={"name": tables[role], "namespace": namespace}
            )
        return component

    train = new_pipeline(guest=GUEST, host=HOST, arbiter=ARBITER)
    reader_0 = reader("reader_0")
    transform_0 = DataTransform(name="dataio_0" if old else "data_transform_0")
    transform_0.get_party_instance(role="guest", party_id=GUEST).component_param(
        with_label=True, output_format="dense"
    )
    transform_0.get_party_instance(role="host", party_id=HOST).component_param(with_label=False)
    intersection_0 = Intersection(name="intersection_0")
    hetero_lr_0 = HeteroLR(
        name="hetero_lr_0",
        penalty="L2",
        optimizer="rmsprop",
        tol=0.0001,
        alpha=0.01,
        max_iter=config["max_iter"],
        early_stop="weight_diff",
        batch_size=-1,
        learning_rate=0.15,
        init_param={"init_method": "zeros"},
    )
    evaluation_0 = Evaluation(name="evaluation_0", eval_type="binary")
    train.add_component(reader_0)
    train.add_component(transform_0, data=Data(data=reader_0.output.data))
    train.add_component(intersection_0, data=Data(data=transform_0.output.data))
    train.add_component(hetero_lr_0, data=Data(train_data=intersection_0.output.data))
    train.add_component(evaluation_0, data=Data(data=hetero_lr_0.output.data))
    steps.run("compile", lambda: train.compile()._train_dsl)
    steps.run(
        "fit",
        lambda: (
            train.fit()
            or {
                "job_id": train.get_train_job_id(),
                "model_id": train._model_info.model_id,
                "model_version": train._model_info.model_version,
            }
        ),
    )

    def task(name: str) -> Any:
        return train.get_component(name)

    steps.run("summary_intersection", lambda: task("intersection_0").get_summary())
    steps.run("summary_hetero_lr", lambda: task("hetero_lr_0").get_summary())
    job_id = train.get_train_job_id()
    # get_component() answers the initiator's tasks; the loss is the arbiter's summary.
    invoker = train._job_invoker
    steps.run(
        "summary_hetero_lr_arbiter",
        lambda: invoker.get_summary(job_id, "hetero_lr_0", "arbiter", ARBITER),
    )
    steps.run("summary_evaluation", lambda: task("evaluation_0").get_summary())
    steps.run("model_param", lambda: task("hetero_lr_0").get_model_param())
    if old:
        steps.run("output_data", lambda: task("hetero_lr_0").get_output_data())
    else:
        steps.run("output_data", lambda: task("hetero_lr_0").get_output_data(to_pandas=False))
        steps.run(
            "output_data_pandas", lambda: frame_summary(task("hetero_lr_0").get_output_data())
        )
        steps.run(
            "transform_data_pandas",
            lambda: frame_summary(task(transform_0.name).get_output_data()),
        )
    steps.run("output_data_limited", lambda: limited(task("intersection_0"), old))
    steps.run("output_data_table", lambda: task("hetero_lr_0").get_output_data_table())
    deployed = [transform_0, intersection_0, hetero_lr_0]
    steps.run(
        "deploy", lambda: spy(invoker, "model_deploy", lambda: train.deploy_component(deployed))
    )
    steps.run("predict_dsl", lambda: train._predict_dsl)

    predict = new_pipeline(guest=GUEST, host=HOST, arbiter=ARBITER)
    reader_1 = reader("reader_1")
    predict.add_component(reader_1)
    predict.add_component(
        train, data=Data(predict_input={transform_0.input.data: reader_1.output.data})
    )
    steps.run(
        "predict",
        lambda: (
            predict.predict()
            or {
                "job_id": predict._predict_job_id,
                "model_id": predict._predict_model_info.model_id,
                "model_version": predict._predict_model_info.model_version,
            }
        ),
    )
    predict_job = predict._predict_job_id
    if old:
        # 1.5's predict pipeline only knows its Reader by name: ask its JobInvoker.
        steps.run(
            "predict_output_data",
            lambda: predict._job_invoker.get_output_data(
                predict_job, "hetero_lr_0", "guest", GUEST
            ),
        )
    else:
        steps.run(
            "predict_output_data",
            lambda: predict.get_component("hetero_lr_0").get_output_data(to_pandas=False),
        )
        steps.run("online_load", lambda: spy(invoker, "load_model", train.online.load))
        service_id = config["service_id"]
        steps.run(
            "online_bind",
            lambda: spy(invoker, "bind_model", lambda: train.online.bind(service_id)),
        )
    return {"version": version, "transform": transform_0.name, "steps": steps.results}


def limited(task: Any, old: bool) -> Any:
    """get_output_data(limits=3): the header line and two rows."""
    if old:
        return task.get_output_data(limits=3)
    return task.get_output_data(limits=3, to_pandas=False)
