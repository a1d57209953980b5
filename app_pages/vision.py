"""Vision: drop a picture, pick a detector (or bring your own), move the sliders, see the boxes,
masks and skeletons follow at once."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import streamlit as st

from analysis.errors import InputError
from analysis.filenames import safe_stem
from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.detectors import (
    MIN_CANDIDATE_SCORE,
    Detector,
    Timings,
    filter_candidates,
    is_available,
    load_detector,
    vision_models,
)
from analysis.vision.exports import detection_result, detections_csv
from analysis.vision.image import decode_image, encode_png, sample_photo
from analysis.vision.masks import InstanceMasks, draw_masks
from analysis.vision.own_model import LABEL_SUFFIXES, MODEL_SUFFIXES, load_uploaded_model
from analysis.vision.pose import (
    PoseEstimator,
    Poses,
    PoseTimings,
    filter_pose_candidates,
    load_pose_estimator,
)
from analysis.vision.skeleton import draw_poses
from analysis.vision.timings import median_timings
from models.catalog import CATALOG
from models.locate import MissingModelError
from ui.device import is_phone
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
DEFAULT_CONFIDENCE = 0.25  # Ultralytics' default: the sample photos show their objects
DEFAULT_IOU = 0.45
WARM_RUNS = 3
WARM_BUDGET_MS = 1000.0  # no repeated runs past this: a slow model is timed by fewer runs
POSE_MODEL = "blazepose"  # not a box detector: shown through this page's own model list
OWN = "own"  # the model list's entry for a model the person uploads
OWN_MODEL = "_vision_own_model"  # session key: the uploaded model, never shared between sessions
OWN_RUNS = 4  # pictures whose results are kept per uploaded model (in the session's memory)
BLANK = np.zeros((64, 64, 3), np.uint8)  # a model's first run, to warm it up


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def jpeg(rgb: np.ndarray) -> bytes:
    """JPEG for the screen: quick to encode and send; full chroma keeps the tags' text sharp."""
    options = [
        cv2.IMWRITE_JPEG_QUALITY,
        90,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    ]
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), options)[1].tobytes()


def display_copy(rgb: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The picture for the screen: at most DISPLAY_SIDE pixels, never thinner than 1:40.

    Returns the copy, its scale factor and the (x, y) offset of the picture inside it. A
    strip a few thousand pixels by one would be scaled to zero pixels by the browser-side
    resize, so it is centred on a grey band instead.
    """
    scale = min(1.0, DISPLAY_SIDE / max(rgb.shape[:2]))
    screen = rgb
    if scale < 1.0:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        screen = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    height, width = screen.shape[:2]
    least = max(height, width) // 40
    pad_y, pad_x = max(0, least - height), max(0, least - width)
    if pad_x or pad_y:
        screen = cv2.copyMakeBorder(
            screen,
            pad_y // 2,
            pad_y - pad_y // 2,
            pad_x // 2,
            pad_x - pad_x // 2,
            cv2.BORDER_CONSTANT,
            value=(128, 128, 128),
        )
    return screen, scale, (pad_x // 2, pad_y // 2)


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
    screen, scale, offset = display_copy(rgb)
    return Picture(rgb, screen, scale, offset, jpeg(screen), ms_since(start))


# cache_resource, not cache_data: sharing avoids pickling and copying a decoded photo on every
# slider move. Few entries: a 50 MP photo takes 150 MB.
@st.cache_resource(max_entries=8, ttl="1h", show_spinner="Decoding the picture…")
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
    # The first run allocates and optimises: do it now, not in the first user's latency.
    detector.detect(BLANK)
    return detector


@st.cache_resource(show_spinner="Loading the model…")
def get_pose_estimator() -> PoseEstimator:
    estimator = load_pose_estimator()
    estimator.estimate(BLANK)
    return estimator


@dataclass(frozen=True)
class Run:
    """The network's raw candidates for one picture and model, and how long it took."""

    raw: Detections | Poses  # the sliders only filter these
    first: Timings | PoseTimings  # the first run on this picture, with its one-off set-up costs
    warm: Timings | PoseTimings  # median of the warm runs (the first run when there were none)
    warm_runs: int


def timed_run(analyse: Callable, rgb: np.ndarray, median: Callable) -> Run:
    """Analyse once, then time up to WARM_RUNS more runs while within WARM_BUDGET_MS."""
    start = time.perf_counter()
    raw, first = analyse(rgb)
    warm = []
    while len(warm) < WARM_RUNS and ms_since(start) < WARM_BUDGET_MS:
        warm.append(analyse(rgb)[1])
    return Run(raw, first, median(warm) if warm else first, len(warm))


@st.cache_resource(max_entries=64, show_spinner="Running the detector…")
def detection_run(key: str, model: str, _rgb: np.ndarray) -> Run:
    """A catalog model's run on the picture of content hash ``key``, shared between sessions."""
    if model == POSE_MODEL:
        return timed_run(get_pose_estimator().estimate, _rgb, median_timings)
    return timed_run(get_detector(model).detect, _rgb, median_timings)


@dataclass(frozen=True)
class OwnModel:
    """A model the person uploaded, with its results, held in their session only."""

    digest: str  # sha256 of its files' names and bytes
    detector: Detector
    runs: dict[str, Run]  # picture key → run, the OWN_RUNS latest


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
            detector.detect(BLANK)  # warm-up, as for catalog models
    except InputError as error:
        st.session_state[f"{OWN_MODEL}_error"] = (digest, str(error))
        st.error(str(error))
        return held
    held = st.session_state[OWN_MODEL] = OwnModel(digest, detector, {})
    return held


def own_run(own: OwnModel, key: str, rgb: np.ndarray) -> Run:
    if key not in own.runs:
        with st.spinner("Running your model…"):
            own.runs[key] = timed_run(own.detector.detect, rgb, median_timings)
        while len(own.runs) > OWN_RUNS:
            del own.runs[next(iter(own.runs))]  # the oldest picture
    return own.runs[key]


def drawn(
    base: np.ndarray,
    shown: Detections,
    poses: Poses | None,
    show_masks: bool,
    scale: float = 1.0,
    offset: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """``base`` with the masks, boxes and tags, then skeletons of ``shown`` (image pixels).

    ``base`` is the picture itself, or its screen copy, which shows it at ``scale`` with its
    top-left corner at ``offset``: everything is mapped the same way.
    """
    dx, dy = offset
    canvas = base.copy()
    if show_masks and shown.masks is not None:
        # Masks are read in the picture's own pixels: draw them on the picture's part of the
        # copy, with the prototype scale per screen pixel.
        masks = shown.masks
        scaled = InstanceMasks(masks.coefficients, masks.prototypes, masks.scale / scale)
        region = canvas[dy:, dx:]
        region[...] = draw_masks(
            region,
            Detections(shown.boxes * scale, shown.scores, shown.class_ids, (), scaled),
        )
    shift = np.array([dx, dy, dx, dy], np.float32)
    boxes = shown.boxes * scale + shift
    canvas = annotate(canvas, Detections(boxes, shown.scores, shown.class_ids, shown.class_names))
    if poses is not None:
        keypoints = poses.keypoints.copy()
        keypoints[..., :2] = keypoints[..., :2] * scale + (dx, dy)
        people = Poses(poses.boxes * scale + shift, poses.scores, keypoints, poses.presence)
        canvas = draw_poses(canvas, people)
    return canvas


def detections_json(
    file: str,
    model: str,
    params: DetectionFilter,
    rgb: np.ndarray,
    shown: Detections,
    poses: Poses | None,
    timings: Timings | PoseTimings,
) -> str:
    """The JSON download: the ``detect`` command's, with each person's keypoints for poses."""
    return json.dumps(detection_result(file, model, params, rgb, shown, timings, poses), indent=2)


def warm_note(run: Run) -> str:
    if run.warm_runs == 0:
        return "one run (it took too long to repeat), set-up included"
    return (
        f"median of {run.warm_runs} warm runs; the first run, with set-up, took "
        f"{run.first.total:.1f} ms"
    )


st.title("Vision")
st.caption(
    "Drop in a picture and see what a detector finds in it: objects, faces, body poses, or "
    "whatever your own model knows. Move the sliders: the boxes follow at once, the network "
    "does not run again."
)

picture_col, settings_col = st.columns([3, 2], gap="large")

with settings_col:
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
    model = spec.name  # an uploaded model is named by its file
    model_id = f"own:{own.digest[:24]}" if own is not None else model
    st.caption(f"{spec.description} Licence: {spec.licence}.")
    if missing:
        with st.expander(f"{len(missing)} more model(s) not installed"):
            for absent in missing:
                st.markdown(f"**{absent.title}** — {absent.description}")
                st.code(f"python -m models fetch {absent.name}", language="bash")

# -- Input: one source at a time ---------------------------------------------------------------
with picture_col:
    source = st.radio(
        "Picture source",
        SOURCES,
        horizontal=True,
        key=remember("vision_source", SOURCES[0]),
        help="Where the picture comes from; only the chosen one is analysed.",
    )
    kept = None
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
        sample = next(iter(SAMPLES))
        st.info(
            f"No picture yet, so here is a sample photo ({SAMPLES[sample]}). "
            + (
                "Drop a picture above to analyse your own."
                if source == "Upload a picture"
                else "Take a snapshot above to analyse it."
            )
        )
    if kept is None:
        key, name = f"sample:{sample}", f"{sample}.png"
    else:
        key, name = kept.digest, kept.name if source == "Upload a picture" else "camera.jpg"

    # -- Analysis ------------------------------------------------------------------------------
    try:
        picture = sample_picture(sample) if kept is None else uploaded_picture(key, kept.data)
        if own is not None:
            run = own_run(own, key, picture.rgb)
        else:
            run = detection_run(key, model, picture.rgb)
    except (InputError, MissingModelError) as error:
        st.error(str(error))
        st.stop()
    except Exception:
        log.exception("vision analysis failed")
        st.error("Something went wrong while analysing this picture; please try another one.")
        st.stop()

    rgb = picture.rgb
    st.text(f"{name} — {rgb.shape[1]}×{rgb.shape[0]} px")  # text, not markdown: a user's name
    picture_slot = st.container()

# On a phone the columns stack: straight under the picture, both stay in view while it moves;
# on a wide screen, beside it with the other settings.
with picture_col if is_phone() else settings_col:
    confidence = st.slider(
        "Confidence threshold",
        min_value=MIN_CANDIDATE_SCORE,
        max_value=1.0,
        step=0.05,
        key=remember("vision_confidence", DEFAULT_CONFIDENCE),
        help="How sure the model must be to show a box: higher shows fewer, surer boxes.",
    )

with settings_col:
    raw = run.raw.to_detections() if isinstance(run.raw, Poses) else run.raw
    present = list(dict.fromkeys(raw[np.argsort(-raw.scores)].labels))
    chosen = st.multiselect(
        "Classes to show (empty shows all)",
        present,
        key=remember(f"vision_classes_{key}_{model_id}", []),
        help="Show only these kinds of things; the list holds what the model saw, most "
        "confident first.",
    )
    show_masks = raw.masks is not None and st.toggle(
        "Show masks",
        key=remember("vision_masks", True),
        help="Colour each object's own pixels, as the segmentation model outlines them.",
    )
    with st.expander("Advanced"):
        iou = st.slider(
            "Overlap (IoU) for merging boxes",
            min_value=0.1,
            max_value=1.0,
            step=0.05,
            key=remember("vision_iou", DEFAULT_IOU),
            help="Two boxes of the same kind that overlap more than this share are taken for "
            "one thing and only the surer stays. 1 keeps every box.",
        )

params = DetectionFilter(confidence, iou, tuple(chosen) if chosen else None)
if isinstance(run.raw, Poses):
    poses, timings = filter_pose_candidates(run.raw, run.warm, params)
    shown = poses.to_detections()
else:
    poses = None
    shown, timings = filter_candidates(run.raw, run.warm, params)
# Draw on the screen-sized copy so slider moves stay fast on a 50 MP photo.
start = time.perf_counter()
annotated = jpeg(drawn(picture.screen, shown, poses, show_masks, picture.scale, picture.offset))
draw_ms = ms_since(start)

# -- Results ---------------------------------------------------------------------------------
with picture_slot:
    annotated_tab, original_tab = st.tabs(["With detections", "Original"])
    annotated_tab.image(annotated, width="stretch")
    original_tab.image(picture.original_jpeg, width="stretch")

# The table and the CSV leave the masks out: outlining them at full size takes a while.
boxes_only = Detections(shown.boxes, shown.scores, shown.class_ids, shown.class_names)

with settings_col:
    counts = shown.counts()
    st.subheader(f"{len(shown)} detection(s)")
    if counts:
        st.write(", ".join(f"{label}: {n}" for label, n in counts.items()))
    else:
        st.write("Nothing above the confidence threshold: try lowering it.")
    st.dataframe(
        [
            {"label": r["label"], "score": r["score"], "box (x1, y1, x2, y2)": str(r["box"])}
            for r in boxes_only.to_records()
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
    stem = safe_stem(name, default="image")
    if own is not None:  # the file names say which of the person's models found these
        stem += "_" + safe_stem(model, default="model")
    st.download_button(
        "Download annotated image (PNG)",
        lambda: encode_png(drawn(rgb, shown, poses, show_masks)),  # full size, drawn on click
        file_name=f"{stem}_detections.png",
        mime="image/png",
        on_click="ignore",
    )
    st.download_button(
        "Download detections (CSV)",
        detections_csv(boxes_only),
        file_name=f"{stem}_detections.csv",
        mime="text/csv",
        on_click="ignore",
    )
    st.download_button(
        "Download detections (JSON)",
        lambda: detections_json(name, model, params, rgb, shown, poses, timings),  # on click
        file_name=f"{stem}_detections.json",
        mime="application/json",
        on_click="ignore",
    )
