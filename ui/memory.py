"""Giving freed memory back to the system, so a server's footprint falls when work ends."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from ui.internals import open_sessions, release_closed_sessions

Cached = TypeVar("Cached")

log = logging.getLogger(__name__)

_PER_FILE: list[Callable[[], None]] = []  # clear() of each cache registered by per_file()
_PER_SOUND: list[Callable[[], None]] = []  # the same, by per_sound()
_sound_at_work: list[str] = []  # the file key of the sound last opened
_sound_lock = threading.Lock()
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 1 << 20  # bytes


def return_freed_memory() -> bool:
    """Make every allocation of 1 MB or more (decoded sounds, pictures, frames) its own
    mapping, unmapped as soon as it is freed. glibc's default threshold grows after the first
    large frees, up to 32 MB, and later buffers then stay in the heap once freed: three
    12-megapixel photos left 700 MB resident instead of 380 MB. True when it took effect
    (glibc only; elsewhere nothing changes)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError, TypeError):
        log.info("mallopt is not available: memory is returned as the allocator decides")
        return False


def per_file(cached: Cached) -> Cached:
    """Register a Streamlit cache of one file's large data (decoded samples, pictures) to be
    emptied once no browser session is open (:func:`drop_per_file_caches`); returns it."""
    _PER_FILE.append(cached.clear)
    return cached


def per_sound(cached: Cached) -> Cached:
    """:func:`per_file` for a cache of the sound at work, also emptied when another sound is
    opened (:func:`opening_sound`); returns it."""
    _PER_SOUND.append(cached.clear)
    return per_file(cached)


def opening_sound(file_key: str) -> None:
    """Before a sound (content hash ``file_key``) is decoded: if it is not the one opened
    last, empty the :func:`per_sound` caches. Caches of one entry drop the old sound only once
    the new one is in, so a 10-minute stereo file's samples and mix (320 MB) stayed beside
    the next one's while it decoded."""
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
    open; returns how many sessions were released."""
    released = release_closed_sessions()
    if open_sessions() == 0:
        drop_per_file_caches()
    return released


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
