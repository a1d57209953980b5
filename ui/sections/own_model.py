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
from ui.state import keep_files, kept_files

OWN = "own"
"""The model list's entry for a model the person uploads."""

OWN_MODEL = "_vision_own_model"  # session key: the uploaded model, never shared between sessions
OWN_UPLOADS = "_vision_own_model_uploads"  # how many models were loaded: the uploader's key
OWN_FILES = "vision_own_model"  # the model's files, kept with the session's link
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

    A model that loads replaces the one before (its results go with it) and empties the
    uploader, so the next drop replaces it again instead of stacking under it. A file that
    does not load gets one sentence and leaves the earlier model in place; the model lives in
    this session's state, never in a cache another session could read.
    """
    held: OwnModel | None = st.session_state.get(OWN_MODEL) or from_link()
    generation = st.session_state.get(OWN_UPLOADS, 0)
    uploads = st.file_uploader(
        "Drop your model here",
        type=[suffix[1:] for suffix in MODEL_SUFFIXES + LABEL_SUFFIXES],
        accept_multiple_files=True,
        key=f"vision_own_model_files_{generation}",
        help="A .onnx detector (Ultralytics YOLOv5/v8/11 detection or segmentation, YOLOX, "
        "SSD), or a Caffe .prototxt with its .caffemodel; add a .txt of class names, one per "
        "line, if the model does not name its classes. Dropping another model replaces it.",
    )
    if not uploads:
        if held is not None:
            note, remove = st.columns([4, 1], vertical_alignment="center")
            note.text(f"Loaded: {held.detector.spec.name}")  # text: a user's file name
            remove.button("Remove", key="vision_own_model_remove", on_click=forget_own_model)
        return held
    files = {upload.name: upload.getvalue() for upload in uploads}
    digest = files_digest(files)
    failed = st.session_state.get(f"{OWN_MODEL}_error")
    if held is not None and held.digest == digest:
        return held
    if failed is not None and failed[0] == digest:  # do not load the same bad files again
        refused(failed[1], held)
        return held
    try:
        with st.spinner("Loading your model…"):
            detector = load_uploaded_model(files)
            warm_up(detector.detect)  # as for catalog models
    except InputError as error:
        st.session_state[f"{OWN_MODEL}_error"] = (digest, str(error))
        refused(str(error), held)
        return held
    st.session_state[OWN_MODEL] = OwnModel(digest, detector)  # the old model and its runs go
    keep_files(OWN_FILES, files)  # in this session's link, so a reload brings it back
    st.session_state[OWN_UPLOADS] = generation + 1  # a fresh, empty uploader from now on
    st.rerun()  # draw that uploader now, not the chips of the files just loaded


def from_link() -> OwnModel | None:
    """The model this session's link kept (a reload, or the link in another browser), loaded
    again from its files; None when there is none or it no longer loads."""
    files = kept_files(OWN_FILES)
    if not files:
        return None
    try:
        with st.spinner("Loading your model again…"):
            own = OwnModel(files_digest(files), load_uploaded_model(files))
            warm_up(own.detector.detect)
    except InputError:
        keep_files(OWN_FILES, {})
        return None
    st.session_state[OWN_MODEL] = own
    return own


def refused(message: str, held: OwnModel | None) -> None:
    st.error(message)
    if held is not None:
        st.text(f"Still loaded: {held.detector.spec.name}")  # text: a user's file name


def forget_own_model() -> None:
    """Drop the person's model and its results (the "Remove" button)."""
    st.session_state.pop(OWN_MODEL, None)
    keep_files(OWN_FILES, {})


def own_run(own: OwnModel, key: str, rgb: np.ndarray) -> Run:
    """The uploaded model's run on the picture of content hash ``key``, kept in the session."""
    if key not in own.runs:
        with st.spinner("Running your model…"):
            own.runs[key] = timed_run(own.detector.detect, rgb)
        while len(own.runs) > OWN_RUNS:
            del own.runs[next(iter(own.runs))]  # the oldest picture
    return own.runs[key]
