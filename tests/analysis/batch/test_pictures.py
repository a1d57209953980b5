"""What a batch's files look like in the gallery: a sound's spectrogram thumbnail."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from analysis.batch.pictures import THUMBNAIL_SIDE, sound_thumbnail
from analysis.errors import InputError


def brightest_row(path) -> int:
    """The row (from the top) of the thumbnail's brightest band."""
    picture = np.asarray(Image.open(io.BytesIO(sound_thumbnail(path))).convert("L"), float)
    assert picture.shape == (THUMBNAIL_SIDE // 2, THUMBNAIL_SIDE)
    return int(np.argmax(picture.mean(axis=1)))


def test_a_higher_tone_is_drawn_higher_and_a_fifth_above_is_between(tmp_path):
    rows = {}
    for hz in (250, 1000, 4000):
        path = tmp_path / f"{hz}.wav"
        sf.write(path, 0.5 * np.sin(2 * np.pi * hz * np.arange(32_000) / 16_000), 16_000)
        rows[hz] = brightest_row(path)
    assert rows[4000] < rows[1000] < rows[250]  # row 0 is the top: high frequencies
    # Log frequency: two octaves up move the band about as far as two more octaves up.
    assert rows[250] - rows[1000] == pytest.approx(rows[1000] - rows[4000], abs=3)


def test_a_file_that_is_no_sound_is_an_input_error(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("not a sound")
    with pytest.raises(InputError):
        sound_thumbnail(path)
