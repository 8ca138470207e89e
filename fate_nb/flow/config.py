"""Where the flow engine keeps its state, and the limits it enforces."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from fate_nb.flow.paths import confine

HOME_ENV = "FATE_NB_HOME"
DB_URL_ENV = "FATE_NB_DB_URL"
ROOT_ENV = "FATE_NB_ROOT"
ALLOW_HIDDEN_ENV = "FATE_NB_ALLOW_HIDDEN"


@dataclass(frozen=True)
class FlowConfig:
    """Settings shared by the server, the scheduler and every worker process."""

    home: Path
    root_dir: Path
    db_url: str = ""
    max_concurrent_jobs: int = 5
    allow_hidden: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home).resolve())
        object.__setattr__(self, "root_dir", Path(self.root_dir).resolve())
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.home / 'fate_nb.db'}")

    @property
    def tables_dir(self) -> Path:
        """Folder holding one sub-folder of Parquet partitions per table."""
        return self.home / "tables"

    @property
    def jobs_dir(self) -> Path:
        """Folder holding one sub-folder per job: its DSL, conf and uploaded files."""
        return self.home / "jobs"

    @property
    def logs_dir(self) -> Path:
        """Folder holding one sub-folder of log files per job."""
        return self.home / "logs"

    @property
    def incoming_dir(self) -> Path:
        """Folder where request bodies are streamed before their job exists."""
        return self.home / "incoming"

    def job_dir(self, job_id: str) -> Path:
        """The folder of one job."""
        return self.jobs_dir / job_id

    def job_log_dir(self, job_id: str) -> Path:
        """The log folder of one job."""
        return self.logs_dir / job_id

    @property
    def private_paths(self) -> list[Path]:
        """What requests may never read or write: this home, and a SQLite file kept elsewhere."""
        private = [self.home]
        url = make_url(self.db_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            database = Path(url.database).resolve()
            private += [
                database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")
            ]
        return private

    def server_path(self, value: str, argument: str) -> Path:
        """A path named in a request: inside the root, outside this home, not hidden."""
        return confine(
            self.root_dir,
            value,
            argument=argument,
            private=self.private_paths,
            allow_hidden=self.allow_hidden,
        )

    def make_dirs(self) -> None:
        """Create the home directory's folders."""
        for folder in (self.tables_dir, self.jobs_dir, self.logs_dir, self.incoming_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def worker_env(self) -> dict[str, str]:
        """Environment variables that hand this configuration to a worker process."""
        return {
            HOME_ENV: str(self.home),
            DB_URL_ENV: self.db_url,
            ROOT_ENV: str(self.root_dir),
            ALLOW_HIDDEN_ENV: "1" if self.allow_hidden else "0",
        }

    @classmethod
    def from_env(cls) -> FlowConfig:
        """The configuration a worker process received from its parent."""
        return cls(
            home=Path(os.environ[HOME_ENV]),
            root_dir=Path(os.environ.get(ROOT_ENV, os.getcwd())),
            db_url=os.environ.get(DB_URL_ENV, ""),
            allow_hidden=os.environ.get(ALLOW_HIDDEN_ENV) == "1",
        )
