"""Telling pictures from sounds by their first bytes."""

import numpy as np
import pytest
from PIL import Image

from analysis.sniff import SNIFF_BYTES, file_kind
from tests.corpus import encoded_audio, encoded_image, gradient, tone


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
    "head", [b"", b"hello, world", np.random.default_rng(3).bytes(SNIFF_BYTES), b"RIFF0000AVI "]
)
def test_anything_else_is_unknown(head):
    assert file_kind(head) is None
