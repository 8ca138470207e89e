"""The engine behind the v1 API: store, storage, jobs and the data access services."""

from __future__ import annotations
