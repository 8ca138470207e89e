"""fate-nb: FATE-Flow's v1 job service inside Jupyter, and the notebook side of it."""

from __future__ import annotations

__version__ = "0.1.0"
