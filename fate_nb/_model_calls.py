"""FlowClient's model and serving calls: versions, load, bind, transfer, deploy, predict."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fate_nb import _frames
from fate_nb._tracking_calls import TrackingCalls


class ModelCalls(TrackingCalls):
    """``/v1/model/...`` and ``/v1/serving/predict``."""

    def model_version(self, party_model_id: str) -> pd.DataFrame:
        """A party model's versions, newest first (``role#party#model_id``)."""
        history = self.call("model/version", {"namespace": party_model_id}) or []
        return _frames.text_typed(pd.DataFrame.from_records(history))

    def load_model(self, conf: Mapping[str, Any]) -> dict[str, Any]:
        """Load a model for serving (``flow model load``).

        ``conf`` has ``initiator``, ``role`` and ``job_parameters``, the last with the
        ``model_id`` and ``model_version`` of a training job's ``model_info``.
        """
        return self.call("model/load", dict(conf)) or {}

    def bind_model(self, conf: Mapping[str, Any], service_id: str | None = None) -> dict[str, Any]:
        """Bind a service id to a loaded model (``flow model bind``); bindings survive restarts.

        ``conf`` is the one ``load_model`` took; ``service_id`` (or ``conf["service_id"]``)
        is the name ``predict`` scores rows under. Returns ``service_id``, ``model_id``,
        ``model_version`` and the server's ``retmsg`` (e.g. ``"service id is <id>"``).
        """
        request = dict(conf)
        if service_id is not None:
            request["service_id"] = service_id
        envelope = self.envelope("model/bind", request)
        parameters = request.get("job_parameters")
        parameters = parameters if isinstance(parameters, Mapping) else {}
        return {
            "service_id": request.get("service_id"),
            "model_id": parameters.get("model_id"),
            "model_version": parameters.get("model_version"),
            "retmsg": envelope.get("retmsg"),
            **(envelope.get("data") or {}),
        }

    def transfer_model(self, party_model_id: str, model_version: str) -> dict[str, bytes]:
        """A model's buffers, ``"<component>.<alias>:<Buffer>"`` to their bytes."""
        buffers = self.call("model/transfer", {"namespace": party_model_id, "name": model_version})
        return {key: base64.b64decode(value) for key, value in (buffers or {}).items()}

    def deploy_model(
        self,
        model_id: str,
        model_version: str,
        cpn_list: Sequence[str] | None = None,
        predict_dsl: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Choose the components a predict job runs (FATE 1.5+'s ``flow model deploy``)."""
        request: dict[str, Any] = {"model_id": model_id, "model_version": model_version}
        if cpn_list is not None:
            request["cpn_list"] = list(cpn_list)
        if predict_dsl is not None:
            request["predict_dsl"] = dict(predict_dsl)
        return self.call("model/deploy", request) or {}

    def predict_dsl(self, model_id: str, model_version: str) -> dict[str, Any]:
        """The DSL a predict job of this model runs (``flow model get-predict-dsl``)."""
        request = {"model_id": model_id, "model_version": model_version}
        return self.call("model/get/predict/dsl", request) or {}

    def predict(
        self,
        service_id: str,
        feature_data: Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame,
    ) -> pd.DataFrame:
        """Score rows with the model bound to ``service_id`` (fate-nb's online serving).

        ``feature_data`` is one row as a dict, a list of rows, or a DataFrame, each row with
        the guest's features and the ``id`` the hosts know it by. Returns one row per input:
        ``id``, ``predict_result``, ``predict_score``, ``predict_detail``.
        """
        if isinstance(feature_data, pd.DataFrame):
            rows: Any = feature_data.to_dict(orient="records")
        elif isinstance(feature_data, Mapping):
            rows = dict(feature_data)
        else:
            rows = [dict(row) for row in feature_data]
        answer = self.call("serving/predict", {"service_id": service_id, "feature_data": rows})
        frame = _frames.text_typed(pd.DataFrame.from_records(answer["predictions"]))
        frame.attrs.update(
            {key: answer[key] for key in ("model_id", "model_version") if key in answer}
        )
        return frame
