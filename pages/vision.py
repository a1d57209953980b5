"""Vision: drop a picture, pick a detector, move the sliders, see the boxes follow at once."""

from __future__ import annotations

import hashlib
import json
import logging

import cv2
import numpy as np
import streamlit as st

from analysis.annotate import annotate
from analysis.commands.detect import result_json
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

leave_legacy_pages_mode()

log = logging.getLogger(__name__)

DISPLAY_SIDE = 1600  # longest side shown on screen; downloads keep the full resolution

SAMPLES = {
    "astronaut": "Astronaut (Eileen Collins)",
    "chelsea": "Chelsea the cat",
    "coffee": "A cup of coffee",
    "camera": "Cameraman (grayscale)",
}


@st.cache_resource(show_spinner="Loading the model…")
def get_detector(name: str) -> Detector:
    """One adapter per model for the whole server; adapters guard their own thread safety."""
    detector = load_detector(name)
    # The first run allocates and optimises: do it now, not in the first user's latency.
    detector.detect(np.zeros((64, 64, 3), np.uint8))
    return detector


# cache_resource, not cache_data: these arrays are never mutated, and sharing them avoids
# pickling and copying a decoded photo on every slider move. Few entries: a 50 MP photo
# takes 150 MB.
@st.cache_resource(max_entries=8, ttl="1h", show_spinner=False)
def decoded(key: str, _data: bytes) -> np.ndarray:
    """The decoded picture for content hash ``key`` (``_data`` is not hashed again)."""
    return decode_image(_data)


@st.cache_resource(max_entries=16, show_spinner=False)
def sample_image(name: str) -> np.ndarray:
    return sample_photo(name)


@st.cache_resource(max_entries=64, show_spinner="Running the detector…")
def raw_detections(key: str, model: str, _rgb: np.ndarray) -> tuple[Detections, Timings]:
    """The network's raw candidates for picture ``key``: the sliders only filter these."""
    return get_detector(model).detect(_rgb)


@st.cache_resource(max_entries=16, show_spinner=False)
def display_copy(key: str, _rgb: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The picture for the screen: at most DISPLAY_SIDE pixels, never thinner than 1:40.

    Returns the copy, its scale factor and the (x, y) offset of the picture inside it. A
    strip a few thousand pixels by one would be scaled to zero pixels by the browser-side
    resize, so it is centred on a grey band instead.
    """
    scale = min(1.0, DISPLAY_SIDE / max(_rgb.shape[:2]))
    screen = _rgb
    if scale < 1.0:
        size = (max(1, round(_rgb.shape[1] * scale)), max(1, round(_rgb.shape[0] * scale)))
        screen = cv2.resize(_rgb, size, interpolation=cv2.INTER_AREA)
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


st.title("Vision")
st.caption(
    "Drop in a picture and see what an object or face detector finds in it. "
    "Move the sliders: the boxes follow at once, the network does not run again."
)

# -- Input -----------------------------------------------------------------------------------
source_col, settings_col = st.columns([3, 2], gap="large")
with source_col:
    upload = st.file_uploader(
        "Drop a picture here",
        help="JPEG, PNG, WebP, BMP, TIFF or GIF (first frame), up to 50 megapixels.",
    )
    use_camera = st.toggle("Take a photo with the camera", help="Asks for camera access.")
    snapshot = st.camera_input("Camera snapshot") if use_camera else None
    sample = st.selectbox(
        "…or try a sample photo (used when nothing is uploaded)",
        list(SAMPLES),
        format_func=SAMPLES.__getitem__,
    )

with settings_col:
    specs = vision_models()
    available = [spec.name for spec in specs if is_available(spec)]
    missing = [spec for spec in specs if spec.name not in available]
    # `available` keeps the preference order, so the first entry is the best model present.
    model = st.selectbox("Model", available, format_func=lambda name: CATALOG[name].title)
    spec = CATALOG[model]
    st.caption(f"{spec.description} Licence: {spec.licence}.")
    if missing:
        with st.expander(f"{len(missing)} more model(s) not installed"):
            for absent in missing:
                st.markdown(f"**{absent.title}** — {absent.description}")
                st.code(f"python -m models fetch {absent.name}", language="bash")
    confidence = st.slider(
        "Confidence threshold",
        min_value=FLOOR,
        max_value=1.0,
        value=0.5,
        step=0.05,
        help="Hide detections the model is less sure of.",
    )
    iou = st.slider(
        "Overlap (IoU) for merging boxes",
        min_value=0.1,
        max_value=1.0,
        value=0.45,
        step=0.05,
        help="Boxes of one class overlapping more than this are merged (1 keeps them all).",
    )

if snapshot is not None:
    name, data = "camera.jpg", snapshot.getvalue()
elif upload is not None:
    name, data = upload.name, upload.getvalue()
else:
    name, data = f"{sample}.png", None

# -- Analysis --------------------------------------------------------------------------------
try:
    if data is None:
        key, rgb = f"sample:{sample}", sample_image(sample)
    else:
        key = hashlib.sha256(data).hexdigest()
        rgb = decoded(key, data)
    raw, timings = raw_detections(key, model, rgb)
except (InputError, MissingModelError) as error:
    st.error(str(error))
    st.stop()
except Exception:
    log.exception("vision analysis failed")
    st.error("Something went wrong while analysing this picture; please try another one.")
    st.stop()

with settings_col:
    present = list(dict.fromkeys(raw[np.argsort(-raw.scores)].labels))
    chosen = st.multiselect(
        "Classes to show (empty shows all)",
        present,
        key=f"classes-{key}-{model}",
        help="Classes among the model's candidates, most confident first.",
    )

params = DetectionFilter(confidence, iou, tuple(chosen) if chosen else None)
shown, total = filter_candidates(raw, timings, params)
filter_ms = total.postprocess - timings.postprocess
# Draw on the screen-sized copy so slider moves stay fast on a 50 MP photo.
screen, scale, (dx, dy) = display_copy(key, rgb)
on_screen = Detections(
    shown.boxes * scale + (dx, dy, dx, dy), shown.scores, shown.class_ids, shown.class_names
)
annotated = annotate(screen, on_screen)

# -- Results ---------------------------------------------------------------------------------
with source_col:
    annotated_tab, original_tab = st.tabs(["With detections", "Original"])
    annotated_tab.image(annotated, width="stretch")
    original_tab.image(screen, width="stretch")
    st.text(f"{name} — {rgb.shape[1]}×{rgb.shape[0]} px")  # text, not markdown: a user's name

with settings_col:
    counts = shown.counts()
    st.subheader(f"{len(shown)} detection(s)")
    if counts:
        st.write(", ".join(f"{label}: {n}" for label, n in counts.items()))
    else:
        st.write("Nothing above the confidence threshold: try lowering it.")
    records = shown.to_records()
    st.dataframe(
        [
            {"label": r["label"], "score": r["score"], "box (x1, y1, x2, y2)": str(r["box"])}
            for r in records
        ],
        hide_index=True,
    )
    st.markdown(
        f"**Latency** — preprocess {total.preprocess:.1f} ms · inference "
        f"{total.inference:.1f} ms · postprocess {total.postprocess:.1f} ms · "
        f"total {total.total:.1f} ms"
    )
    st.caption(
        "The network ran once for this picture and model; moving a slider only filters "
        f"its {len(raw)} candidates ({filter_ms:.1f} ms)."
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
        "Download detections (JSON)",
        json.dumps(result_json(model, rgb, shown, total), indent=2),
        file_name=f"{stem}_detections.json",
        mime="application/json",
        on_click="ignore",
    )
