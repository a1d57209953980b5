"""Folders on the server a batch may read: only under the roots the deployment names.

Whoever runs the app sets ``PERCEPT_BATCH_ROOTS`` to one or more folders (separated by
``os.pathsep``, ":" on Linux); it is empty by default, and then only uploads can be analysed.
A folder is refused, in one sentence, when its name holds "..", when it is outside every root,
or when a symbolic link leads out of its root.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath

from analysis.errors import InputError

ROOTS_VARIABLE = "PERCEPT_BATCH_ROOTS"
MAX_LISTED = 500  # subfolders offered by the picker
ENABLE_HINT = (
    f"Folders on the server are off. To analyse folders that sit beside the app, start it "
    f"with {ROOTS_VARIABLE}=/path/to/data (several folders separated by “{os.pathsep}”)."
)


def batch_roots(value: str | None = None) -> list[Path]:
    """The roots named by ``value`` (default: the ``PERCEPT_BATCH_ROOTS`` variable), resolved;
    those that are not folders are left out."""
    value = os.environ.get(ROOTS_VARIABLE, "") if value is None else value
    roots = []
    for part in value.split(os.pathsep):
        if part.strip():
            root = Path(part.strip()).expanduser().resolve()
            if root.is_dir() and root not in roots:
                roots.append(root)
    return roots


def resolve_folder(text: str, root: Path, roots: Sequence[Path] | None = None) -> Path:
    """The folder ``text`` names: relative to ``root``, or absolute under one of ``roots``.

    Raises
    ------
    InputError
        If folders are off (no root), ``text`` holds "..", leads outside the roots (by an
        absolute path or a symbolic link), or names no folder.
    """
    roots = [root] if roots is None else list(roots)
    if not roots:
        raise InputError(ENABLE_HINT)
    text = text.strip() or "."
    if ".." in PurePath(text).parts or ".." in text.replace("\\", "/").split("/"):
        raise InputError(f"“..” is not allowed in a folder name: name a folder inside {root}.")
    candidate = Path(text) if Path(text).is_absolute() else root / text
    home = next((r for r in roots if candidate.is_relative_to(r)), None)
    if home is None:
        raise InputError(f"{text} is outside the folders this app may read.")
    folder = candidate.resolve()
    if not folder.is_relative_to(home):
        raise InputError(f"{text} leads outside {home} through a symbolic link.")
    if not folder.is_dir():
        raise InputError(f"There is no folder {text} in {home}.")
    return folder


def subfolders(root: Path, depth: int = 2) -> list[str]:
    """Folders under ``root`` down to ``depth`` levels, as relative POSIX paths, sorted;
    hidden folders and symbolic links are left out; at most :data:`MAX_LISTED`."""
    found: list[str] = []
    level = [root]
    for _ in range(depth):
        following = []
        for folder in level:
            try:
                children = sorted(
                    child for child in folder.iterdir()
                    if child.is_dir() and not child.is_symlink() and not child.name.startswith(".")
                )  # fmt: skip
            except OSError:
                continue
            following += children
            found += [child.relative_to(root).as_posix() for child in children]
            if len(found) >= MAX_LISTED:
                return sorted(found[:MAX_LISTED])
        level = following
    return sorted(found)
