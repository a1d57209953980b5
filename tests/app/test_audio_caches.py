"""The Audio page's caches keep the file a person works on, for an hour, until another is
opened, until no session is open, or until the decoded files' byte budget needs the room: a
server that saw many uploads, or whose work is over, gives their memory back."""

from __future__ import annotations

import gc
import io
import weakref

import cachetools
import numpy as np
import pytest
import soundfile as sf

import ui.memory
import ui.sections.sound as sound
from ui.memory import per_file, weight
from ui.sections.reading import open_sound
from ui.sections.spectrogram import analysed_signal

pytestmark = pytest.mark.usefixtures("fresh_caches")


class Clock:
    """The decoded files' cache timer, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ui.memory, "_now", clock)
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
    clip = open_sound(name, stereo_wav(sum(name.encode())), name).clip
    for channel in (None, 0, 1):
        analysed_signal(name, clip, channel)
    return weakref.ref(clip)


def test_the_current_file_stays_decoded_and_the_one_before_goes(clock, decodes):
    work_on("a.wav")
    work_on("a.wav")  # a control change: nothing decoded again
    work_on("b.wav")
    work_on("a.wav")  # back to the previous file: decoded again from its kept bytes
    assert decodes == ["a.wav", "b.wav", "a.wav"]


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
    again = work_on("a.wav")  # an hour after it was decoded: let go, and decoded again
    assert decodes == ["a.wav", "a.wav"]
    assert alive([first, again]) == [False, True]


def test_the_byte_budget_drops_the_least_recently_used_and_keeps_nothing_too_large(
    monkeypatch, clock
):
    budget = cachetools.TTLCache(maxsize=3000, ttl=3600, timer=clock, getsizeof=weight)
    monkeypatch.setattr(ui.memory, "_files", budget)
    made = []

    @per_file
    def samples(key: str, size: int, _note: str = "") -> np.ndarray:
        made.append(key)
        return np.zeros(size, np.uint8)

    first = samples("a", 1000)
    assert samples("a", 1000, _note="not part of the key") is first
    samples("b", 1000)
    samples("a", 1000)  # used again: now b is the least recently used
    samples("c", 1500)  # 3500 bytes would be over the budget: b goes
    assert made == ["a", "b", "c"]
    samples("a", 1000)
    samples("b", 1000)
    assert made == ["a", "b", "c", "b"]
    samples("huge", 5000)  # over the whole budget: computed, not kept, the others stay
    samples("huge", 5000)
    assert made[-2:] == ["huge", "huge"]
    assert set(key[1] for key in budget) == {"a", "b"} and budget.currsize == 2000
    samples.clear()
    assert budget.currsize == 0

    @per_file(max_entries=2)
    def pictures(key: str) -> np.ndarray:
        made.append(key)
        return np.zeros(10, np.uint8)

    for key in ("p", "q", "p", "r", "p", "q"):  # r takes q's place, then q takes r's
        pictures(key)
    assert made[-4:] == ["p", "q", "r", "q"]


def test_a_value_weighs_its_arrays_and_bytes():
    clip = open_sound("w.wav", stereo_wav(1), "w.wav").clip
    assert weight(clip) == clip.samples.nbytes == 8000 * 2 * 4
    assert weight((clip, 2.5)) == clip.samples.nbytes
    assert weight(clip.channel(0)) == 1  # a view: weighed where its clip is kept
    assert weight(b"1234") == 4 and weight("text") == 1


def test_two_sessions_asking_for_the_same_file_at_once_decode_it_once(monkeypatch):
    import threading

    started, asked_twice, release = (threading.Event() for _ in range(3))
    made = []
    asked = []

    class Watched(dict):
        """The cache's locks in computation, noting each session that asks for one."""

        def setdefault(self, key, default):
            lock = super().setdefault(key, default)
            asked.append(key)
            if len(asked) == 2:
                asked_twice.set()
            return lock

    monkeypatch.setattr(ui.memory, "_computing", Watched())

    @per_file
    def slow(key: str) -> np.ndarray:
        made.append(key)
        started.set()
        release.wait(5)
        return np.zeros(10, np.uint8)

    results = []
    sessions = [threading.Thread(target=lambda: results.append(slow("same"))) for _ in range(2)]
    sessions[0].start()
    assert started.wait(5)
    sessions[1].start()
    assert asked_twice.wait(5)  # the second asks while the first still decodes...
    release.set()
    for session in sessions:
        session.join(5)
    assert made == ["same"] and results[0] is results[1]  # ...and gets the first's result
