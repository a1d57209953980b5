"""What a batch's files look like once analysed: pictures with their labelled boxes (and the
ground truth's), a video's first frame, a sound's spectrogram; for the gallery, its detail
view and the report."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from analysis.vision.image import decode_image, decode_reduced

THUMBNAIL_SIDE = 240  # px, longest side of a thumbnail
TRUTH_COLOUR = "#22c55e"  # labelled boxes: green
SCORED_COLOUR = "#ef4444"  # detections when scored against them: red
BOX = ["x1", "y1", "x2", "y2"]


def shown_frame(tracks: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """A video's thumbnail frame from its rows of the tracks table: its time (s) and the
    objects boxed in it as detections (``label, score, x1, y1, x2, y2``, the score being the
    object's mean)."""
    if tracks.empty:
        return 0.0, pd.DataFrame(columns=["label", "score", *BOX])
    boxed = tracks.dropna(subset=BOX).rename(columns={"mean_score": "score"})
    at_s = tracks["frame_s"].iloc[0]  # missing in a batch written before it was recorded
    return (0.0 if pd.isna(at_s) else float(at_s)), boxed[["label", "score", *BOX]]


def picture(path: str | Path, kind: str = "picture", at_s: float = 0.0) -> np.ndarray:
    """The RGB picture of a file: the picture itself, or a video's frame at ``at_s``.

    Raises
    ------
    InputError
        If it cannot be read (see :func:`analysis.vision.image.decode_image`).
    """
    if kind == "video":
        from analysis.video.io import read_frame

        return read_frame(Path(path), at_s)
    return decode_image(path)


def small_picture(
    path: str | Path, kind: str, side: int, at_s: float = 0.0
) -> tuple[np.ndarray, float]:
    """:func:`picture` for a thumbnail of ``side`` px: a JPEG may be decoded at a fraction of
    its size (see :func:`analysis.vision.image.decode_reduced`); returns the picture and its
    scale against the file's pixels."""
    if kind == "video":
        return picture(path, kind, at_s), 1.0
    return decode_reduced(path, side)


def annotated(
    rgb: np.ndarray,
    rows: pd.DataFrame,
    truth: pd.DataFrame | None = None,
    side: int | None = None,
    decoded_scale: float = 1.0,
) -> np.ndarray:
    """``rgb`` at most ``side`` px (None: as it is) with the detections ``rows`` drawn as
    labelled boxes (``label, score, x1, y1, x2, y2`` in the file's pixels, which are ``rgb``'s
    divided by ``decoded_scale``: see :func:`small_picture`).

    With ``truth`` (``label, x1, y1, x2, y2``), the labelled boxes are drawn in green and the
    detections in red: a green box alone is a miss, a red box alone a false alarm.
    """
    import supervision as sv

    from analysis.vision.annotate import annotate, line_width

    scale = 1.0 if side is None else min(1.0, side / max(rgb.shape[:2]))
    if scale < 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = _detections(rows, scale * decoded_scale)
    if truth is None:
        return annotate(np.ascontiguousarray(rgb), found)
    canvas = np.ascontiguousarray(rgb.copy())
    thickness = line_width(*canvas.shape[:2])
    text_scale = max(0.35, min(canvas.shape[:2]) / 900)
    truths = _detections(truth, scale * decoded_scale)
    layers = (
        (truths, TRUTH_COLOUR, list(truths.data["class_name"]), sv.Position.BOTTOM_LEFT),
        (found, SCORED_COLOUR, _tags(found), sv.Position.TOP_LEFT),
    )
    for frame, colour, labels, position in layers:
        red, green, blue = sv.Color.from_hex(colour).as_rgb()
        colour = sv.Color(blue, green, red)  # supervision draws numpy arrays as BGR
        sv.BoxAnnotator(color=colour, thickness=thickness).annotate(canvas, frame)
        sv.LabelAnnotator(
            color=colour, text_scale=text_scale, text_padding=2, text_position=position
        ).annotate(canvas, frame, labels=labels)
    return canvas


def _tags(detections: object) -> list[str]:
    names, scores = detections.data["class_name"], detections.confidence
    return [f"{name} {score:.2f}" for name, score in zip(names, scores, strict=True)]


def _detections(rows: pd.DataFrame, scale: float) -> object:
    import supervision as sv

    labels = rows["label"].astype(str).to_numpy(dtype=object)
    names = {name: index for index, name in enumerate(sorted(set(labels)))}
    return sv.Detections(
        xyxy=np.rint(rows[BOX].to_numpy(np.float32).reshape(-1, 4) * scale),
        confidence=rows["score"].to_numpy(np.float32) if "score" in rows else None,
        class_id=np.array([names[label] for label in labels], dtype=np.int64),
        data={"class_name": labels},
    )


def jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def thumbnail(
    path: str | Path,
    rows: pd.DataFrame,
    truth: pd.DataFrame | None = None,
    kind: str = "picture",
    side: int = THUMBNAIL_SIDE,
    at_s: float = 0.0,
) -> bytes:
    """JPEG bytes of the file's picture (a video's frame at ``at_s``), ``side`` px at most,
    its boxes drawn (see :func:`annotated`).

    Raises
    ------
    InputError
        If the picture cannot be read.
    """
    rgb, decoded_scale = small_picture(path, kind, side, at_s)
    return jpeg(annotated(rgb, rows, truth, side, decoded_scale))


def report_thumbnail(path: str | Path, rows: pd.DataFrame, side: int = THUMBNAIL_SIDE) -> bytes:
    """:func:`thumbnail` drawn by OpenCV alone, a box and its label per row: the report is
    written by every batch command, which need not pay supervision's import (0.4 s)."""
    rgb, decoded_scale = small_picture(path, "picture", side)
    scale = min(1.0, side / max(rgb.shape[:2]))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    scale *= decoded_scale
    colour = tuple(int(TRUTH_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    for record in rows.itertuples(index=False):
        x1, y1, x2, y2 = (round(v * scale) for v in (record.x1, record.y1, record.x2, record.y2))
        cv2.rectangle(small, (x1, y1), (x2, y2), colour, 2)
        cv2.putText(
            small, f"{record.label} {record.score:.2f}", (x1 + 2, max(10, y1 - 3)),
            cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA,
        )  # fmt: skip
    return jpeg(np.ascontiguousarray(small))


def sound_thumbnail(path: str | Path, side: int = THUMBNAIL_SIDE) -> bytes:
    """JPEG bytes of a sound's spectrogram, ``side`` px wide and half as high, with no axes:
    time left to right, log frequency upwards, the loudest 80 dB in magma's colours.

    Raises
    ------
    InputError
        If the sound cannot be decoded.
    """
    from analysis.audio.decode import load_audio
    from analysis.audio.render import spectrogram_colours
    from analysis.audio.spectrogram import spectrogram, to_db

    clip = load_audio(path)
    height = side // 2
    spec = spectrogram(clip.samples.mean(axis=0), clip.sample_rate, max_columns=side,
                       max_rows=height)  # fmt: skip
    db, peak = to_db(spec.power, db_range=80.0)
    rgb = spectrogram_colours(db, peak)
    return jpeg(cv2.resize(rgb, (side, height), interpolation=cv2.INTER_NEAREST))


def spectrogram_png(path: str | Path) -> bytes:
    """A sound file's spectrogram (log frequency, 80 dB range) with its axes, PNG bytes.

    Raises
    ------
    InputError
        If the sound cannot be decoded.
    """
    from analysis.audio.decode import load_audio
    from analysis.audio.render import render_spectrogram
    from analysis.audio.spectrogram import spectrogram

    clip = load_audio(path)
    mono = clip.samples.mean(axis=0)
    spec = spectrogram(mono, clip.sample_rate, max_columns=800, max_rows=256)
    db = 10 * np.log10(np.maximum(spec.power, 1e-12))
    top = float(np.nanmax(db)) if db.size else 0.0
    return render_spectrogram(spec, db, db_floor=top - 80, db_top=top, title=Path(path).name)
