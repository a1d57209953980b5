"""The live microphone on generated sounds: mono samples, levels, the rolling spectrogram and
YAMNet's tags for the last second."""

from __future__ import annotations

import av
import numpy as np
import pytest
import soundfile as sf

from analysis.audio.tagging import load_yamnet
from analysis.errors import InputError
from analysis.live.microphone import LiveAudio, rolling_spectrogram, tag_last_second
from tests.conftest import require_model


def tone(seconds: float, rate: int = 48_000, hz: float = 1000.0, amplitude: float = 1.0):
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def webrtc_frames(samples: np.ndarray, rate: int = 48_000, chunk: int = 960):
    """Stereo s16 frames of 20 ms, as a browser's Opus stream decodes to."""
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)
    for start in range(0, len(pcm), chunk):
        part = pcm[start : start + chunk]
        frame = av.AudioFrame.from_ndarray(
            np.repeat(part, 2)[np.newaxis], format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = rate, start
        yield frame


def test_microphone_frames_become_mono_samples_with_a_level():
    audio = LiveAudio()
    for frame in webrtc_frames(tone(1.0)):
        audio.frame_callback(frame)
    assert audio.sample_rate == 48_000
    assert audio.heard_s == pytest.approx(1.0, abs=0.03)
    level = audio.level()
    assert level.rms_db == pytest.approx(-3.0, abs=0.2)  # a full-scale sine
    assert level.peak_db == pytest.approx(0.0, abs=0.1)
    np.testing.assert_allclose(audio.last(0.5), tone(1.0)[-24_000:], atol=2e-4)


def test_silence_reads_as_the_floor_level():
    assert LiveAudio().level().rms_db == -120.0
    audio = LiveAudio()
    audio.add(np.zeros(4800), 48_000)
    assert audio.level().rms_db == audio.level().peak_db == -120.0


def test_only_the_last_minutes_are_kept():
    audio = LiveAudio(keep_s=2.0)
    for _ in range(5):
        audio.add(np.ones(16_000), 16_000)
    assert audio.heard_s == 5.0
    assert len(audio.last(60.0)) == 32_000
    with pytest.raises(InputError):
        LiveAudio(keep_s=0)


def test_the_rolling_spectrogram_shows_the_last_seconds_up_to_now():
    samples = np.concatenate([np.zeros(48_000, np.float32), tone(3.0, hz=1000.0, amplitude=0.5)])
    spec = rolling_spectrogram(samples, 48_000, window_s=10.0)
    assert spec.scale == "log"
    assert spec.times[0] == pytest.approx(-10.0) and spec.times[-1] == pytest.approx(0.0)
    loud_row = int(np.argmax(spec.power[:, -1]))
    assert spec.freqs[loud_row] == pytest.approx(1000.0, rel=0.05)
    # The padded past (no sound yet) and the second of silence are dark.
    assert spec.power[:, : spec.power.shape[1] // 2].max() < 1e-9
    with pytest.raises(InputError):
        rolling_spectrogram(samples, 0)


@pytest.fixture(scope="module")
def yamnet():
    require_model("yamnet")
    return load_yamnet()


def test_speech_in_the_last_second_is_tagged_speech(yamnet, speech_wav):
    samples, rate = sf.read(speech_wav, dtype="float32")
    tags = tag_last_second(samples[: rate * 2], rate, yamnet)
    assert len(tags) == 3
    assert tags[0].label == "Speech"
    assert tag_last_second(samples[: rate // 2], rate, yamnet) == []
