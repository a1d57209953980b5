"""Vision: drop a picture, pick a detector, move the sliders, see the boxes follow at once."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import streamlit as st

from analysis.annotate import annotate
from analysis.commands.detect import median_timings, result_json
from analysis.detection_csv import detections_csv
from analysis.detections import DetectionFilter, Detections
from analysis.detectors import (
    FLOOR,
    Detector,
    Timings,
    filter_candidates,
    is_available,
    load_detector,
    vision_models,
)
from analysis.errors import InputError
from analysis.filenames import safe_stem
from analysis.image import decode_image, encode_png, sample_photo
from models.catalog import CATALOG
from models.locate import MissingModelError
from ui.navigation import leave_legacy_pages_mode
from ui.state import kept_file, remember

leave_legacy_pages_mode()

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
    detector.detect(np.zeros((64, 64, 3), np.uint8))
    return detector


@dataclass(frozen=True)
class Run:
    """The network's raw candidates for one picture and model, and how long it took."""

    raw: Detections  # the sliders only filter these
    first: Timings  # the first run on this picture, with its one-off set-up costs
    warm: Timings  # median of the warm runs (the first run when there were none)
    warm_runs: int


@st.cache_resource(max_entries=64, show_spinner="Running the detector…")
def detection_run(key: str, model: str, _rgb: np.ndarray) -> Run:
    """Detect once, then time up to WARM_RUNS more runs while within WARM_BUDGET_MS."""
    detector = get_detector(model)
    start = time.perf_counter()
    raw, first = detector.detect(_rgb)
    warm: list[Timings] = []
    while len(warm) < WARM_RUNS and ms_since(start) < WARM_BUDGET_MS:
        warm.append(detector.detect(_rgb)[1])
    return Run(raw, first, median_timings(warm) if warm else first, len(warm))


def warm_note(run: Run) -> str:
    if run.warm_runs == 0:
        return "one run (it took too long to repeat), set-up included"
    return (
        f"median of {run.warm_runs} warm runs; the first run, with set-up, took "
        f"{run.first.total:.1f} ms"
    )


st.title("Vision")
st.caption(
    "Drop in a picture and see what an object or face detector finds in it. "
    "Move the sliders: the boxes follow at once, the network does not run again."
)

picture_col, settings_col = st.columns([3, 2], gap="large")

with settings_col:
    specs = vision_models()
    available = [spec.name for spec in specs if is_available(spec)]
    missing = [spec for spec in specs if spec.name not in available]
    model_key = remember("vision_model", available[0])  # the best model present
    if st.session_state[model_key] not in available:  # its files went away since
        st.session_state[model_key] = available[0]
    model = st.selectbox(
        "Model",
        available,
        format_func=lambda name: CATALOG[name].title,
        key=model_key,
        help="The detector that looks at the picture: each finds its own kinds of things.",
    )
    spec = CATALOG[model]
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
    # Straight under the picture, so that on a phone both stay in view while it moves.
    confidence = st.slider(
        "Confidence threshold",
        min_value=FLOOR,
        max_value=1.0,
        step=0.05,
        key=remember("vision_confidence", DEFAULT_CONFIDENCE),
        help="How sure the model must be to show a box: higher shows fewer, surer boxes.",
    )

with settings_col:
    present = list(dict.fromkeys(run.raw[np.argsort(-run.raw.scores)].labels))
    chosen = st.multiselect(
        "Classes to show (empty shows all)",
        present,
        key=remember(f"vision_classes_{key}_{model}", []),
        help="Show only these kinds of things; the list holds what the model saw, most "
        "confident first.",
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
shown, timings = filter_candidates(run.raw, run.warm, params)
# Draw on the screen-sized copy so slider moves stay fast on a 50 MP photo.
start = time.perf_counter()
dx, dy = picture.offset
on_screen = Detections(
    shown.boxes * picture.scale + (dx, dy, dx, dy), shown.scores, shown.class_ids, shown.class_names
)
annotated = jpeg(annotate(picture.screen, on_screen))
draw_ms = ms_since(start)

# -- Results ---------------------------------------------------------------------------------
with picture_slot:
    annotated_tab, original_tab = st.tabs(["With detections", "Original"])
    annotated_tab.image(annotated, width="stretch")
    original_tab.image(picture.original_jpeg, width="stretch")

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
            for r in shown.to_records()
        ],
        hide_index=True,
    )
    total = picture.prepare_ms + timings.total + draw_ms
    st.markdown(
        f"**Latency** — decode {picture.prepare_ms:.1f} ms · preprocess "
        f"{timings.preprocess:.1f} ms · inference {timings.inference:.1f} ms · postprocess "
        f"{timings.postprocess:.1f} ms · draw {draw_ms:.1f} ms · total {total:.1f} ms"
    )
    st.caption(
        f"Preprocess, inference and postprocess: {warm_note(run)}. Decoding ran once, when "
        "the picture arrived; filtering and drawing are timed on this run: moving a slider "
        f"only filters the network's {len(run.raw)} candidates, it does not run it again."
    )
    stem = safe_stem(name, default="image")
    st.download_button(
        "Download annotated image (PNG)",
        lambda: encode_png(annotate(rgb, shown)),  # full resolution, drawn on click
        file_name=f"{stem}_detections.png",
        mime="image/png",
        on_click="ignore",
    )
    st.download_button(
        "Download detections (CSV)",
        detections_csv(shown),
        file_name=f"{stem}_detections.csv",
        mime="text/csv",
        on_click="ignore",
    )
    st.download_button(
        "Download detections (JSON)",
        json.dumps(result_json(name, model, params, rgb, shown, timings), indent=2),
        file_name=f"{stem}_detections.json",
        mime="application/json",
        on_click="ignore",
    )
