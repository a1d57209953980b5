"""Uploaded files written into a batch's input folder: under safe, distinct names, and a
``.zip`` unpacked with its folders (a labelled set: pictures, YOLO labels, classes.txt or a
COCO annotations.json), never outside the folder."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from analysis.errors import InputError

MAX_UNZIPPED_BYTES = 4 * 1024**3  # a zip that would unpack to more is refused (a zip bomb)
MAX_MEMBERS = 100_000


def safe_name(name: str) -> str:
    """One path component: no folder part, control characters or leading dots."""
    return re.sub(r"[\x00-\x1f/\\:]", "_", PurePosixPath(name.replace("\\", "/")).name).lstrip(".")


def save_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[str]:
    """Write uploaded ``(name, data)`` files into ``folder``; returns the paths written,
    relative to it.

    A name loses any folder part and leading dots (hidden files are not analysed); a name
    already taken gets " (2)", " (3)"… before its extension. A ``.zip`` is unpacked into a
    folder of its name (see :func:`unpack_zip`), or as its one top folder when it holds one.

    Raises
    ------
    InputError
        If a zip is damaged or too large once unpacked.
    """
    written = []
    for name, data in files:
        base = _free(folder, safe_name(name) or "file")
        if base.lower().endswith(".zip"):
            written += unpack_zip(data, folder / Path(base).stem, name)
        else:
            (folder / base).write_bytes(data)
            written.append(base)
    return written


def _free(folder: Path, base: str) -> str:
    stem, suffix = Path(base).stem, Path(base).suffix
    candidate, copy = base, 1
    while (folder / candidate).exists() or (folder / Path(candidate).stem).exists():
        copy += 1
        candidate = f"{stem} ({copy}){suffix}"
    return candidate


def unpack_zip(data: bytes, folder: Path, name: str = "The zip file") -> list[str]:
    """Unpack the zip ``data`` into ``folder``, keeping its subfolders; returns the paths
    written relative to ``folder``'s parent. Members whose names climb out ("..", absolute
    paths), links and macOS resource forks are left out.

    Raises
    ------
    InputError
        If the zip is damaged, or holds more than :data:`MAX_UNZIPPED_BYTES` or
        :data:`MAX_MEMBERS` files.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{name} is not a readable zip file.") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise InputError(
            f"{name} unpacks to more than {MAX_MEMBERS:,} files or "
            f"{MAX_UNZIPPED_BYTES / 1024**3:.0f} GB."
        )
    members = [m for m in members if not m.filename.startswith("__MACOSX")]
    tops = {PurePosixPath(m.filename.replace("\\", "/")).parts[0] for m in members}
    if len(tops) == 1 and all("/" in m.filename.replace("\\", "/") for m in members):
        # One top folder (a zipped folder): it becomes the folder, not a folder inside it.
        prefix = len(tops.pop()) + 1
        for member in members:
            member.filename = member.filename[prefix:]
    written = []
    with archive:
        for member in members:
            parts = PurePosixPath(member.filename.replace("\\", "/")).parts
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            if is_link or not parts or parts[0] == "/" or ".." in parts:
                continue
            clean = [re.sub(r"[\x00-\x1f:]", "_", part) for part in parts]
            target = folder.joinpath(*clean)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(archive.read(member))
            except (zipfile.BadZipFile, OSError, EOFError):
                raise InputError(f"{name} is damaged: {member.filename} cannot be read.") from None
            written.append(target.relative_to(folder.parent).as_posix())
    return written
