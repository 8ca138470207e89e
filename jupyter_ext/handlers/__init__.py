"""The /v1 route table, one module per API group."""

from __future__ import annotations

from jupyter_ext.handlers import data, job, model, pipeline, serving, table, tracking, version
from jupyter_ext.handlers.base import UnknownEndpointHandler

# The catch-all comes last, so unknown /v1 paths get FATE's envelope instead of an HTML page.
handlers = [
    *data.handlers,
    *job.handlers,
    *model.handlers,
    *pipeline.handlers,
    *serving.handlers,
    *table.handlers,
    *tracking.handlers,
    *version.handlers,
    (r"/v1/(.*)", UnknownEndpointHandler),
]
