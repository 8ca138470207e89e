"""Server-side paths named in requests, confined to the Jupyter server's root directory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from fate_nb.flow.errors import PathNotAllowed


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def confine(
    root: Path,
    value: str,
    *,
    argument: str,
    private: Iterable[Path] = (),
    allow_hidden: bool = True,
) -> Path:
    """Resolve ``value`` against ``root``, following symlinks; refuse anything outside it.

    ``private`` folders (fate-nb's own home) are refused even inside the root, and so are
    hidden files and folders unless ``allow_hidden``, as Jupyter's file browser does.
    """
    if "\x00" in value:
        raise PathNotAllowed(f"{argument} contains a NUL character")

    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.expanduser(value))
    if not candidate.is_absolute():
        candidate = real_root / candidate
    try:
        resolved = Path(os.path.realpath(candidate))
    except OSError as error:
        raise PathNotAllowed(
            f"{argument} {value!r} is not a usable path: {error.strerror}"
        ) from None

    if not _inside(resolved, real_root):
        raise PathNotAllowed(
            f"{argument} {value!r} is outside the server's root directory {str(real_root)!r}; "
            "give a path inside it"
        )
    for folder in private:
        if _inside(resolved, Path(os.path.realpath(folder))):
            raise PathNotAllowed(
                f"{argument} {value!r} is inside fate-nb's own home folder, which requests "
                "may not read or write; give a path elsewhere in the root"
            )
    hidden = [part for part in resolved.relative_to(real_root).parts if part.startswith(".")]
    if hidden and not allow_hidden:
        raise PathNotAllowed(
            f"{argument} {value!r} is hidden ({hidden[0]!r}); give a path without hidden parts"
        )
    return resolved
