"""/v1/model: versions, load, bind, transfer, deploy and the predict DSL of trained models."""

from __future__ import annotations

from tornado import web

from jupyter_ext.handlers.base import FlowHandler


class ModelVersionHandler(FlowHandler):
    """POST /v1/model/version: the versions of a party model id (FATE 1.3's shape)."""

    @web.authenticated
    async def post(self) -> None:
        """List the versions, newest first."""
        self.reply(await self.flow.model_versions(self.json_args()))


class ModelLoadHandler(FlowHandler):
    """POST /v1/model/load: check every serving party's model and mark it loaded."""

    @web.authenticated
    async def post(self) -> None:
        """Answer each party's result."""
        self.reply(await self.flow.load_model(self.json_args()))


class ModelBindHandler(FlowHandler):
    """POST /v1/model/bind: bind a service id to the initiator's loaded model."""

    @web.authenticated
    async def post(self) -> None:
        """Say which service id was bound."""
        self.reply(await self.flow.bind_model(self.json_args()))


class ModelTransferHandler(FlowHandler):
    """POST /v1/model/transfer: one party's model buffers, base64."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the buffers by ``<component>.<alias>:<BufferName>``."""
        self.reply(await self.flow.transfer_model(self.json_args()))


class ModelDeployHandler(FlowHandler):
    """POST /v1/model/deploy: choose the components a predict job runs."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the model id, version and predict DSL."""
        self.reply(await self.flow.deploy_model(self.json_args()))


class ModelPredictDslHandler(FlowHandler):
    """POST /v1/model/get/predict/dsl: the predict DSL of a model version."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the predict DSL."""
        self.reply(await self.flow.model_predict_dsl(self.json_args()))


handlers = [
    (r"/v1/model/version", ModelVersionHandler),
    (r"/v1/model/load", ModelLoadHandler),
    (r"/v1/model/bind", ModelBindHandler),
    (r"/v1/model/transfer", ModelTransferHandler),
    (r"/v1/model/deploy", ModelDeployHandler),
    (r"/v1/model/get/predict/dsl", ModelPredictDslHandler),
]
