"""FlowClient: fate-nb's REST API from Python, named after FATE's CLI verbs."""

from __future__ import annotations

from fate_nb._job_calls import END_STATUSES
from fate_nb._model_calls import ModelCalls
from fate_nb.exceptions import FateFlowError, InvalidArgument

__all__ = ["END_STATUSES", "FateFlowError", "FlowClient", "InvalidArgument"]


class FlowClient(ModelCalls):
    """A client of one fate-nb server: jobs, data, tracking and models; tables as DataFrames.

    Parameters
    ----------
    url
        The Jupyter server's base URL, e.g. ``http://127.0.0.1:8888/``. Without it, the
        ``FATE_NB_URL`` environment variable, then the server that started this kernel, then
        the running server whose root holds the notebook.
    token
        The server's token. Without it, a ``?token=`` in ``url``, then the token of the
        running server at that URL (from Jupyter's runtime files), then ``FATE_NB_TOKEN`` or
        ``JUPYTER_TOKEN``.
    timeout
        Seconds one HTTP call may take.
    transport
        An ``httpx`` transport, for tests or a proxy.
    notebook_path
        The notebook whose server is wanted, when several run.

    Every call raises ``FateFlowError`` (``retcode``, ``retmsg``) when the server refuses it,
    ``InvalidArgument`` for an argument it cannot send (the message says what to change), and
    ``ServerError`` when the server cannot be reached or does not answer in time; all three
    are ``FateNbError``.

    Examples
    --------
    >>> client = FlowClient()                                   # doctest: +SKIP
    >>> job = client.submit(dsl, conf, wait=True)               # doctest: +SKIP
    >>> client.metric_all(job["job_id"], "evaluation_0")        # doctest: +SKIP
    """
