"""The server gives freed memory back: large buffers are unmapped when freed (glibc)."""

import ctypes
import ctypes.util
import sys

import numpy as np
import pytest

from ui.memory import return_freed_memory

LIBC = ctypes.util.find_library("c")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux") or LIBC is None, reason="glibc's")
def test_large_buffers_go_back_to_the_system_though_small_ones_stay_after_them():
    libc = ctypes.CDLL(LIBC)
    libc.malloc.restype = ctypes.c_void_p
    assert return_freed_memory()
    big = np.ones(16 * 2**20, np.uint8)  # by default, freeing it raises glibc's threshold
    del big
    before = rss_mb()
    pictures, pinned = [], []
    for _ in range(30):  # 30 pictures of 8 MB, a small block kept after each (a session's)
        pictures.append(np.ones((1000, 1000, 8), np.uint8))
        pinned.append(libc.malloc(4096))
    del pictures
    # By default the 240 MB would stay, held in the heap by the small blocks after them.
    assert rss_mb() - before < 60
    for block in pinned:
        libc.free(ctypes.c_void_p(block))
