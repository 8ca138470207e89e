"""The extension application: configuration, the flow engine's life cycle, the route table."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Int, Unicode, default

from fate_nb import __version__
from fate_nb.flow.config import HOME_ENV, FlowConfig
from fate_nb.flow.engine import FlowEngine
from jupyter_ext.handlers import handlers

MIB = 1 << 20


class FateApp(ExtensionApp):
    """Serves FATE-Flow's v1 API from the Jupyter server."""

    name = "fate_nb"
    version = __version__
    description = "FATE-Flow's v1 job service inside Jupyter."
    load_other_extensions = True

    home_dir = Unicode(
        config=True,
        help=f"Folder holding the database, tables, jobs and logs. Default: ${HOME_ENV}, "
        "else a 'fate_nb' folder in Jupyter's data directory.",
    )
    db_url = Unicode(
        "",
        config=True,
        help="SQLAlchemy URL of the metadata store (PostgreSQL works too). "
        "Default: a SQLite file in home_dir, in WAL mode.",
    )
    max_json_body_size = Int(
        8 * MIB, config=True, help="Largest JSON request body accepted, in bytes."
    )
    max_upload_size = Int(
        20 * 1024 * MIB, config=True, help="Largest multipart upload accepted, in bytes."
    )
    max_concurrent_jobs = Int(5, config=True, help="Jobs that may run at the same time.")

    @default("home_dir")
    def _default_home_dir(self) -> str:
        return os.environ.get(HOME_ENV) or str(Path(jupyter_data_dir()) / "fate_nb")

    def initialize_settings(self) -> None:
        """Open the store and recover from the last shutdown."""
        config = FlowConfig(
            home=Path(self.home_dir),
            root_dir=Path(self.serverapp.root_dir),
            db_url=self.db_url,
            max_concurrent_jobs=self.max_concurrent_jobs,
            allow_hidden=bool(self.serverapp.contents_manager.allow_hidden),
        )
        self._share_log()
        self.flow = FlowEngine(config)
        self.flow.recover()
        self.log.info("fate-nb %s serving /v1 with its home in %s", __version__, config.home)

    def _share_log(self) -> None:
        """Send the engine's log lines (jobs started, ended, failed) to the server's log."""
        handlers = self.log.handlers or self.serverapp.log.handlers
        engine_log = logging.getLogger("fate_nb")
        engine_log.handlers = list(handlers)
        engine_log.setLevel(logging.INFO)
        engine_log.propagate = False

    def initialize_handlers(self) -> None:
        """Register every /v1 route (the base URL is added by ExtensionApp)."""
        self.handlers.extend(handlers)

    async def _start_jupyter_server_extension(self, serverapp: object) -> None:
        """Once the event loop runs: queue jobs left waiting, have a worker ready for a task."""
        flow: FlowEngine | None = getattr(self, "flow", None)
        if flow is not None:
            flow.scheduler.resume()
            flow.scheduler.warm_up()

    async def stop_extension(self) -> None:
        """Stop running jobs and close the store."""
        flow: FlowEngine | None = getattr(self, "flow", None)
        if flow is not None:
            await flow.close()
