"""Decoding every listed format at its native rate, and one clear error for anything else."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
import soundfile as sf

from analysis.audio.decode import (
    AudioClip,
    demo_clip,
    load_audio,
    load_audio_head,
    to_wav_bytes,
)
from analysis.audio.truncation import mp3_cut_short
from analysis.errors import InputError
from tests.conftest import require_tool
from tests.support.corpus import VIDEO_CASES, encoded_audio, media


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
    for name in ("from-sox.aiff", "from-sox-24.flac", "from-sox.ogg", "from-sox-float.wav"):
        target = tmp_path / name
        extra = {"from-sox-24.flac": ["-b", "24"], "from-sox-float.wav": ["-e", "float"]}
        subprocess.run([sox, str(source), *extra.get(name, []), str(target)], check=True)
        clip = load_audio(target)
        assert clip.sample_rate == 44100 and dominant_hz(clip) == pytest.approx(440, abs=5)
        assert not clip.warnings, name


def sox_mp3(path, rate: int, seconds: float, channels: int) -> bytes:
    """An MP3 encoded by LAME inside sox (constant bitrate, no Xing/Info header)."""
    sox = require_tool("sox")
    command = [sox, "-n", "-r", str(rate), "-c", str(channels), str(path)]
    subprocess.run([*command, "synth", str(seconds), "sine", "440"], check=True)
    return path.read_bytes()


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 32000, 44100, 48000])
@pytest.mark.parametrize("seconds", [1.3, 24.8])
def test_valid_mp3s_from_sox_are_not_called_truncated(tmp_path, rate, seconds):
    # Without a Xing/Info header libsndfile estimates the length from the file size and the
    # first frame: 1,098,071 frames for 1,095,552 decoded at 44.1 kHz (0.23 % over).
    channels = 2 if rate >= 32000 else 1
    data = sox_mp3(tmp_path / "tone.mp3", rate, seconds, channels)
    for clip in (load_audio(tmp_path / "tone.mp3"), load_audio(data, name="tone.mp3")):
        assert clip.format == "MP3" and clip.sample_rate == rate and clip.channels == channels
        assert not clip.warnings
        assert clip.duration == pytest.approx(seconds, abs=0.25)  # sox pads, at 8 kHz most


def lame_mp3(rate: int, seconds: float) -> bytes:
    """An MP3 encoded by LAME inside FFmpeg, whose Xing/Info header states its length."""
    return media("mp3", sound="libmp3lame", seconds=seconds, rate=rate)


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_valid_mp3s_with_an_info_header_are_not_called_truncated(rate):
    clip = load_audio(lame_mp3(rate, 24.8), name="tone.mp3")
    assert not clip.warnings and clip.duration == pytest.approx(24.8, abs=0.001)


@pytest.mark.parametrize("info_header", [False, True])
def test_an_mp3_cut_to_half_its_bytes_is_reported(tmp_path, info_header):
    # With an Info header the file holds fewer frames than stated; without one (sox), it ends
    # inside a frame (at 44.1 kHz, frames of 417 and 418 bytes alternate).
    data = lame_mp3(44100, 7.3) if info_header else sox_mp3(tmp_path / "t.mp3", 44100, 7.3, 2)
    clip = load_audio(data[: len(data) // 2], name="cut.mp3")
    assert clip.duration == pytest.approx(3.65, abs=0.1)
    assert clip.warnings == (
        f"The file seems damaged or truncated: only its first {clip.duration:.2f} s could be read.",
    )


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


@pytest.mark.parametrize(
    ("suffix", "subtype"),
    [("wav", "PCM_16"), ("wav", "PCM_24"), ("wav", "FLOAT"), ("aiff", "PCM_16")],
)
def test_a_file_cut_inside_its_sound_chunk_decodes_its_first_part_and_says_so(
    tmp_path, suffix, subtype
):
    path = tmp_path / f"long.{suffix}"
    sf.write(path, tone(8000, seconds=2.0), 8000, subtype=subtype)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for clip in (load_audio(path), load_audio(data[: len(data) // 2], name=path.name)):
        assert clip.duration == pytest.approx(1.0, abs=0.01)
        assert clip.warnings == (
            f"The file seems damaged or truncated: only its first {clip.duration:.2f} s "
            "could be read.",
        )


def test_a_wav_from_sox_cut_short_is_reported(tmp_path):
    sox = require_tool("sox")
    path = tmp_path / "sox.wav"  # sox writes WAVE_FORMAT_EXTENSIBLE ("WAVEX") for stereo float
    subprocess.run([sox, "-n", "-e", "float", "-c", "2", "-r", "16000", str(path), "synth", "2"])
    data = path.read_bytes()
    assert load_audio(data[: len(data) * 3 // 4], name="cut.wav").warnings


def riff(*chunks: tuple[bytes, bytes]) -> bytes:
    """A RIFF WAVE file made of (id, payload) chunks, each padded to an even length."""
    body = b"".join(
        kind + len(payload).to_bytes(4, "little") + payload + b"\0" * (len(payload) % 2)
        for kind, payload in chunks
    )
    return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WAVE" + body


def wav_chunks(seconds: float = 0.5) -> dict[bytes, bytes]:
    """The ``fmt `` and ``data`` chunks of a 16-bit 8 kHz mono WAV, by id."""
    data = encoded_audio(tone(8000, seconds, channels=1), 8000, "WAV", "PCM_16")
    fmt_size = int.from_bytes(data[16:20], "little")
    return {b"fmt ": data[20 : 20 + fmt_size], b"data": data[28 + fmt_size :]}


def test_chunks_around_the_data_are_walked_not_mistaken_for_a_cut():
    chunks = wav_chunks()
    data = riff(
        (b"fmt ", chunks[b"fmt "]),
        (b"odd ", b"abc"),  # an odd size: one pad byte follows
        (b"data", chunks[b"data"]),
        (b"LIST", b"INFOISFT\x06\0\0\0Lavf\0\0"),
    )
    clip = load_audio(data, name="chunks.wav")
    assert clip.duration == pytest.approx(0.5) and not clip.warnings


def test_a_streamed_wav_with_an_unknown_data_size_is_not_called_cut():
    chunks = wav_chunks()
    data = bytearray(riff((b"fmt ", chunks[b"fmt "]), (b"data", chunks[b"data"])))
    position = data.find(b"data")
    data[position + 4 : position + 8] = b"\xff" * 4  # what a writer to a pipe leaves
    clip = load_audio(bytes(data), name="streamed.wav")
    assert clip.duration == pytest.approx(0.5) and not clip.warnings


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_an_opus_file_cut_short_is_reported(keep):
    data = encoded_audio(tone(48000, seconds=4.0), 48000, "OGG", "OPUS")
    clip = load_audio(data[: int(len(data) * keep)], name="cut.opus")
    assert 0 < clip.duration < 4.0 and "truncated" in clip.warnings[0]


def test_a_vorbis_file_cut_after_its_headers_says_so():
    data = encoded_audio(tone(44100, seconds=2.0), 44100, "OGG", "VORBIS")
    audio_pages = data.index(b"OggS", data.index(b"OggS", 1) + 1)  # after the 2 header pages
    with pytest.raises(InputError) as info:
        load_audio(data[:audio_pages], name="cut.ogg")
    assert str(info.value) == (
        "“cut.ogg” seems damaged or truncated: no audio could be read from it."
    )


def test_complete_opus_from_ffmpeg_is_not_called_truncated():
    clip = load_audio(media("ogg", sound="libopus", seconds=7.3), name="tone.opus")
    assert clip.duration == pytest.approx(7.3) and not clip.warnings


def test_mp3_tags_before_and_after_the_frames_are_not_a_cut():
    data = lame_mp3(44100, 1.0)
    assert data.startswith(b"ID3")  # FFmpeg's own ID3v2 tag
    id3v2 = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 0]) + bytes(128)  # a second one, 128 bytes
    id3v1 = b"TAG" + bytes(125)
    assert not mp3_cut_short(data) and not mp3_cut_short(id3v2 + data + id3v1)
    assert mp3_cut_short(data[:-100]) and mp3_cut_short(id3v2 + data[:-100])


def test_mp3_with_junk_between_frames_is_given_the_benefit_of_the_doubt():
    frames = lame_mp3(44100, 1.0)
    middle = len(frames) // 2
    assert not mp3_cut_short(frames[:middle] + b"junk" * 10 + frames[middle:-100])


@pytest.mark.parametrize("case", VIDEO_CASES, ids=lambda c: c.id)
def test_a_video_is_named_as_a_video(tmp_path, case):
    path = tmp_path / case.name
    path.write_bytes(case.make())
    message = f"“{case.name}” is a video, not a sound: open it on the Video page."
    for source, name in ((path, None), (path.read_bytes(), case.name)):
        with pytest.raises(InputError) as info:
            load_audio(source, name=name)
        assert str(info.value) == message


def test_an_m4a_is_a_sound_percept_cannot_read_not_a_video():
    with pytest.raises(InputError, match="could not be read as audio"):
        load_audio(media("ipod", sound="aac"), name="voice.m4a")


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


def ogg(samples: np.ndarray, sr: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, sr, format="OGG", subtype="VORBIS")
    return buffer.getvalue()


def test_the_head_of_a_long_ogg_is_its_first_seconds_and_its_whole_duration():
    sr = 8000
    rising = np.concatenate([tone(sr, 60.0, 440.0), tone(sr, 180.0, 880.0)])  # 4 minutes
    head = load_audio_head(ogg(rising, sr), 30.0, longer_than=180.0)
    assert head is not None
    clip, duration_s = head
    assert duration_s == 240.0 and clip.duration == 30.0 and clip.channels == 2
    assert (clip.sample_rate, clip.format, clip.subtype) == (sr, "OGG", "VORBIS")
    assert abs(dominant_hz(clip) - 440.0) < 10  # the beginning, not the end
    assert not clip.samples.flags.writeable  # shared between caches, as load_audio's


def test_no_head_for_a_short_or_uncompressed_file():
    sr = 8000
    assert load_audio_head(ogg(tone(sr, 10.0), sr), 5.0, longer_than=180.0) is None
    long_wav = to_wav_bytes(tone(sr, 200.0).T, sr)
    assert load_audio_head(long_wav, 5.0, longer_than=180.0) is None  # a copy: decoded whole
    with pytest.raises(sf.LibsndfileError):
        load_audio_head(b"not a sound at all" * 100, 5.0)


def test_a_long_flac_has_a_head_too():
    sr, buffer = 8000, io.BytesIO()
    sf.write(buffer, tone(sr, 200.0), sr, format="FLAC")
    clip, duration_s = load_audio_head(buffer.getvalue(), 5.0, longer_than=180.0)
    assert (clip.duration, duration_s, clip.format) == (5.0, 200.0, "FLAC")


def test_the_whole_decode_reports_its_progress():
    sr = 8000
    heard = []
    clip = load_audio(ogg(tone(sr, 70.0), sr), progress=lambda done, total: heard.append(done))
    assert heard[-1] == clip.samples.shape[1] == 70 * sr
    assert heard == sorted(heard) and len(heard) > 1  # block by block
