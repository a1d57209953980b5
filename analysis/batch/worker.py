"""What runs on a batch's workers (Dask's, or this process for a file or two): one file's
analysis, with the model loaded once per process."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

import numpy as np

from analysis.batch.settings import BatchSettings, OwnModel
from analysis.errors import InputError

log = logging.getLogger(__name__)

_OWN_MODELS: dict[str, object] = {}
"""This process's own-model detectors, by the SHA-256 of their file (the plugin loads them)."""


def model_for(settings: BatchSettings) -> object:
    """The loaded model ``settings`` runs: a catalog model, or the person's own file."""
    if not settings.own_model:
        return loaded_model(settings.task, settings.model)
    try:
        return _OWN_MODELS[settings.own_model]
    except KeyError:
        raise InputError(f"{settings.model} was not sent to this worker.") from None


def load_own_model(own: OwnModel) -> object:
    """Load ``own`` once per process (the last two are kept)."""
    if own.digest not in _OWN_MODELS:
        from analysis.vision.own_model import load_model_file

        detector = load_model_file(own.data, own.name, own.labels or None)
        while len(_OWN_MODELS) >= 2:
            _OWN_MODELS.pop(next(iter(_OWN_MODELS)))
        _OWN_MODELS[own.digest] = detector
    return _OWN_MODELS[own.digest]


@functools.lru_cache(maxsize=2)
def loaded_model(task: str, model: str) -> object:
    """The model for ``task``, loaded once per process and reused by every file after."""
    if task == "detect":
        from analysis.vision.detectors import load_detector

        return load_detector(model)
    if task == "tags":
        from analysis.audio.tagging import load_yamnet

        return load_yamnet()
    from analysis.speech.whisper import load_whisper

    return load_whisper(model)


def preload(settings: BatchSettings, own: OwnModel | None = None) -> None:
    """Make this process ready for ``settings``' files: one OpenCV thread (one file per core:
    it must not fan out inside a task) and the model loaded."""
    import cv2

    cv2.setNumThreads(1)
    if own is not None:
        load_own_model(own)
    else:
        loaded_model(settings.task, settings.model)


def _detect_rows(path: Path | bytes, detector: object, settings: BatchSettings) -> list[tuple]:
    from analysis.vision.detections import DetectionFilter, filter_detections
    from analysis.vision.image import decode_image

    raw, _ = detector.detect(decode_image(path))
    kept = filter_detections(raw, DetectionFilter(settings.confidence, settings.iou))
    return [
        (label, round(float(score), 4), *(round(float(v), 1) for v in box))
        for label, score, box in zip(kept.labels, kept.scores, kept.boxes, strict=True)
    ]


def _tag_rows(path: Path | bytes, yamnet: object, settings: BatchSettings) -> list[tuple]:
    from analysis.audio.decode import load_audio
    from analysis.audio.tagging import tag_audio

    clip = load_audio(path)
    tagging = tag_audio(clip.samples, clip.sample_rate, yamnet)
    return [(tag.label, round(float(tag.score), 4)) for tag in tagging.top(settings.top)]


def _transcript_rows(path: Path | bytes, whisper: object, settings: BatchSettings) -> list[tuple]:
    from analysis.audio.decode import load_audio
    from analysis.speech.whisper import transcribe_audio

    clip = load_audio(path)
    return [(transcribe_audio(clip.samples, clip.sample_rate, whisper).text,)]


def _track_rows(path: Path | bytes, detector: object, settings: BatchSettings) -> list[tuple]:
    """A video's tracks, by the Video page's analysis (detect, then ByteTrack), each with the
    time of the video's busiest analysed frame (the most objects in view) and its box there
    (None when out of view then): the frame the gallery shows, labelled."""
    from analysis.video.pipeline import analyse_video
    from analysis.vision.detections import DetectionFilter

    params = DetectionFilter(settings.confidence, settings.iou)
    analysis = analyse_video(path, detector, settings.model, params, stride=settings.stride)
    tracking = analysis.tracking
    if not tracking.frames:
        return []
    busiest = int(np.argmax([len(frame) for frame in tracking.frames]))  # the first of the most
    shown, frame_s = tracking.frames[busiest], round(float(tracking.times[busiest]), 3)
    boxes = dict(zip(shown.tracker_id.tolist(), shown.xyxy.tolist(), strict=True))
    rows = []
    for track in tracking.tracks:
        box = boxes.get(track.id)
        where = [round(v, 1) for v in box] if box is not None else [None] * 4
        rows.append((*track.as_dict().values(), frame_s, *where))
    return rows


_ANALYSE = {"detect": _detect_rows, "tags": _tag_rows, "transcribe": _transcript_rows}


def analyse_file(
    root: str, relative: str, settings: BatchSettings, kind: str = "", data: bytes | None = None
) -> dict:
    """Analyse one file; never raises, so one bad file cannot stop a batch.

    Parameters
    ----------
    kind : str
        What the file is (see :func:`analysis.batch.survey.survey`): a "video" is tracked
        (its rows go to ``tracks``), anything else goes to the task's analysis.
    data : bytes, optional
        The file's content, sent by the submitter (otherwise it is read at ``root/relative``).

    Returns
    -------
    dict
        ``{"path", "kind", "status": "ok" | "error", "error", "seconds", "rows", "tracks"}``:
        ``rows`` are tuples of the task table's columns after ``path`` (``tracks``: of the
        tracks table's); ``error`` is one sentence.
    """
    start = time.perf_counter()
    rows, tracks = [], []
    try:
        model = model_for(settings)
        source = Path(root, relative) if data is None else data
        if kind == "video":
            tracks = _track_rows(source, model, settings)
        else:
            rows = _ANALYSE[settings.task](source, model, settings)
        status, error = "ok", ""
    except InputError as problem:
        status, error = "error", str(problem)
    except Exception as problem:  # any failure is this file's error row, not the run's end
        log.exception("Analysing %s failed", relative)
        status, error = "error", f"{type(problem).__name__}: {problem}"
    return {
        "path": relative,
        "kind": kind,
        "status": status,
        "error": error,
        "seconds": round(time.perf_counter() - start, 4),
        "rows": rows,
        "tracks": tracks,
    }


def analyse_files(
    root: str, chunk: list[tuple[str, str, bytes | None]], settings: BatchSettings
) -> list[dict]:
    """:func:`analyse_file` for each ``(path, kind, data)`` of ``chunk``: one Dask task for
    several files."""
    return [analyse_file(root, path, settings, kind, data) for path, kind, data in chunk]
