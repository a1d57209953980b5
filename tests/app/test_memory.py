"""The server gives freed memory back: large buffers are unmapped when freed (glibc)."""

import ctypes
import ctypes.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ui.memory import return_freed_memory

LIBC = ctypes.util.find_library("c")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def kept_mb() -> float:
    """MB still resident after 30 pictures of 8 MB are freed, each with a small block kept
    after it (a session's), once big buffers are made their own mappings."""
    libc = ctypes.CDLL(LIBC)
    libc.malloc.restype = ctypes.c_void_p
    assert return_freed_memory()
    big = np.ones(16 * 2**20, np.uint8)  # by default, freeing it raises glibc's threshold
    del big
    before = rss_mb()
    pictures, pinned = [], []
    for _ in range(30):
        pictures.append(np.ones((1000, 1000, 8), np.uint8))
        pinned.append(libc.malloc(4096))
    del pictures
    kept = rss_mb() - before
    for block in pinned:
        libc.free(ctypes.c_void_p(block))
    return kept


glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or LIBC is None, reason="glibc's"
)


def measured_alone(function: str) -> str:
    """What ``function`` of this module prints when run in a process of its own, as a server
    starts: threads left running by other tests would allocate while it measures."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from tests.app.test_memory import {function}; print({function}())",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@glibc_only
def test_large_buffers_go_back_to_the_system_though_small_ones_stay_after_them():
    # By default the 240 MB would stay, held in the heap by the small blocks after them.
    assert float(measured_alone("kept_mb")) < 60


def stft_page_faults() -> int:
    """Minor page faults of one spectrogram of 2 minutes at 44.1 kHz, after a first one."""
    import resource

    from analysis.audio.spectrogram import spectrogram
    from analysis.audio.stft import STFTParams

    assert return_freed_memory()
    signal = np.random.default_rng(0).standard_normal(120 * 44100).astype(np.float32)
    params = STFTParams(n_fft=4096, hop_length=2048)
    spectrogram(signal, 44100, params, max_columns=1122, max_rows=406)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    spectrogram(signal, 44100, params, max_columns=1122, max_rows=406)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@glibc_only
def test_the_stft_reuses_its_batch_buffers_instead_of_faulting_them_in_again():
    # With the trim left at 128 kB: about 20 000 (a batch's 2 MB faulted in each time).
    assert int(measured_alone("stft_page_faults")) < 2000


def test_decoded_files_are_dropped_once_no_session_is_open(monkeypatch):
    import ui.memory
    from analysis.audio.decode import to_wav_bytes
    from ui.sections.sound import decode
    from ui.sections.vision import uploaded_picture

    sound = to_wav_bytes(np.zeros(16_000, np.float32), 16_000)
    clip = decode("silence", sound, "silence.wav")
    assert decode("silence", sound, "silence.wav") is clip  # kept while someone works on it
    from tests.support.corpus import png

    picture = uploaded_picture("grey", png(np.full((20, 30, 3), 128, np.uint8)))
    ui.memory.drop_per_file_caches()
    assert decode("silence", sound, "silence.wav") is not clip  # decoded again
    assert uploaded_picture("grey", png(np.full((20, 30, 3), 128, np.uint8))) is not picture
    # The server's janitor drops them when no browser session is open, not while one is.
    dropped = []
    monkeypatch.setattr(ui.memory, "drop_per_file_caches", lambda: dropped.append(1))
    monkeypatch.setattr(ui.memory, "release_closed_sessions", lambda: 0)
    for open_now, drops in ((1, 0), (0, 1)):
        monkeypatch.setattr(ui.memory, "open_sessions", lambda n=open_now: n)
        ui.memory.tidy()
        assert len(dropped) == drops


def test_the_janitor_frees_reference_cycles_once_sessions_are_let_go(monkeypatch):
    """Streamlit's collection after each run is off: the janitor's round collects instead,
    when it released a session or the last one closed, not while sessions work and none
    was released, nor again on an idle server. The heaps are trimmed once, when the last
    session has closed."""
    import gc
    import weakref

    import ui.memory

    class Node:  # a cycle that only a collection frees
        pass

    monkeypatch.setattr(ui.memory, "drop_per_file_caches", lambda: None)
    monkeypatch.setattr(ui.memory, "_was_idle", False)
    trims = []
    monkeypatch.setattr(ui.memory, "trim_heaps", lambda: trims.append(1))
    gc.disable()  # no automatic collection in between
    try:
        # (sessions open, sessions released, whether the round frees the cycle, trims so far)
        rounds = ((1, 0, False, 0), (1, 1, True, 0), (0, 0, True, 1), (0, 0, False, 1))
        for open_now, released, freed, trimmed in rounds:
            node = Node()
            node.self = node
            alive = weakref.ref(node)
            del node
            monkeypatch.setattr(ui.memory, "open_sessions", lambda n=open_now: n)
            monkeypatch.setattr(ui.memory, "release_closed_sessions", lambda n=released: n)
            ui.memory.tidy()
            assert (alive() is None) is freed
            assert len(trims) == trimmed
            gc.collect()
    finally:
        gc.enable()


def test_opening_another_sound_lets_the_last_ones_samples_go_before_it_decodes():
    from analysis.audio.decode import to_wav_bytes
    from tests.support.corpus import png
    from ui.sections.reading import open_sound
    from ui.sections.spectrogram import analysed_signal
    from ui.sections.vision import uploaded_picture

    first = to_wav_bytes(np.zeros((2, 16_000), np.float32), 16_000)
    second = to_wav_bytes(np.ones((2, 8_000), np.float32) * 0.1, 16_000)
    picture = uploaded_picture("grey", png(np.full((20, 30, 3), 128, np.uint8)))
    opened = open_sound("first", first, "first.wav")
    mix = analysed_signal("first", opened.clip, None)
    assert open_sound("first", first, "first.wav").clip is opened.clip  # the same: kept
    assert analysed_signal("first", opened.clip, None) is mix
    open_sound("second", second, "second.wav")
    # The first sound's samples and mix are gone (a third call computes them again), the
    # picture another page works on is not.
    assert analysed_signal("first", opened.clip, None) is not mix
    assert open_sound("first", first, "first.wav").clip is not opened.clip
    assert uploaded_picture("grey", png(np.full((20, 30, 3), 128, np.uint8))) is picture
