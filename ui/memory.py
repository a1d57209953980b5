"""The server's memory: decoded files cached under one byte budget, and freed memory given
back to the system, so a server's footprint falls when work ends.

``PERCEPT_FILES_BUDGET_MB`` (default 1024) bounds the decoded files kept for the pages
(samples, mixes, pictures, playback WAVs): the least recently used go first, and a file
larger than the whole budget is analysed without being kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import functools
import gc
import inspect
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import cachetools
import numpy as np
import streamlit as st

from ui.internals import open_sessions, release_closed_sessions

log = logging.getLogger(__name__)

FILES_BUDGET_MB = float(os.environ.get("PERCEPT_FILES_BUDGET_MB", 1024))
FILES_KEPT_S = 3600.0  # and an hour at most: the janitor drops them sooner on an idle server
_PER_FILE: list[Callable[[], None]] = []  # clear() of each cache registered by per_file()
_PER_SOUND: list[Callable[[], None]] = []  # the same, by per_sound()
_sound_at_work: list[str] = []  # the file key of the sound last opened
_sound_lock = threading.Lock()
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
# Bytes; above the STFT's batch buffers of 2 MB (analysis.audio.stft.BATCH_SAMPLES), which
# the heap hands out again from one batch to the next.
MMAP_THRESHOLD = 4 << 20
# Twice the mmap threshold, as glibc sets it when it moves that threshold itself. Fixing the
# threshold leaves the trim at 128 kB, and each heap was then given back and faulted in
# again between the STFT's batches: 100 000 page faults and 0.3 s of kernel time for one
# picture of a 10-minute file, more than the FFTs took.
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def return_freed_memory() -> bool:
    """Make every allocation of 4 MB or more (decoded sounds, pictures, frames) its own
    mapping, unmapped as soon as it is freed. glibc's default threshold grows after the first
    large frees, up to 32 MB, and later buffers then stay in the heap once freed: three
    12-megapixel photos left 700 MB resident instead of 380 MB. Up to 8 MB free at the top of
    a heap stays for the next allocations (:func:`trim_heaps` gives it back once no session
    is open). True when it took effect (glibc only; elsewhere nothing changes)."""
    libc = _libc()
    try:
        return bool(
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    except AttributeError:  # no libc, or not glibc
        log.info("mallopt is not available: memory is returned as the allocator decides")
        return False


def trim_heaps() -> None:
    """Give the free memory of every heap back to the system (glibc's ``malloc_trim``)."""
    with contextlib.suppress(AttributeError):  # no libc, or not glibc
        _libc().malloc_trim(0)


def weight(value: object) -> int:
    """Bytes of the arrays and byte strings in ``value`` and in its fields or items, two
    levels down (a ``Picture``'s arrays and JPEG; an ``AudioClip``'s samples, also inside a
    tuple); at least 1. A view of another array (a channel of a clip) weighs nothing: its
    memory is weighed where its base is kept."""
    return max(1, _bytes_in(value, 2))


def _bytes_in(value: object, depth: int) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes if value.base is None else 0
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if depth == 0:
        return 0
    if isinstance(value, tuple | list):
        parts = value
    elif dataclasses.is_dataclass(value):
        parts = [getattr(value, field.name) for field in dataclasses.fields(value)]
    else:
        return 0
    return sum(_bytes_in(part, depth - 1) for part in parts)


def _now() -> float:
    return time.monotonic()


_files = cachetools.TTLCache(
    maxsize=int(FILES_BUDGET_MB * 2**20), ttl=FILES_KEPT_S, timer=lambda: _now(), getsizeof=weight
)
_files_lock = threading.Lock()
_used: dict[tuple, int] = {}  # when each kept value was last asked for, in calls
_computing: dict[tuple, threading.Lock] = {}  # held while a value is computed
_uses = itertools.count(1)


def per_file(
    function: Callable[..., Any] | None = None,
    *,
    max_entries: int | None = None,
    spinner: str | None = None,
) -> Any:
    """Cache ``function``'s results, one large value per file (decoded samples, pictures),
    under the server's byte budget (:data:`FILES_BUDGET_MB`, least recently used first) and
    at most ``max_entries`` of them, shared by every session, and emptied once no browser
    session is open (:func:`drop_per_file_caches`).

    As with ``st.cache_resource``, arguments named with a leading underscore (the file's
    bytes, a progress callback) are not part of the key; ``spinner`` is shown while a value
    is computed. The wrapper's ``clear()`` drops this function's values.
    """
    if function is None:
        return functools.partial(per_file, max_entries=max_entries, spinner=spinner)
    signature = inspect.signature(function)
    name = function.__qualname__

    @functools.wraps(function)
    def cached(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = (name, *(v for k, v in bound.arguments.items() if not k.startswith("_")))
        with _files_lock:
            if key in _files:
                _used[key] = next(_uses)
                return _files[key]
            computing = _computing.setdefault(key, threading.Lock())
        with computing:  # one computation per key: a second session waits for the first's
            with _files_lock:
                if key in _files:
                    _used[key] = next(_uses)
                    return _files[key]
            try:
                value = _compute(function, spinner, args, kwargs)
                _keep(key, value, name, max_entries)
            finally:
                with _files_lock:
                    _computing.pop(key, None)
        return value

    def clear() -> None:
        with _files_lock:
            for key in [key for key in _files if key[0] == name]:
                _files.pop(key, None)

    cached.clear = clear
    _PER_FILE.append(clear)
    return cached


def _compute(function: Callable[..., Any], spinner: str | None, args: tuple, kwargs: dict) -> Any:
    if spinner is None:
        return function(*args, **kwargs)
    with st.spinner(spinner):
        return function(*args, **kwargs)


def _keep(key: tuple, value: Any, name: str, max_entries: int | None) -> None:
    """Keep ``value`` under ``key``, making room for it under ``max_entries`` of ``name``'s."""
    with _files_lock:
        if max_entries is not None:  # room for this one: this function's oldest go
            mine = sorted((k for k in _files if k[0] == name), key=lambda k: _used.get(k, 0))
            for old in mine[: max(0, len(mine) + 1 - max_entries)]:
                _files.pop(old, None)
        try:
            _files[key] = value
            _used[key] = next(_uses)
        except ValueError:  # larger than the whole budget: used now, not kept
            log.info("%s: %d MB is over the budget, not kept", name, weight(value) >> 20)
        for gone in _used.keys() - _files.keys():
            del _used[gone]


def per_sound(max_entries: int) -> Callable[[Callable[..., Any]], Any]:
    """:func:`per_file` for the sound at work, also emptied when another sound is opened
    (:func:`opening_sound`)."""

    def register(function: Callable[..., Any]) -> Any:
        cached = per_file(function, max_entries=max_entries)
        _PER_SOUND.append(cached.clear)
        return cached

    return register


def opening_sound(file_key: str) -> None:
    """Before a sound (content hash ``file_key``) is decoded: if it is not the one opened
    last, empty the :func:`per_sound` caches: a 10-minute stereo file's samples and mix
    (320 MB) would otherwise stay beside the next one's while it decodes."""
    with _sound_lock:
        if _sound_at_work and _sound_at_work[0] != file_key:
            for clear in _PER_SOUND:
                clear()
        _sound_at_work[:] = [file_key]


def drop_per_file_caches() -> None:
    """Empty every cache registered by :func:`per_file`: what a person works on is decoded
    again from its kept bytes when they come back (a second or two for ten minutes of sound),
    and an idle server holds models and libraries only."""
    for clear in _PER_FILE:
        clear()


def tidy() -> int:
    """One round of the server's janitor: release closed sessions (see
    :func:`ui.internals.release_closed_sessions`), then the decoded files if no session is
    open; returns how many sessions were released.

    Streamlit's collection after every run is off (``.streamlit/config.toml``: it held the
    GIL 0.15 s while a run's picture waited to be sent), so a full one runs here instead,
    when sessions were let go or the last one closed: their reference cycles are freed then.
    Once the last one has closed, the heaps' free memory goes back to the system too.
    """
    global _was_idle
    released = release_closed_sessions()
    idle = open_sessions() == 0
    if idle:
        drop_per_file_caches()
    if released or (idle and not _was_idle):
        gc.collect()
    if idle and not _was_idle:
        trim_heaps()
    _was_idle = idle
    return released


_was_idle = False  # no session was open at the janitor's last round


def release_closed_sessions_every(seconds: float = 30.0) -> threading.Thread:
    """Start, once per server, a thread that frees closed sessions' data every ``seconds``
    (see :func:`ui.internals.release_closed_sessions`), and the decoded files once no session
    is open: an idle server gives it back too."""
    return _janitor(seconds)


@st.cache_resource(show_spinner=False)
def _janitor(seconds: float) -> threading.Thread:
    def loop() -> None:
        while True:
            time.sleep(seconds)
            try:
                released = tidy()
            except Exception:  # never let the thread die: the next round may work
                log.exception("releasing closed sessions failed")
                continue
            if released:
                log.info("released %d closed session(s)", released)

    thread = threading.Thread(target=loop, name="percept-release-sessions", daemon=True)
    thread.start()
    return thread
