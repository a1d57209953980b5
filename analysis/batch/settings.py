"""What a batch runs on every file: the task, its model and their settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from analysis.errors import InputError

TASKS = {"detect": "picture", "tags": "sound", "transcribe": "sound"}
"""Each task and the kind of file it reads."""


@dataclass(frozen=True)
class BatchSettings:
    """What to run on every file.

    Attributes
    ----------
    task : str
        "detect" (pictures), "tags" (sounds, YAMNet) or "transcribe" (sounds, Whisper).
    model : str
        Catalog name of the model (see :func:`task_models`).
    confidence : float
        Detections: lowest score kept, in [0, 1]; the Batch page filters above it.
    iou : float
        Detections: NMS IoU threshold in (0, 1].
    top : int
        Tags: labels kept per file (highest mean score over the recording).
    stride : int
        Detect in videos: every ``stride``-th frame is analysed.
    own_model : str
        Detect with the person's own model file instead of a catalog model: the SHA-256 of
        its bytes (``model`` is then its file name; see :class:`OwnModel`).
    """

    task: str
    model: str
    confidence: float = 0.25
    iou: float = 0.45
    top: int = 5
    stride: int = 1
    own_model: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"“{self.task}” is not a batch task: choose {', '.join(TASKS)}.")
        if self.own_model and self.task != "detect":
            raise InputError("An own model file can only detect objects in pictures.")
        if not self.own_model and self.model not in task_models(self.task):
            known = ", ".join(task_models(self.task))
            raise InputError(f"“{self.model}” cannot {self.task}: choose one of {known}.")
        if not 0.0 <= self.confidence <= 1.0:
            raise InputError(f"The confidence must be between 0 and 1, not {self.confidence}.")
        if not 0.0 < self.iou <= 1.0:
            raise InputError(f"The IoU threshold must be above 0 and at most 1, not {self.iou}.")
        if self.top < 1:
            raise InputError(f"At least one tag per file must be kept, not {self.top}.")
        if self.stride < 1:
            raise InputError(f"The stride must be at least 1 frame, not {self.stride}.")


@dataclass(frozen=True)
class OwnModel:
    """A person's own detector file (see :mod:`analysis.vision.own_model`), sent as bytes to
    every worker, so workers on other machines need no copy of it.

    Attributes
    ----------
    name : str
        File name of the ``.onnx`` model.
    data : bytes
        Its bytes.
    labels : tuple of str
        Class names in class order (empty: the model's metadata, else "class 0", ...).
    """

    name: str
    data: bytes = field(repr=False)
    labels: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def settings(self, **values: object) -> BatchSettings:
        """Detection settings that run this model (``values``: the other settings)."""
        return BatchSettings("detect", self.name, own_model=self.digest, **values)


def task_models(task: str) -> tuple[str, ...]:
    """Catalog names of the models that can run ``task``, best first."""
    if task == "detect":
        from analysis.vision.detectors import PREFERENCE

        return PREFERENCE
    if task == "tags":
        return ("yamnet",)
    from analysis.speech.whisper import WHISPER_MODELS

    return WHISPER_MODELS


def default_model(task: str) -> str:
    """The model ``task`` uses when none is named: the best one whose files are present."""
    if task == "detect":
        from analysis.vision.detectors import best_available

        return best_available()
    if task == "transcribe":
        from analysis.speech.whisper import DEFAULT_MODEL

        return DEFAULT_MODEL
    return task_models(task)[0]


def check_model(settings: BatchSettings) -> None:
    """Raise ``MissingModelError`` (saying how to get it) when the model's files are absent.

    Checked before anything is submitted, on the machine that submits: a missing model is
    one message, not one error row per file.
    """
    from models.catalog import get_spec
    from models.locate import resolve_files

    if settings.own_model:
        return
    resolve_files(get_spec(settings.model))
