"""Giving freed memory back to the system, so a server's footprint falls when work ends."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time

import streamlit as st

from ui.internals import release_closed_sessions

log = logging.getLogger(__name__)

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


def release_closed_sessions_every(seconds: float = 30.0) -> threading.Thread:
    """Start, once per server, a thread that frees closed sessions' data every ``seconds``
    (see :func:`ui.internals.release_closed_sessions`): an idle server gives it back too."""
    return _janitor(seconds)


@st.cache_resource(show_spinner=False)
def _janitor(seconds: float) -> threading.Thread:
    def loop() -> None:
        while True:
            time.sleep(seconds)
            try:
                released = release_closed_sessions()
            except Exception:  # never let the thread die: the next round may work
                log.exception("releasing closed sessions failed")
                continue
            if released:
                log.info("released %d closed session(s)", released)

    thread = threading.Thread(target=loop, name="percept-release-sessions", daemon=True)
    thread.start()
    return thread
