"""FlowClient: fate-nb's REST API from Python, named after FATE's CLI verbs."""

from __future__ import annotations

from fate_nb._job_calls import END_STATUSES
from fate_nb._model_calls import ModelCalls
from fate_nb.exceptions import FateFlowError

__all__ = ["END_STATUSES", "FateFlowError", "FlowClient"]


class FlowClient(ModelCalls):
    """A client of one fate-nb server: jobs, data, tracking and models; tables as DataFrames.

    Parameters
    ----------
    url
        The Jupyter server's base URL, e.g. ``http://127.0.0.1:8888/``. Without it, the
        ``FATE_NB_URL`` environment variable, then the server that started this kernel, then
        the running server whose root holds the notebook.
    token
        The server's token; by default ``FATE_NB_TOKEN``, ``JUPYTER_TOKEN`` or the found
        server's own.
    timeout
        Seconds one HTTP call may take.
    transport
        An ``httpx`` transport, for tests or a proxy.
    notebook_path
        The notebook whose server is wanted, when several run.

    Every call raises ``FateFlowError`` (``retcode``, ``retmsg``) when the server refuses it.

    Examples
    --------
    >>> client = FlowClient()                                   # doctest: +SKIP
    >>> job = client.submit(dsl, conf, wait=True)               # doctest: +SKIP
    >>> client.metric_all(job["job_id"], "evaluation_0")        # doctest: +SKIP
    """
