"""What runs on the Dask workers: one file's analysis, with the model loaded once per process."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

from distributed import WorkerPlugin

from analysis.batch.settings import BatchSettings
from analysis.errors import InputError

log = logging.getLogger(__name__)


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


class ModelPreload(WorkerPlugin):
    """Dask worker plugin: each worker loads the batch's model when it starts or joins.

    Dask sends the plugin (two names) to every worker once, including workers that join or
    are restarted later; the model itself never travels.
    """

    name = "percept-batch-model"  # registering again replaces the previous batch's plugin

    def __init__(self, task: str, model: str) -> None:
        self.task, self.model = task, model

    def setup(self, worker: object) -> None:
        import cv2

        cv2.setNumThreads(1)  # one file per core: OpenCV must not fan out inside a task
        loaded_model(self.task, self.model)


def _detect_rows(path: Path, detector: object, settings: BatchSettings) -> list[tuple]:
    from analysis.vision.detections import DetectionFilter, filter_detections
    from analysis.vision.image import decode_image

    raw, _ = detector.detect(decode_image(path))
    kept = filter_detections(raw, DetectionFilter(settings.confidence, settings.iou))
    return [
        (label, round(float(score), 4), *(round(float(v), 1) for v in box))
        for label, score, box in zip(kept.labels, kept.scores, kept.boxes, strict=True)
    ]


def _tag_rows(path: Path, yamnet: object, settings: BatchSettings) -> list[tuple]:
    from analysis.audio.decode import load_audio
    from analysis.audio.tagging import tag_audio

    clip = load_audio(path)
    tagging = tag_audio(clip.samples, clip.sample_rate, yamnet)
    return [(tag.label, round(float(tag.score), 4)) for tag in tagging.top(settings.top)]


def _transcript_rows(path: Path, whisper: object, settings: BatchSettings) -> list[tuple]:
    from analysis.audio.decode import load_audio
    from analysis.speech.whisper import transcribe_audio

    clip = load_audio(path)
    return [(transcribe_audio(clip.samples, clip.sample_rate, whisper).text,)]


_ANALYSE = {"detect": _detect_rows, "tags": _tag_rows, "transcribe": _transcript_rows}


def analyse_file(root: str, relative: str, settings: BatchSettings) -> dict:
    """Analyse one file; never raises, so one bad file cannot stop a batch.

    Returns
    -------
    dict
        ``{"path", "status": "ok" | "error", "error", "seconds", "rows"}``: ``rows`` are
        tuples of the task table's columns after ``path``; ``error`` is one sentence.
    """
    start = time.perf_counter()
    try:
        model = loaded_model(settings.task, settings.model)
        rows = _ANALYSE[settings.task](Path(root, relative), model, settings)
        status, error = "ok", ""
    except InputError as problem:
        rows, status, error = [], "error", str(problem)
    except Exception as problem:  # any failure is this file's error row, not the run's end
        log.exception("Analysing %s failed", relative)
        rows, status, error = [], "error", f"{type(problem).__name__}: {problem}"
    seconds = round(time.perf_counter() - start, 4)
    return {"path": relative, "status": status, "error": error, "seconds": seconds, "rows": rows}


def analyse_files(root: str, chunk: list[str], settings: BatchSettings) -> list[dict]:
    """:func:`analyse_file` for each file of ``chunk``: one Dask task for several files."""
    return [analyse_file(root, relative, settings) for relative in chunk]
