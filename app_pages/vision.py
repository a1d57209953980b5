"""Vision: drop a picture, pick a detector (or bring your own), move the sliders, see the boxes,
masks and skeletons follow at once."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from analysis.vision.detectors import MIN_CANDIDATE_SCORE
from analysis.vision.image import encode_jpeg
from analysis.vision.pose import Poses
from analysis.vision.timings import ms_since
from ui.device import is_phone
from ui.sections.vision import (
    analysed,
    choose_model,
    choose_picture,
    filtered,
    show_results,
)
from ui.state import remember

DEFAULT_IOU = 0.45

st.title("Vision")
st.caption(
    "Drop in a picture and see what a detector finds in it: objects, faces, body poses, or "
    "whatever your own model knows. Move the sliders: the boxes follow at once, the network "
    "does not run again."
)

picture_col, settings_col = st.columns([3, 2], gap="large")

with settings_col:
    model = choose_model()

with picture_col:
    chosen = choose_picture()
    picture, run = analysed(model, chosen)
    rgb = picture.rgb
    st.text(f"{chosen.name} — {rgb.shape[1]}×{rgb.shape[0]} px")  # text: a user's file name
    picture_slot = st.container()

# On a phone the columns stack: straight under the picture, both stay in view while it moves;
# on a wide screen, beside it with the other settings.
with picture_col if is_phone() else settings_col:
    confidence = st.slider(
        "Confidence threshold",
        min_value=MIN_CANDIDATE_SCORE,
        max_value=1.0,
        step=0.05,
        value=DEFAULT_CONFIDENCE,
        key=remember("vision_confidence", DEFAULT_CONFIDENCE),
        help="How sure the model must be to show a box: higher shows fewer, surer boxes.",
    )

with settings_col:
    raw = run.raw.to_detections() if isinstance(run.raw, Poses) else run.raw
    present = list(dict.fromkeys(raw[np.argsort(-raw.scores)].labels))
    classes = st.multiselect(
        "Classes to show (empty shows all)",
        present,
        key=remember(f"vision_classes_{chosen.key}_{model.id}", []),
        help="Show only these kinds of things; the list holds what the model saw, most "
        "confident first.",
    )
    show_masks = raw.masks is not None and st.toggle(
        "Show masks",
        value=True,
        key=remember("vision_masks", True),
        help="Colour each object's own pixels, as the segmentation model outlines them.",
    )
    with st.expander("Advanced"):
        iou = st.slider(
            "Overlap (IoU) for merging boxes",
            min_value=0.1,
            max_value=1.0,
            step=0.05,
            value=DEFAULT_IOU,
            key=remember("vision_iou", DEFAULT_IOU),
            help="Two boxes of the same kind that overlap more than this share are taken for "
            "one thing and only the surer stays. 1 keeps every box.",
        )

shown = filtered(run, DetectionFilter(confidence, iou, tuple(classes) or None), show_masks)
# Drawn on the screen-sized copy, so slider moves stay fast on a 50 MP photo.
start = time.perf_counter()
annotated = encode_jpeg(shown.drawn(picture.screen, picture.scale, picture.offset))
draw_ms = ms_since(start)

with picture_slot:
    annotated_tab, original_tab = st.tabs(["With detections", "Original"])
    annotated_tab.image(annotated, width="stretch")
    original_tab.image(picture.original_jpeg, width="stretch")

with settings_col:
    show_results(picture, run, shown, draw_ms, chosen.name, model)
