"""FlowClient's tracking calls: a component's metrics, parameters, model and output data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fate_nb import _frames
from fate_nb._data_calls import DataCalls
from fate_nb.exceptions import InvalidArgument


class TrackingCalls(DataCalls):
    """``/v1/tracking/...``; role and party default to the job's initiator, as in FATE.

    A role alone (``role="arbiter"``) is enough when the job has one party in that role.
    """

    def _component(
        self, job_id: str, component_name: str, role: str | None, party_id: int | str | None
    ) -> dict[str, Any]:
        request = {"job_id": job_id, "component_name": component_name}
        return {**request, **self._party(job_id, role, party_id)}

    def _party(self, job_id: str, role: str | None, party_id: int | str | None) -> dict[str, Any]:
        """Role and party as given; a role alone is completed when it has one party."""
        if role is None:
            return {} if party_id is None else {"party_id": party_id}
        if party_id is None:
            roles = self.job_config(job_id)["runtime_conf"].get("role") or {}
            parties = roles.get(role) or []
            if not parties:
                raise InvalidArgument(
                    f"job {job_id} has no {role!r} party; its roles are "
                    f"{', '.join(f'{name} {ids}' for name, ids in roles.items())}"
                )
            if len(parties) > 1:
                raise InvalidArgument(
                    f"job {job_id} has {len(parties)} {role} parties {parties}; "
                    "give party_id= to choose one"
                )
            party_id = parties[0]
        return {"role": role, "party_id": party_id}

    def data_view(
        self, job_id: str, *, role: str | None = None, party_id: int | str | None = None
    ) -> dict[str, Any]:
        """A party's view of a job: its partners, input tables and roles."""
        request = {"job_id": job_id, **self._party(job_id, role, party_id)}
        return self.call("tracking/job/data_view", request)

    def metrics(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> dict[str, list[str]]:
        """A component's metric names by namespace (``flow component metrics``)."""
        request = self._component(job_id, component_name, role, party_id)
        return self.call("tracking/component/metrics", request) or {}

    def metric_all(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> pd.DataFrame:
        """Every metric of a component as one long frame (``flow component metric-all``).

        Columns: ``namespace``, ``name``, ``key``, ``value``, ``metric_type`` and ``meta``.
        """
        request = self._component(job_id, component_name, role, party_id)
        return _frames.metric_frame(self.call("tracking/component/metric/all", request) or {})

    def metric_data(
        self,
        job_id: str,
        component_name: str,
        metric_namespace: str,
        metric_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> pd.DataFrame:
        """One metric's points (a loss curve, a ROC...) as ``key``, ``value``, sorted by key.

        Its meta (curve name, metric type...) is in ``frame.attrs["meta"]``.
        """
        request = {
            **self._component(job_id, component_name, role, party_id),
            "metric_namespace": metric_namespace,
            "metric_name": metric_name,
        }
        envelope = self.envelope("tracking/component/metric_data", request)
        return _frames.curve_frame(envelope.get("data") or [], envelope.get("meta") or {})

    def parameters(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> dict[str, Any]:
        """The component's module and fully merged parameters (``flow component parameters``)."""
        request = self._component(job_id, component_name, role, party_id)
        return self.call("tracking/component/parameters", request)

    def output_model(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> dict[str, Any]:
        """The component's model: ``{"data": Param, "meta": {"meta_data": Meta, ...}}``."""
        request = self._component(job_id, component_name, role, party_id)
        envelope = self.envelope("tracking/component/output/model", request)
        return {"data": envelope.get("data"), "meta": envelope.get("meta")}

    def output_data(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
        data_name: str | None = None,
    ) -> pd.DataFrame:
        """The component's whole output table, every row, as a typed DataFrame.

        Read through the download (``flow component output-data``), not FATE's 100-row
        preview; the id column is text, ``predict_detail`` is parsed into dicts. A component
        with several outputs gives the first unless ``data_name`` names one.
        """
        request = self._component(job_id, component_name, role, party_id)
        archive = self.fetch_file("tracking/component/output/data/download", request)
        try:
            return _frames.output_data_frame(archive, data_name)
        except LookupError as error:
            raise InvalidArgument(f"{component_name} of job {job_id}: {error}") from None

    def output_data_table(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> list[dict[str, Any]]:
        """The tables behind the component's outputs (``flow component output-data-table``)."""
        request = self._component(job_id, component_name, role, party_id)
        return self.call("tracking/component/output/data/table", request) or []

    def summary(
        self,
        job_id: str,
        component_name: str,
        *,
        role: str | None = None,
        party_id: int | str | None = None,
    ) -> dict[str, Any]:
        """The component's summary (``{}`` when it has none)."""
        request = self._component(job_id, component_name, role, party_id)
        return self.call("tracking/component/summary/download", request) or {}
