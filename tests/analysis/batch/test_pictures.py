"""What a batch's files look like in the gallery: a photo's thumbnail with its boxes, a sound's
spectrogram thumbnail."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from PIL import Image

from analysis.batch.pictures import (
    THUMBNAIL_SIDE,
    report_thumbnail,
    shown_frame,
    small_picture,
    sound_thumbnail,
    thumbnail,
)
from analysis.errors import InputError

BOX = ["x1", "y1", "x2", "y2"]


def photo_with_a_black_square(path, width: int = 2400, height: int = 1800) -> list[int]:
    """A grey JPEG with a black square; returns the square's box in the file's pixels."""
    rgb = np.full((height, width, 3), 200, np.uint8)
    box = [width // 2, height // 3, width // 2 + 600, height // 3 + 600]
    rgb[box[1] : box[3], box[0] : box[2]] = 0
    Image.fromarray(rgb).save(path, quality=92)
    return box


@pytest.mark.parametrize("draw", [thumbnail, report_thumbnail])
def test_a_big_jpeg_is_decoded_small_and_its_box_still_frames_the_object(tmp_path, draw):
    path = tmp_path / "big.jpg"
    box = photo_with_a_black_square(path)
    rgb, scale = small_picture(path, "picture", THUMBNAIL_SIDE)
    assert scale == 1 / 8 and rgb.shape == (225, 300, 3)  # JPEG's DCT scaling, not 2400 px
    rows = pd.DataFrame([{"label": "square", "score": 0.9, **dict(zip(BOX, box, strict=True))}])
    small = np.asarray(Image.open(io.BytesIO(draw(path, rows))).convert("RGB"), np.int16)
    assert max(small.shape[:2]) == THUMBNAIL_SIDE
    # The square's edges in the thumbnail: where the black starts and ends along its middle.
    factor = THUMBNAIL_SIDE / 2400
    row = small[round((box[1] + 300) * factor)]
    dark = np.flatnonzero(row.sum(axis=1) < 150)
    assert dark.min() == pytest.approx(box[0] * factor, abs=3)
    assert dark.max() == pytest.approx(box[2] * factor, abs=3)
    # The drawn box is coloured (not grey, not black) just around those edges.
    coloured = np.flatnonzero(np.ptp(row, axis=1) > 60)
    assert coloured.size and abs(coloured.min() - box[0] * factor) <= 3
    assert abs(coloured.max() - box[2] * factor) <= 3


def test_a_png_is_decoded_whole(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((900, 1200, 3), np.uint8)).save(path)
    rgb, scale = small_picture(path, "picture", THUMBNAIL_SIDE)
    assert scale == 1.0 and rgb.shape == (900, 1200, 3)


def test_a_video_shows_its_busiest_frame_with_its_objects_boxed(tmp_path):
    from tests.analysis.video.test_pipeline import square_x, write_video

    path = write_video(tmp_path / "square.mp4")  # a white square, 3 px a frame, 25 fps
    at = square_x(25)  # where it is at 1.0 s
    track = {"path": "square.mp4", "id": 1, "label": "square", "first_s": 0.0, "last_s": 1.5,
             "frames": 40, "best_score": 0.9, "mean_score": 0.8, "frame_s": 1.0}  # fmt: skip
    away = {**track, "id": 2, "label": "gone", "x1": None, "y1": None, "x2": None, "y2": None}
    tracks = pd.DataFrame([{**track, "x1": at, "y1": 50, "x2": at + 20, "y2": 70}, away])
    at_s, rows = shown_frame(tracks)
    assert at_s == 1.0 and list(rows["label"]) == ["square"]  # the one in view only
    small = np.asarray(
        Image.open(io.BytesIO(thumbnail(path, rows, kind="video", at_s=at_s))).convert("RGB"),
        np.int16,
    )
    row = small[60]  # through the square's middle
    white = np.flatnonzero(row.min(axis=1) > 200)
    assert abs(white.min() - at) <= 3 and abs(white.max() - (at + 19)) <= 3  # the 1.0 s frame
    coloured = np.flatnonzero(np.ptp(row, axis=1) > 60)  # the box, drawn around it
    assert coloured.size and abs(coloured.min() - at) <= 3


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
