"""Telling pictures, sounds and videos apart by their first bytes."""

import numpy as np
import pytest
from PIL import Image

from analysis.sniff import SNIFF_BYTES, file_kind
from tests.support.corpus import encoded_audio, encoded_image, gradient, media, tone


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])
def test_pictures(fmt):
    data = encoded_image(Image.fromarray(gradient(16, 16)), fmt)
    assert file_kind(data[:SNIFF_BYTES]) == "picture"


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate"),
    [("WAV", None, 16_000), ("FLAC", None, 16_000), ("OGG", "VORBIS", 16_000),
     ("OGG", "OPUS", 48_000), ("MP3", None, 44_100), ("AIFF", None, 16_000)],
)  # fmt: skip
def test_sounds(fmt, subtype, rate):
    data = encoded_audio(tone(0.2, rate), rate, fmt, subtype)
    assert file_kind(data[:SNIFF_BYTES]) == "sound"


@pytest.mark.parametrize(
    ("container", "video", "sound"),
    [
        ("mp4", "libx264", "aac"),
        ("mov", "mpeg4", None),
        ("3gp", "mpeg4", None),
        ("ipod", "mpeg4", None),  # .m4v: brand "M4V "
        ("webm", "libvpx", "libopus"),
        ("matroska", "mpeg4", "mp2"),
        ("avi", "mjpeg", None),
        ("flv", "flv", None),
        ("mpegts", "mpeg2video", "mp2"),
        ("mpeg", "mpeg1video", "mp2"),  # program stream (.mpg)
        ("mpeg1video", "mpeg1video", None),  # bare video stream, which Pillow calls a picture
    ],
)
def test_videos_made_by_ffmpeg(container, video, sound):
    assert file_kind(media(container, video, sound)[:SNIFF_BYTES]) == "video"


@pytest.mark.parametrize(
    ("container", "sound"),
    [
        ("ipod", "aac"),  # .m4a: brand "M4A "
        ("mp4", "aac"),  # brand "isom", but its only track is a sound
        ("webm", "libopus"),  # what a browser records from a microphone
        ("matroska", "libopus"),
        ("flv", "libmp3lame"),
    ],
)
def test_sound_only_files_in_video_containers_are_sounds(container, sound):
    assert file_kind(media(container, sound=sound)[:SNIFF_BYTES]) == "sound"


def test_an_mp4_whose_tracks_are_beyond_the_head_is_taken_for_a_video():
    # ffmpeg writes the track list (moov) after the media data unless asked to "fast start".
    data = media("mp4", sound="aac", seconds=30.0)
    assert data.find(b"moov") > SNIFF_BYTES
    assert file_kind(data[:SNIFF_BYTES]) == "video"


def test_heif_and_avif_brands_are_pictures():
    for brand in (b"heic", b"avif"):
        assert file_kind(b"\x00\x00\x00\x18ftyp" + brand + bytes(12)) == "picture"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello, world",
        np.random.default_rng(3).bytes(SNIFF_BYTES),
        b"RIFF0000CDXA",
        b"G" + b"not a transport stream " * 40,
    ],
)
def test_anything_else_is_unknown(head):
    assert file_kind(head) is None
