"""Unusual and malformed uploads, generated on the fly (no binaries in the repo).

Each :class:`Case` is a file as a user would upload it: a name, its bytes, its MIME type,
and whether Percept should analyse it (``ok``) or refuse it with one clear message.
Used by the page tests, the CLI tests and ``bench/bench_memory.py``. Videos and some MP3s are
encoded by FFmpeg through PyAV (a test-only dependency, in requirements-dev.txt).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import soundfile as sf
from PIL import Image


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # the file name as uploaded
    make: Callable[[], bytes]
    mime: str
    ok: bool  # True: analysed with a sensible result; False: one clear message


# -- Audio -------------------------------------------------------------------------------------


def tone(seconds: float, rate: int, channels: int = 1, hz: float = 440.0) -> np.ndarray:
    """A sine at ``hz`` on every channel (each a little quieter), float32 (frames, channels)."""
    t = np.arange(round(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32)
    return np.stack([wave * (1 - 0.05 * c) for c in range(channels)], axis=1)


def encoded_audio(samples: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def wav(seconds: float = 1.0, rate: int = 16_000, channels: int = 1, subtype: str = "PCM_16"):
    return encoded_audio(tone(seconds, rate, channels), rate, "WAV", subtype)


def nonfinite_float_wav() -> bytes:
    samples = tone(1.0, 16_000)
    samples[100:200] = np.nan
    samples[300] = np.inf
    samples[400] = -np.inf
    return encoded_audio(samples, 16_000, "WAV", "FLOAT")


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


AUDIO_CASES = [
    Case("wav-8ch", "eight.wav", lambda: wav(channels=8), "audio/wav", True),
    Case("wav-8khz", "phone.wav", lambda: wav(rate=8_000), "audio/wav", True),
    Case("wav-192khz", "studio.wav", lambda: wav(rate=192_000), "audio/wav", True),
    Case("wav-24bit", "deep.wav", lambda: wav(subtype="PCM_24"), "audio/wav", True),
    Case("wav-float", "float.wav", lambda: wav(subtype="FLOAT"), "audio/wav", True),
    Case(
        "silence",
        "silence.wav",
        lambda: encoded_audio(np.zeros((16_000, 1), np.float32), 16_000, "WAV"),
        "audio/wav",
        True,
    ),
    Case("clip-20ms", "click.wav", lambda: wav(seconds=0.02), "audio/wav", True),
    Case("upper-case", "SHOUT.WAV", wav, "audio/wav", True),
    Case(
        "flac",
        "tone.flac",
        lambda: encoded_audio(tone(1, 44_100, 2), 44_100, "FLAC"),
        "audio/flac",
        True,
    ),
    Case(
        "ogg-vorbis",
        "tone.ogg",
        lambda: encoded_audio(tone(1, 44_100, 2), 44_100, "OGG", "VORBIS"),
        "audio/ogg",
        True,
    ),
    Case(
        "opus",
        "tone.opus",
        lambda: encoded_audio(tone(1, 48_000), 48_000, "OGG", "OPUS"),
        "audio/ogg",
        True,
    ),
    Case(
        "mp3",
        "tone.mp3",
        lambda: encoded_audio(tone(1, 44_100, 2), 44_100, "MP3"),
        "audio/mpeg",
        True,
    ),
    Case(
        "mp3-no-info-header",  # as sox and many encoders write it: libsndfile guesses its length
        "radio.mp3",
        lambda: mp3_without_info_header(3.0),
        "audio/mpeg",
        True,
    ),
    Case(
        "aiff",
        "tone.aiff",
        lambda: encoded_audio(tone(1, 22_050), 22_050, "AIFF"),
        "audio/aiff",
        True,
    ),
    Case("nan-inf", "broken-float.wav", nonfinite_float_wav, "audio/wav", True),
    Case("empty-audio", "empty.wav", lambda: b"", "audio/wav", False),
    Case(
        "random-audio",
        "noise.wav",
        lambda: np.random.default_rng(1).bytes(8192),
        "audio/wav",
        False,
    ),
    Case(
        "text-audio", "notes.mp3", lambda: b"shopping list: eggs, milk\n" * 20, "audio/mpeg", False
    ),
    Case("image-audio", "photo.wav", lambda: png(gradient(64, 48)), "image/png", False),
]

# Files cut half-way (a WAV and an AIFF inside their data, a FLAC, an Opus and two MP3s inside a
# frame or page): decoded up to the cut, with a note that says so.
TRUNCATED_AUDIO_CASES = [
    Case("truncated-wav", "cut.wav", lambda: truncated(wav(seconds=2)), "audio/wav", True),
    Case(
        "truncated-aiff",
        "cut.aiff",
        lambda: truncated(encoded_audio(tone(2, 22_050), 22_050, "AIFF")),
        "audio/aiff",
        True,
    ),
    Case(
        "truncated-flac",
        "cut.flac",
        lambda: truncated(encoded_audio(tone(2, 44_100), 44_100, "FLAC")),
        "audio/flac",
        True,
    ),
    Case(
        "truncated-opus",
        "cut.opus",
        lambda: truncated(encoded_audio(tone(4, 48_000), 48_000, "OGG", "OPUS")),
        "audio/ogg",
        True,
    ),
    Case(
        "truncated-mp3",
        "cut.mp3",
        lambda: truncated(encoded_audio(tone(2, 44_100, 2), 44_100, "MP3")),
        "audio/mpeg",
        True,
    ),
    Case(
        "truncated-mp3-no-info-header",
        "cut-radio.mp3",
        lambda: truncated(mp3_without_info_header(2.0)),
        "audio/mpeg",
        True,
    ),
]


# -- Encoded by FFmpeg: videos, and an MP3 that does not state its length -----------------------


def media(
    container: str,
    video: str | None = None,
    sound: str | None = None,
    *,
    seconds: float = 0.4,
    rate: int = 48_000,
    options: dict[str, str] | None = None,
) -> bytes:
    """A short file encoded by FFmpeg through PyAV.

    Parameters
    ----------
    container : str
        FFmpeg muxer name: ``"mp4"``, ``"mov"``, ``"webm"``, ``"avi"``, ``"ipod"`` (M4A)…
    video : str, optional
        Video encoder of a 64×48 test card sliding sideways at 25 frames/s (``"libx264"``…).
    sound : str, optional
        Audio encoder of a 440 Hz mono tone (``"aac"``, ``"libopus"``, ``"libmp3lame"``…).
    seconds : float
        Duration, s.
    rate : int
        The tone's sample rate, Hz.
    options : dict, optional
        Options of the FFmpeg muxer, e.g. ``{"write_xing": "0"}`` for an MP3 without a Xing/Info
        header.
    """
    import av  # test-only dependency (requirements-dev.txt)

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container, options=options or {}) as out:
        streams = []  # every stream is added before the first packet is written
        if video:
            picture_stream = out.add_stream(video, rate=25)
            picture_stream.width, picture_stream.height = 64, 48
            picture_stream.pix_fmt = "yuvj420p" if video == "mjpeg" else "yuv420p"
            cards = [np.roll(gradient(64, 48), 2 * k, axis=1) for k in range(round(seconds * 25))]
            frames = [av.VideoFrame.from_ndarray(card, format="rgb24") for card in cards]
            streams.append((picture_stream, frames))
        if sound:
            sound_stream = out.add_stream(sound, rate=rate, layout="mono")
            wave = tone(seconds, rate)[:, 0][None, :]
            frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
            streams.append((sound_stream, [frame]))
        for stream, frames in streams:
            for frame in [*frames, None]:  # None flushes the encoder
                out.mux(stream.encode(frame))
    return buffer.getvalue()


def mp3_without_info_header(seconds: float) -> bytes:
    """A 44.1 kHz MP3 from LAME with no Xing/Info header, so nothing in it states its length."""
    return media(
        "mp3", sound="libmp3lame", seconds=seconds, rate=44_100, options={"write_xing": "0"}
    )


# Real videos dropped on the Audio or the Vision page: named as videos, not called damaged.
VIDEO_CASES = [
    Case("video-mp4", "clip.mp4", lambda: media("mp4", "libx264", "aac"), "video/mp4", False),
    Case("video-mov", "clip.mov", lambda: media("mov", "mpeg4"), "video/quicktime", False),
    Case(
        "video-webm", "clip.webm", lambda: media("webm", "libvpx", "libopus"), "video/webm", False
    ),
    Case("video-avi", "clip.avi", lambda: media("avi", "mjpeg"), "video/x-msvideo", False),
]
AUDIO_CASES += VIDEO_CASES


# -- Images ------------------------------------------------------------------------------------


def gradient(width: int, height: int) -> np.ndarray:
    """A colourful RGB uint8 test card, shape (height, width, 3)."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    return np.stack(
        [
            np.broadcast_to(x, (height, width)),
            np.broadcast_to(y, (height, width)),
            (x + y) / 2 * np.ones((height, 1)),
        ],
        axis=2,
    ).astype(np.uint8)


def encoded_image(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png(rgb: np.ndarray) -> bytes:
    return encoded_image(Image.fromarray(rgb), "PNG")


def jpeg(rgb: np.ndarray, **options) -> bytes:
    return encoded_image(Image.fromarray(rgb), "JPEG", quality=90, **options)


def exif_rotated_jpeg() -> bytes:
    """A 60×40 landscape stored with EXIF orientation 6: upright it is 40 wide, 60 tall."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return jpeg(gradient(60, 40), exif=exif)


def animated_gif() -> bytes:
    frames = [Image.fromarray(gradient(32, 32)), Image.fromarray(255 - gradient(32, 32))]
    return encoded_image(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


IMAGE_CASES = [
    Case("grayscale", "gray.png", lambda: png(gradient(64, 48)[:, :, 0]), "image/png", True),
    Case(
        "rgba",
        "alpha.png",
        lambda: encoded_image(Image.fromarray(gradient(64, 48)).convert("RGBA"), "PNG"),
        "image/png",
        True,
    ),
    Case(
        "png-16bit",
        "deep.png",
        lambda: encoded_image(
            Image.fromarray(gradient(64, 48)[:, :, 0].astype(np.uint16) * 257), "PNG"
        ),
        "image/png",
        True,
    ),
    Case(
        "cmyk-jpeg",
        "print.jpg",
        lambda: encoded_image(Image.fromarray(gradient(64, 48)).convert("CMYK"), "JPEG"),
        "image/jpeg",
        True,
    ),
    Case("exif-rotated", "phone.jpg", exif_rotated_jpeg, "image/jpeg", True),
    Case("animated-gif", "loop.gif", animated_gif, "image/gif", True),
    Case(
        "bmp",
        "card.bmp",
        lambda: encoded_image(Image.fromarray(gradient(64, 48)), "BMP"),
        "image/bmp",
        True,
    ),
    Case(
        "webp",
        "card.webp",
        lambda: encoded_image(Image.fromarray(gradient(64, 48)), "WEBP", lossless=True),
        "image/webp",
        True,
    ),
    Case(
        "tiff",
        "card.tiff",
        lambda: encoded_image(Image.fromarray(gradient(64, 48)), "TIFF"),
        "image/tiff",
        True,
    ),
    Case("tiny-2x2", "dot.png", lambda: png(gradient(2, 2)), "image/png", True),
    Case("panorama", "wide.jpg", lambda: jpeg(gradient(8000, 300)), "image/jpeg", True),
    Case("upper-case-image", "CARD.PNG", lambda: png(gradient(64, 48)), "image/png", True),
    Case("empty-image", "empty.png", lambda: b"", "image/png", False),
    Case(
        "random-image",
        "noise.jpg",
        lambda: np.random.default_rng(2).bytes(8192),
        "image/jpeg",
        False,
    ),
    Case(
        "truncated-jpeg",
        "cut.jpg",
        lambda: truncated(jpeg(gradient(640, 480))),
        "image/jpeg",
        False,
    ),
    Case(
        "text-image", "notes.png", lambda: b"shopping list: eggs, milk\n" * 20, "image/png", False
    ),
    Case("audio-image", "song.jpg", lambda: wav(seconds=0.5), "audio/wav", False),
    Case("bomb", "bomb.png", lambda: png_header(30_000, 30_000), "image/png", False),
    # Strips a few thousand pixels long and one or two wide, either way round.
    Case("strip-3000x1", "line.png", lambda: png(gradient(3000, 1)), "image/png", True),
    Case("strip-1x3000", "column.png", lambda: png(gradient(1, 3000)), "image/png", True),
    Case("strip-2x5000", "thread.jpg", lambda: jpeg(gradient(2, 5000)), "image/jpeg", True),
    *VIDEO_CASES,
]
