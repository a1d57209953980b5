"""The server-side store behind ``?w=`` links: what a page keeps of a person's work.

Each link id (128 random bits) owns a private folder holding its remembered controls
(``state.json``) and its kept files (``files/<sha256>``). Every write goes to a temporary
file first and is renamed into place, so a server stopped mid-write leaves the old version or
none, never half of one. The store keeps under a byte budget, dropping the least recently used
links first, and forgets a link unused for longer than its age limit.

Settings (environment): ``PERCEPT_LINKS=off`` turns links off; ``PERCEPT_LINKS_DIR`` (default
``~/.cache/percept/links``), ``PERCEPT_LINKS_BUDGET_MB`` (2048) and ``PERCEPT_LINKS_DAYS`` (7).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 128 random bits
DIGEST = re.compile(r"[0-9a-f]{24}")  # a kept file's name: the start of its sha256, hex
STATE = "state.json"
FILES = "files"


@dataclass(frozen=True)
class StoreSettings:
    """Where links are kept, how many bytes they may take in all, and for how long (s)."""

    root: Path
    budget_bytes: int = 2048 * 2**20
    max_age_s: float = 7 * 86_400.0

    @classmethod
    def from_environment(cls) -> StoreSettings | None:
        """The settings from ``PERCEPT_LINKS*``; None when links are turned off."""
        if os.environ.get("PERCEPT_LINKS", "on").lower() in ("off", "0", "no", "false"):
            return None
        default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        root = Path(os.environ.get("PERCEPT_LINKS_DIR", default / "percept" / "links"))
        budget_mb = float(os.environ.get("PERCEPT_LINKS_BUDGET_MB", 2048))
        days = float(os.environ.get("PERCEPT_LINKS_DAYS", 7))
        return cls(root, int(budget_mb * 2**20), days * 86_400.0)


@dataclass
class Saved:
    """A link's work: remembered control values, and kept files as slot → (name, bytes)."""

    values: dict[str, Any] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def new_id() -> str:
    return secrets.token_urlsafe(16)


def digest_of(data: bytes) -> str:
    """What names a kept file: the start of its sha256 (as ``ui.state.KeptFile.digest``)."""
    return hashlib.sha256(data).hexdigest()[:24]


def encode_value(value: Any) -> Any:
    """``value`` as JSON, tuples tagged so they come back as tuples; raises TypeError for
    what JSON cannot hold faithfully."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        items = [encode_value(item) for item in value]
        return {"tuple": items} if isinstance(value, tuple) else items
    raise TypeError(type(value).__name__)


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(decode_value(item) for item in value["tuple"])
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    return value


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)  # no fsync: a server's restart keeps the page cache, and an
        os.replace(temporary, path)  # fsync of a long recording would hold its page up
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class WorkStore:
    """Links' work on disk, one private folder per id (see the module's notes)."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings

    def folder(self, link: str) -> Path | None:
        """The folder of a well-formed id, else None: an id never names another path."""
        if not isinstance(link, str) or not ID.fullmatch(link):
            return None
        return self.settings.root / link

    def load(self, link: str) -> Saved | None:
        """The work of ``link``, or None when the id is malformed, unknown or expired."""
        folder = self.folder(link)
        if folder is None or not (folder / STATE).is_file():
            return None
        if time.time() - (folder / STATE).stat().st_mtime > self.settings.max_age_s:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        try:
            state = json.loads((folder / STATE).read_text())
            saved = Saved({k: decode_value(v) for k, v in state["values"].items()})
            for slot, (name, digest) in state["files"].items():
                data = (folder / FILES / digest).read_bytes()
                if digest_of(data) == digest:  # else a damaged file: left out
                    saved.files[slot] = (name, data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        os.utime(folder / STATE)  # used now: its age counts from here
        return saved

    def save(
        self, link: str, values: dict[str, Any], files: dict[str, tuple[str, str, bytes]]
    ) -> None:
        """Keep ``values`` (those JSON can hold) and ``files`` (slot → name, digest of the
        bytes as :func:`digest_of` gives it, bytes) as ``link``'s work; a file already kept
        is not written again."""
        folder = self.folder(link)
        if folder is None:
            raise ValueError("not a link id")
        new = not (folder / STATE).is_file()
        (folder / FILES).mkdir(parents=True, exist_ok=True)
        encoded, named, wrote = {}, {}, False
        for key, value in values.items():
            try:
                encoded[key] = encode_value(value)
            except TypeError:
                continue  # not kept: the control starts at its default after a reload
        for slot, (name, digest, data) in files.items():
            if len(data) > self.settings.budget_bytes // 4 or not DIGEST.fullmatch(digest):
                continue  # too large to keep: a reload asks for the file again
            if not (folder / FILES / digest).is_file():
                write_atomically(folder / FILES / digest, data)
                wrote = True
            named[slot] = (name, digest)
        state = json.dumps({"values": encoded, "files": named}).encode()
        write_atomically(folder / STATE, state)
        used = {digest for _, digest in named.values()}
        for stale in (folder / FILES).iterdir():
            if stale.name not in used:
                stale.unlink(missing_ok=True)
        if wrote or new:  # not on a control change: that must stay cheap
            self.prune()

    def prune(self) -> None:
        """Drop expired links, then the least recently used until under the byte budget."""
        root = self.settings.root
        if not root.is_dir():
            return
        links = []
        for folder in root.iterdir():
            state = folder / STATE
            try:  # a link still saving its first files has no state yet: its folder's time
                used = (state if state.is_file() else folder).stat().st_mtime
            except OSError:
                continue  # dropped meanwhile
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            links.append((used, size, folder))
        links.sort()
        total = sum(size for _, size, _ in links)
        now = time.time()
        for used, size, folder in links:
            if total <= self.settings.budget_bytes and now - used <= self.settings.max_age_s:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
