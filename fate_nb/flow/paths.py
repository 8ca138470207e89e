"""Server-side paths named in requests, confined to the Jupyter server's root directory."""

from __future__ import annotations

import os
from pathlib import Path

from fate_nb.flow.errors import PathNotAllowed


def confine(root: Path, value: str, *, argument: str) -> Path:
    """Resolve ``value`` against ``root``, following symlinks; refuse anything outside it."""
    if "\x00" in value:
        raise PathNotAllowed(f"{argument} contains a NUL character")

    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.expanduser(value))
    if not candidate.is_absolute():
        candidate = real_root / candidate
    resolved = Path(os.path.realpath(candidate))

    if resolved != real_root and real_root not in resolved.parents:
        raise PathNotAllowed(
            f"{argument} {value!r} is outside the server's root directory {str(real_root)!r}; "
            "give a path inside it"
        )
    return resolved
