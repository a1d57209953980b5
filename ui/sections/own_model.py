"""The Vision page's own-model uploader: a detector someone brings, held in their session only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from analysis.errors import InputError
from analysis.vision.detectors import Detector
from analysis.vision.own_model import LABEL_SUFFIXES, MODEL_SUFFIXES, load_uploaded_model
from analysis.vision.timings import Run, timed_run, warm_up

OWN = "own"
"""The model list's entry for a model the person uploads."""

OWN_MODEL = "_vision_own_model"  # session key: the uploaded model, never shared between sessions
OWN_RUNS = 4  # pictures whose results are kept per uploaded model (in the session's memory)


@dataclass(frozen=True)
class OwnModel:
    """A model the person uploaded, with its results, held in their session only."""

    digest: str  # sha256 of its files' names and bytes
    detector: Detector
    runs: dict[str, Run] = field(default_factory=dict)  # picture key → run, OWN_RUNS latest


def files_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def own_model_uploader() -> OwnModel | None:
    """The uploader for the person's own model; returns the model loaded last in this session.

    A file that does not load gets one sentence and leaves the earlier model in place; the
    model lives in this session's state, never in a cache another session could read.
    """
    held: OwnModel | None = st.session_state.get(OWN_MODEL)
    uploads = st.file_uploader(
        "Drop your model here",
        type=[suffix[1:] for suffix in MODEL_SUFFIXES + LABEL_SUFFIXES],
        accept_multiple_files=True,
        key="vision_own_model_files",
        help="A .onnx detector (Ultralytics YOLOv5/v8/11 detection or segmentation, YOLOX, "
        "SSD), or a Caffe .prototxt with its .caffemodel; add a .txt of class names, one per "
        "line, if the model does not name its classes.",
    )
    if not uploads:
        if held is not None:
            st.text(f"Still loaded: {held.detector.spec.name}")  # text: a user's file name
        return held
    files = {upload.name: upload.getvalue() for upload in uploads}
    digest = files_digest(files)
    failed = st.session_state.get(f"{OWN_MODEL}_error")
    if held is not None and held.digest == digest:
        return held
    if failed is not None and failed[0] == digest:  # do not load the same bad files again
        st.error(failed[1])
        return held
    try:
        with st.spinner("Loading your model…"):
            detector = load_uploaded_model(files)
            warm_up(detector.detect)  # as for catalog models
    except InputError as error:
        st.session_state[f"{OWN_MODEL}_error"] = (digest, str(error))
        st.error(str(error))
        return held
    held = st.session_state[OWN_MODEL] = OwnModel(digest, detector)
    return held


def own_run(own: OwnModel, key: str, rgb: np.ndarray) -> Run:
    """The uploaded model's run on the picture of content hash ``key``, kept in the session."""
    if key not in own.runs:
        with st.spinner("Running your model…"):
            own.runs[key] = timed_run(own.detector.detect, rgb)
        while len(own.runs) > OWN_RUNS:
            del own.runs[next(iter(own.runs))]  # the oldest picture
    return own.runs[key]
