"""The Audio page's caches keep the file a person works on, for an hour or until no session
is open: a server that saw many uploads, or whose work is over, gives their memory back."""

from __future__ import annotations

import gc
import io
import weakref

import numpy as np
import pytest
import soundfile as sf
from streamlit.runtime.caching import cache_utils

import ui.sections.sound as sound
from ui.sections.sound import CLIPS_KEPT, decode
from ui.sections.spectrogram import analysed_signal

pytestmark = pytest.mark.usefixtures("fresh_caches")


class Clock:
    """Streamlit's cache timer, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(cache_utils, "TTLCACHE_TIMER", clock)
    return clock


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """The names of the files actually decoded (not served from the cache)."""
    names = []
    original = sound.load_media

    def counting(data, name, progress):
        names.append(name)
        return original(data, name=name, progress=progress)

    monkeypatch.setattr(sound, "load_media", counting)
    return names


def stereo_wav(seed: int) -> bytes:
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, (8000, 2)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, 8000, format="WAV")
    return buffer.getvalue()


def alive(refs: list[weakref.ref]) -> list[bool]:
    gc.collect()
    return [ref() is not None for ref in refs]


def work_on(name: str) -> weakref.ref:
    """Open a stereo file as the page does: decode it, show its mix and both channels."""
    clip = decode(name, stereo_wav(sum(name.encode())), name)
    for channel in (None, 0, 1):
        analysed_signal(name, clip, channel)
    return weakref.ref(clip)


def test_the_current_file_stays_decoded_and_the_one_before_goes(clock, decodes):
    work_on("a.wav")
    work_on("a.wav")  # a control change: nothing decoded again
    work_on("b.wav")
    work_on("a.wav")  # back to the previous file: decoded again from its kept bytes
    assert decodes == ["a.wav", "b.wav", "a.wav"]
    assert CLIPS_KEPT == 1


def test_many_uploads_keep_only_the_last_clip_alive(clock, decodes):
    clips = [work_on(f"{n}.wav") for n in range(8)]
    # The channels shown are views of their clip: they must not keep older clips alive.
    assert alive(clips) == [False] * 7 + [True]


def test_an_hour_later_the_memory_goes_back(clock, decodes):
    first = work_on("a.wav")
    clock.now += 30 * 60
    work_on("a.wav")  # still at work half an hour later: kept
    assert decodes == ["a.wav"]
    clock.now += 31 * 60
    later = work_on("b.wav")  # the next file, an hour after: the first is let go
    assert alive([first, later]) == [False, True]
    work_on("b.wav")
    assert decodes == ["a.wav", "b.wav"]
