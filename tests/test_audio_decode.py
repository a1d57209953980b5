"""Decoding every listed format at its native rate, and one clear error for anything else."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from analysis.audio import AudioClip, demo_clip, load_audio, to_wav_bytes
from analysis.errors import InputError
from tests.conftest import require_tool


def tone(sr: int, seconds: float = 0.5, hz: float = 440.0, channels: int = 2) -> np.ndarray:
    """(frames, channels) float32; channel k at amplitude 0.5 / (k + 1)."""
    t = np.arange(int(sr * seconds)) / sr
    wave = np.sin(2 * np.pi * hz * t)
    return np.stack([0.5 / (k + 1) * wave for k in range(channels)], axis=1).astype(np.float32)


def dominant_hz(clip: AudioClip) -> float:
    mono = clip.mono()
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.fft.rfftfreq(len(mono), 1 / clip.sample_rate)[spectrum.argmax()])


@pytest.mark.parametrize(
    ("suffix", "sr", "write", "container", "subtype"),
    [
        ("wav", 44100, {}, "WAV", "PCM_16"),
        ("wav", 48000, {"subtype": "PCM_24"}, "WAV", "PCM_24"),
        ("wav", 44100, {"subtype": "FLOAT"}, "WAV", "FLOAT"),
        ("wav", 22050, {"subtype": "PCM_U8"}, "WAV", "PCM_U8"),
        ("flac", 44100, {}, "FLAC", "PCM_16"),
        ("ogg", 44100, {}, "OGG", "VORBIS"),
        ("oga", 32000, {"format": "OGG"}, "OGG", "VORBIS"),
        ("opus", 48000, {"format": "OGG", "subtype": "OPUS"}, "OGG", "OPUS"),
        ("mp3", 44100, {}, "MP3", "MPEG_LAYER_III"),
        ("aiff", 44100, {}, "AIFF", "PCM_16"),
        ("aif", 96000, {"format": "AIFF", "subtype": "PCM_24"}, "AIFF", "PCM_24"),
    ],
)
def test_every_format_decodes_at_its_native_rate(tmp_path, suffix, sr, write, container, subtype):
    path = tmp_path / f"tone.{suffix}"
    sf.write(path, tone(sr), sr, **write)
    for clip in (load_audio(path), load_audio(path.read_bytes(), name=path.name)):
        assert (clip.format, clip.subtype) == (container, subtype)
        assert clip.sample_rate == sr  # never resampled
        assert clip.channels == 2 and clip.samples.dtype == np.float32
        assert clip.duration == pytest.approx(0.5, abs=0.06)  # lossy codecs pad a little
        assert dominant_hz(clip) == pytest.approx(440, abs=5)
        assert np.abs(clip.samples).max() <= 1.0 and not clip.warnings


@pytest.mark.parametrize("sr", [8000, 192000])
def test_extreme_sample_rates_are_kept(tmp_path, sr):
    path = tmp_path / "tone.wav"
    sf.write(path, tone(sr, hz=1000), sr)
    clip = load_audio(path)
    assert clip.sample_rate == sr and dominant_hz(clip) == pytest.approx(1000, abs=5)


def test_24_bit_and_float_keep_their_precision(tmp_path):
    quiet = np.full((1000, 1), 3e-6, dtype=np.float32)  # below 16-bit resolution (3e-5)
    for subtype in ("PCM_24", "FLOAT", "DOUBLE"):
        path = tmp_path / f"quiet-{subtype}.wav"
        sf.write(path, quiet, 48000, subtype=subtype)
        assert load_audio(path).samples[0, 500] == pytest.approx(3e-6, rel=0.05)


def test_eight_channels_mix_down_or_pick_one(tmp_path):
    path = tmp_path / "eight.wav"
    sf.write(path, tone(16000, channels=8), 16000)
    clip = load_audio(path)
    assert clip.channels == 8 and clip.samples.shape == (8, 8000)
    peaks = [np.abs(clip.channel(k)).max() for k in range(8)]
    assert peaks == pytest.approx([0.5 / (k + 1) for k in range(8)], abs=1e-3)
    assert np.abs(clip.mono()).max() == pytest.approx(
        np.mean([0.5 / (k + 1) for k in range(8)]), abs=1e-3
    )
    with pytest.raises(InputError, match="Channel 9 does not exist"):
        clip.channel(8)


def test_upper_case_extension(tmp_path):
    path = tmp_path / "LOUD.WAV"
    sf.write(path, tone(44100), 44100)
    assert load_audio(path).format == "WAV"


def test_sox_conversions_decode(tmp_path):
    sox = require_tool("sox")
    source = tmp_path / "source.wav"
    sf.write(source, tone(44100, channels=1), 44100)
    for name in ("from-sox.aiff", "from-sox-24.flac"):
        target = tmp_path / name
        extra = ["-b", "24"] if "24" in name else []
        subprocess.run([sox, str(source), *extra, str(target)], check=True)
        clip = load_audio(target)
        assert clip.sample_rate == 44100 and dominant_hz(clip) == pytest.approx(440, abs=5)


def test_nan_and_infinity_become_silence_with_a_warning(tmp_path):
    samples = tone(8000)
    samples[10, 0], samples[20, 1], samples[30, 0] = np.nan, np.inf, -np.inf
    path = tmp_path / "bad-values.wav"
    sf.write(path, samples, 8000, subtype="FLOAT")
    clip = load_audio(path)
    assert np.isfinite(clip.samples).all()
    assert clip.samples[0, 10] == 0 and clip.samples[1, 20] == 0
    assert clip.warnings == ("3 invalid samples (NaN or infinity) were replaced by silence.",)


def test_silence_and_a_20_ms_clip_decode(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, np.zeros((320, 1), dtype=np.float32), 16000)
    clip = load_audio(path)
    assert clip.duration == pytest.approx(0.02) and not clip.samples.any()


def test_truncated_flac_keeps_what_decodes_and_says_so(tmp_path):
    path = tmp_path / "long.flac"
    sf.write(path, np.random.default_rng(0).uniform(-0.5, 0.5, (44100 * 2, 1)), 44100)
    data = path.read_bytes()
    clip = load_audio(data[: len(data) // 2], name="cut.flac")
    assert 0 < clip.duration < 2.0
    assert clip.warnings and "truncated" in clip.warnings[0]


def test_truncated_wav_decodes_its_first_part(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(8000, seconds=2.0), 8000)
    data = path.read_bytes()
    assert load_audio(data[: len(data) // 2]).duration == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"“x\.wav” is empty\."),
        (b"just some words, not sound\n" * 20, "could not be read as audio"),
        (
            bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)),
            "could not be read",
        ),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "could not be read as audio"),
    ],
)
def test_bad_content_is_one_input_error(content, message):
    with pytest.raises(InputError, match=message):
        load_audio(content, name="x.wav")


def test_an_image_is_not_audio(tmp_path):
    from PIL import Image
    from skimage import data

    path = tmp_path / "photo.wav"
    Image.fromarray(data.astronaut()).save(path, format="PNG")
    with pytest.raises(
        InputError, match=r"“photo\.wav” is a picture, not a sound: open it on the Vision page\."
    ):
        load_audio(path)


def test_missing_and_empty_paths(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")
    (tmp_path / "empty.flac").touch()
    with pytest.raises(InputError, match=r"“empty\.flac” is empty\."):
        load_audio(tmp_path / "empty.flac")


def test_clips_are_read_only_and_the_sample_is_varied():
    clip = demo_clip()
    assert not clip.samples.flags.writeable
    assert clip.sample_rate == 22050 and clip.channels == 1 and clip.duration == 8.0
    assert np.abs(clip.samples).max() == pytest.approx(0.9)


def test_wav_bytes_round_trip():
    clip = load_audio(to_wav_bytes(tone(16000).T, 16000))
    assert clip.sample_rate == 16000 and clip.subtype == "PCM_16" and clip.channels == 2
