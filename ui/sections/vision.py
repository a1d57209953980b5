"""The Vision page's sections: the model and picture pickers, the shared caches (pictures,
models, runs), drawing on the screen copy, and the results with their downloads."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from analysis.errors import InputError
from analysis.filenames import safe_stem
from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, Detections, rescaled, to_supervision
from analysis.vision.detectors import (
    Detector,
    filter_candidates,
    is_available,
    load_detector,
    vision_models,
)
from analysis.vision.exports import detection_result, detections_csv
from analysis.vision.image import (
    decode_image,
    display_copy,
    encode_jpeg,
    encode_png,
    sample_photo,
)
from analysis.vision.pose import (
    PoseEstimator,
    Poses,
    filter_pose_candidates,
    load_pose_estimator,
)
from analysis.vision.timings import PoseTimings, Run, Timings, ms_since, timed_run, warm_up
from models.catalog import CATALOG, ModelSpec
from models.locate import MissingModelError, find_file
from ui.counts import show_counts
from ui.memory import per_file
from ui.sections.own_model import OWN, OwnModel, own_model_uploader, own_run
from ui.state import kept_file, remember

log = logging.getLogger(__name__)

# Longest side shown on screen (downloads keep the full resolution). Streamlit re-encodes any
# picture wider than its content width (1460 px), so the page's own JPEG stays under it.
DISPLAY_SIDE = 1460
SOURCES = ["Upload a picture", "Camera", "Sample photo"]
SAMPLES = {
    "astronaut": "Astronaut (Eileen Collins)",
    "chelsea": "Chelsea the cat",
    "coffee": "A cup of coffee",
    "camera": "Cameraman (grayscale)",
}
POSE_MODEL = "blazepose"  # not a box detector: shown through this page's own model list


# -- Caches shared by every session ------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A decoded picture with its screen copy; never mutated, so shared between sessions."""

    rgb: np.ndarray  # full resolution, for the detector and the downloads
    screen: np.ndarray
    scale: float  # screen pixels per picture pixel
    offset: tuple[int, int]  # (x, y) of the picture inside the screen copy
    original_jpeg: bytes  # the screen copy without boxes
    prepare_ms: float  # decoding and making the screen copy, once per picture


def prepare(load: Callable[[], np.ndarray]) -> Picture:
    start = time.perf_counter()
    rgb = load()
    screen, scale, offset = display_copy(rgb, DISPLAY_SIDE)
    return Picture(rgb, screen, scale, offset, encode_jpeg(screen), ms_since(start))


# Shared, not pickled: no copy of a decoded photo on every slider move. Few entries, under the
# server's byte budget (ui.memory): a 50 MP photo takes 150 MB, and a picture comes back in a
# second from its kept bytes (the runs on it stay cached apart, small).
@per_file(max_entries=3, spinner="Decoding the picture…")
def uploaded_picture(key: str, _data: bytes) -> Picture:
    """The picture for content hash ``key`` (``_data`` is not hashed again)."""
    return prepare(lambda: decode_image(_data))


@st.cache_resource(max_entries=8, show_spinner=False)
def sample_picture(name: str) -> Picture:
    return prepare(lambda: sample_photo(name))


@st.cache_resource(show_spinner="Loading the model…")
def get_detector(name: str) -> Detector:
    """One adapter per model for the whole server; adapters guard their own thread safety."""
    detector = load_detector(name)
    warm_up(detector.detect)  # not in the first user's latency
    return detector


@st.cache_resource(show_spinner="Loading the model…")
def get_pose_estimator() -> PoseEstimator:
    estimator = load_pose_estimator()
    warm_up(estimator.estimate)
    return estimator


@st.cache_resource(max_entries=64, show_spinner="Running the detector…")
def detection_run(key: str, model: str, _rgb: np.ndarray) -> Run:
    """A catalog model's run on the picture of content hash ``key``, shared between sessions."""
    if model == POSE_MODEL:
        return timed_run(get_pose_estimator().estimate, _rgb)
    return timed_run(get_detector(model).detect, _rgb)


# -- The model and the picture ----------------------------------------------------------------


@dataclass(frozen=True)
class ModelChoice:
    """The model the page shows: a catalog one, or the person's own once it has loaded."""

    spec: ModelSpec
    own: OwnModel | None

    @property
    def name(self) -> str:
        return self.spec.name  # an uploaded model is named by its file

    @property
    def id(self) -> str:
        """Tells models apart in session keys, an uploaded one by its files' hash."""
        return f"own:{self.own.digest[:24]}" if self.own is not None else self.name


def choose_model() -> ModelChoice:
    """The model box (with "Your own model…" and its uploader), what the model is, and how to
    get the models that are not installed."""
    specs = [*vision_models(), CATALOG[POSE_MODEL]]
    available = [spec.name for spec in specs if is_available(spec)]
    missing = [spec for spec in specs if spec.name not in available]
    model_key = remember("vision_model", available[0])  # the best model present
    if st.session_state[model_key] not in [*available, OWN]:  # its files went away since
        st.session_state[model_key] = available[0]
    choice = st.selectbox(
        "Model",
        [*available, OWN],
        format_func=lambda name: "Your own model…" if name == OWN else CATALOG[name].title,
        key=model_key,
        help="The detector that looks at the picture: each finds its own kinds of things. "
        "Choose “Your own model…” to upload one.",
    )
    # The catalog model used until an uploaded one loads: the one chosen last.
    catalog_model = choice if choice != OWN else st.session_state.get("_vision_catalog_model")
    if catalog_model not in available:
        catalog_model = available[0]
    st.session_state["_vision_catalog_model"] = catalog_model
    own = own_model_uploader() if choice == OWN else None
    if choice == OWN and own is None:
        st.info(f"Until your model is loaded, the page shows {CATALOG[catalog_model].title}.")
    spec = own.detector.spec if own is not None else CATALOG[catalog_model]
    st.caption(f"{spec.description} Licence: {spec.licence}.")
    if missing:
        with st.expander(f"{len(missing)} more model(s) not installed"):
            for absent in missing:
                missing_model_note(absent)
    return ModelChoice(spec, own)


ADDS = {  # what a model of each task would show that the built-in detectors do not
    "objects": "boxes around everyday objects (people, cars, animals, furniture…)",
    "faces": "faces found by a neural network, turned or small ones too",
    "poses": "each person's skeleton: 33 body keypoints",
}


def missing_model_note(spec: ModelSpec) -> None:
    """What a model not installed would add, which of its files are absent, and the command
    that fetches them (wrapped, so a narrow column never cuts it)."""
    absent = [f.names[0] for f in spec.files if find_file(f) is None]
    present = [f.names[0] for f in spec.files if find_file(f) is not None]
    st.markdown(f"**{spec.title}** would add {ADDS.get(spec.task, spec.task)}. {spec.description}")
    st.caption(
        f"Missing: {', '.join(absent)}"
        + (f" ({', '.join(present)} is already here)." if present else ".")
        + " To get it, run:"
    )
    st.code(f"python -m models fetch {spec.name}", language="bash", wrap_lines=True)


@dataclass(frozen=True)
class PictureChoice:
    """The picture to analyse: a kept upload or snapshot, else a sample photo."""

    key: str  # content hash, or "sample:<name>"
    name: str  # file name shown and used for downloads
    data: bytes | None  # None for a sample
    sample: str


def choose_picture() -> PictureChoice:
    """The source buttons and the chosen source's uploader, camera or sample list; until a
    picture is given, a sample photo, and a note saying so."""
    source = st.radio(
        "Picture source",
        SOURCES,
        horizontal=True,
        key=remember("vision_source", SOURCES[0]),
        help="Where the picture comes from; only the chosen one is analysed.",
    )
    kept, sample = None, next(iter(SAMPLES))
    if source == "Upload a picture":
        kept = kept_file(
            "vision_upload",
            lambda key: st.file_uploader(
                "Drop a picture here",
                help="JPEG, PNG, WebP, BMP, TIFF or GIF (first frame), up to 50 megapixels.",
                key=key,
            ),
        )
    elif source == "Camera":
        kept = kept_file(
            "vision_camera",
            lambda key: st.camera_input(
                "Take a snapshot", help="Asks your browser for the camera.", key=key
            ),
        )
    else:
        sample = st.selectbox(
            "Sample photo",
            list(SAMPLES),
            format_func=SAMPLES.__getitem__,
            key=remember("vision_sample", "astronaut"),
            help="Photos that come with scikit-image, so the page works offline.",
        )
    if kept is None and source != "Sample photo":  # nothing given yet: show what the page does
        st.info(
            f"No picture yet, so here is a sample photo ({SAMPLES[sample]}). "
            + (
                "Drop a picture above to analyse your own."
                if source == "Upload a picture"
                else "Take a snapshot above to analyse it."
            )
        )
    if kept is None:
        return PictureChoice(f"sample:{sample}", f"{sample}.png", None, sample)
    name = kept.name if source == "Upload a picture" else "camera.jpg"
    return PictureChoice(kept.digest, name, kept.data, sample)


def analysed(model: ModelChoice, chosen: PictureChoice) -> tuple[Picture, Run]:
    """The picture and the model's run on it; a failure is one sentence, and the page stops."""
    try:
        if chosen.data is None:
            picture = sample_picture(chosen.sample)
        else:
            picture = uploaded_picture(chosen.key, chosen.data)
        if model.own is not None:
            return picture, own_run(model.own, chosen.key, picture.rgb)
        return picture, detection_run(chosen.key, model.name, picture.rgb)
    except (InputError, MissingModelError) as error:
        st.error(str(error))
    except Exception:
        log.exception("vision analysis failed")
        st.error("Something went wrong while analysing this picture; please try another one.")
    st.stop()


# -- Drawing and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """What the sliders let through of a run, and the timings of this run (filtering
    included)."""

    params: DetectionFilter
    detections: Detections  # with their masks, if any; the people's boxes for poses
    poses: Poses | None
    timings: Timings | PoseTimings
    show_masks: bool

    @property
    def boxes(self) -> Detections:
        """The detections without masks: for the table and the CSV (outlining masks at full
        size takes a while) and for drawing with the masks off."""
        return replace(self.detections, masks=None)

    def drawn(
        self, rgb: np.ndarray, scale: float = 1.0, offset: tuple[int, int] = (0, 0)
    ) -> np.ndarray:
        """``rgb`` with the detections drawn, ``rgb`` being the picture at ``scale`` with its
        top-left corner at ``offset`` (the screen copy), or the picture itself."""
        if self.poses is not None:
            detections = self.poses.to_supervision()
        else:
            detections = to_supervision(self.detections if self.show_masks else self.boxes)
        return annotate(rgb, rescaled(detections, scale, offset))


def filtered(run: Run, params: DetectionFilter, show_masks: bool) -> Shown:
    """The run's raw candidates (or people) through the confidence, IoU and class filters."""
    if isinstance(run.raw, Poses):
        poses, timings = filter_pose_candidates(run.raw, run.warm, params)
        return Shown(params, poses.to_detections(), poses, timings, False)
    shown, timings = filter_candidates(run.raw, run.warm, params)
    return Shown(params, shown, None, timings, show_masks)


def warm_note(run: Run) -> str:
    if run.warm_runs == 0:
        return "one run (it took too long to repeat), set-up included"
    return (
        f"median of {run.warm_runs} warm runs; the first run, with set-up, took "
        f"{run.first.total:.1f} ms"
    )


def show_results(
    picture: Picture, run: Run, shown: Shown, draw_ms: float, file: str, model: ModelChoice
) -> None:
    """Counts, the table, the latency and its notes, and the downloads."""
    detections, timings = shown.boxes, shown.timings
    show_counts(
        f"{len(detections)} detection(s)",
        detections.counts(),
        "Nothing above the confidence threshold: try lowering it.",
    )
    st.dataframe(
        [
            {"label": r["label"], "score": r["score"], "box (x1, y1, x2, y2)": str(r["box"])}
            for r in detections.to_records()
        ],
        hide_index=True,
    )
    stages = timings.as_dict()  # a pose run's postprocess includes its filtering here
    total = picture.prepare_ms + timings.total + draw_ms
    st.markdown(
        f"**Latency** — decode {picture.prepare_ms:.1f} ms · preprocess "
        f"{stages['preprocess']:.1f} ms · inference {stages['inference']:.1f} ms · postprocess "
        f"{stages['postprocess']:.1f} ms · draw {draw_ms:.1f} ms · total {total:.1f} ms"
    )
    if isinstance(timings, PoseTimings):
        st.caption(
            f"Poses: person detector {timings.detector.total:.1f} ms, then landmarks "
            + (", ".join(f"{t.total:.1f}" for t in timings.landmarks) or "–")
            + " ms for each candidate person."
        )
    st.caption(
        f"Preprocess, inference and postprocess: {warm_note(run)}. Decoding ran once, when "
        "the picture arrived; filtering and drawing are timed on this run: moving a slider "
        f"only filters the network's {len(run.raw)} candidates, it does not run it again."
    )
    downloads(picture.rgb, shown, file, model)


def downloads(rgb: np.ndarray, shown: Shown, file: str, model: ModelChoice) -> None:
    """The annotated picture at full size, and the detections as CSV and JSON."""
    stem = safe_stem(file, default="image")
    if model.own is not None:  # the file names say which of the person's models found these
        stem += "_" + safe_stem(model.name, default="model")
    st.download_button(
        "Download annotated image (PNG)",
        lambda: encode_png(shown.drawn(rgb)),  # full size, drawn on click
        file_name=f"{stem}_detections.png",
        mime="image/png",
        on_click="ignore",
    )
    st.download_button(
        "Download detections (CSV)",
        detections_csv(shown.boxes),
        file_name=f"{stem}_detections.csv",
        mime="text/csv",
        on_click="ignore",
    )

    def result_json() -> str:  # on click: it outlines the masks
        result = detection_result(
            file, model.name, shown.params, rgb, shown.detections, shown.timings, shown.poses
        )
        return json.dumps(result, indent=2)

    st.download_button(
        "Download detections (JSON)",
        result_json,
        file_name=f"{stem}_detections.json",
        mime="application/json",
        on_click="ignore",
    )
