"""Every file of a batch's folder, each either to analyse or skipped with the reason why.

Nothing in the folder disappears from a batch: a file the task cannot read (a picture given
to "transcribe", a text file, a hidden file, a symbolic link) is a "skipped" row of
``files.parquet`` whose ``error`` column says why in words ("a picture, not a sound").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from analysis.batch.settings import TASKS
from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind

EXTENSIONS = {
    "picture": {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"},
    "sound": {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".m4a"},
    "video": {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts"},
}
"""Names that make an unrecognisable file a candidate anyway: it becomes an "error" row
(a damaged photo is reported as damaged, not skipped as something else)."""

_A = {"picture": "a picture", "sound": "a sound", "video": "a video", "text": "a text file"}
_WANTED = {"picture": "a picture", "sound": "a sound", "picture video": "a picture or a video"}


@dataclass(frozen=True)
class Entry:
    """One file of the folder: ``path`` relative to it (POSIX), its ``kind`` ("picture",
    "sound", "video", "text" or "other"), and why it is skipped ("" when it is analysed)."""

    path: str
    kind: str
    reason: str = ""


def read_kinds(task: str) -> tuple[str, ...]:
    """The kinds of file ``task`` analyses: pictures and videos for "detect", else sounds."""
    return ("picture", "video") if TASKS[task] == "picture" else ("sound",)


def survey(folder: str | os.PathLike, task: str) -> list[Entry]:
    """Every file under ``folder`` (recursively), sorted by relative path.

    A file is analysed when its first bytes say it is of a kind ``task`` reads, whatever its
    name, or when they say nothing but its extension is of such a kind (so a damaged file is
    reported as an error). Every other file is skipped with its reason; so are hidden files
    (".name") and symbolic links, which are not followed. Hidden folders are not entered.

    Raises
    ------
    InputError
        If ``folder`` is not a readable folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root.name or root} is not a folder.")
    wanted = read_kinds(task)
    entries = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                entries.append(Entry(relative, "other", "a symbolic link (not followed)"))
            elif name.startswith("."):
                entries.append(Entry(relative, "other", "a hidden file"))
            elif path.is_file():
                entries.append(_entry(path, relative, wanted))
    return sorted(entries, key=lambda entry: entry.path)


def _entry(path: Path, relative: str, wanted: tuple[str, ...]) -> Entry:
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        head = None  # unreadable: its extension decides, and reading it will say why
    kind = file_kind(head) if head else None
    if kind is None:
        suffix = path.suffix.lower()
        kind = next((k for k, names in EXTENSIONS.items() if suffix in names), None)
        if kind is None:
            kind = "text" if head is not None and _is_text(head) else "other"
    if kind in wanted:
        return Entry(relative, kind)
    expected = _WANTED[" ".join(wanted)]
    if kind == "other":
        return Entry(relative, kind, f"not {expected} (its content is not recognised)")
    return Entry(relative, kind, f"{_A[kind]}, not {expected}")


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head
