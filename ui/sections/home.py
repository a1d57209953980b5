"""Home's cards: for each page a small picture of a real result, made by the app's own analysis
from samples that need no model file and no network, and what "Try it" loads into the page.

The samples: scikit-image's photos (inside its wheel), a synthesized sound, and, when Debian's
codec2-examples and opencv-doc are installed, a real speech recording and OpenCV's street video.
The pictures use the best detector present; on a fresh clone that is OpenCV's built-in Haar
faces and HOG people, and each card says which model would show more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from analysis.audio.decode import AudioClip, demo_clip, load_audio
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import spectrogram, to_db
from analysis.figures import PHONE_SPECTROGRAM_LAYOUT
from analysis.video.io import read_frame
from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, rescaled, to_supervision
from analysis.vision.detectors import filter_candidates, is_available, load_detector
from analysis.vision.image import display_copy, encode_jpeg, sample_photo
from models.catalog import CATALOG
from ui.state import forget_file, hand_over_file, preset

# A Harvard-sentences recording (codec2-examples): "The birch canoe slid on the smooth planks…"
SPEECH = Path("/usr/share/codec2/raw/speech_orig_16k.wav")
STREET_VIDEO = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # opencv-doc
SIDE = 480  # the pictures' longest side, px
# Surer than the pages' default, 0.5 (at 0.25 Haar also boxes a helmet and a cat's ear as
# faces): the examples show only what a person can check is right. "Try it" opens
# Vision at this threshold, so the page shows what its picture showed.
CONFIDENCE = 0.6
FILTER = DetectionFilter(CONFIDENCE, 0.45)
PEOPLE_MODELS = ("yolox-nano", "mobilenet-ssd")  # HOG misses people as small as vtest.avi's
FACE_MODELS = ("yolox-nano", "mobilenet-ssd", "yunet", "haar-faces")


@dataclass(frozen=True)
class Card:
    """One page on Home: what it does, what its picture shows, and what more models add."""

    page: str  # "audio", "vision", …: the file app_pages/<page>.py and its URL path
    title: str
    text: str
    try_label: str | None  # None: the page needs the person's own files (Batch)


CARDS = (
    Card(
        "audio",
        ":material/graphic_eq: Audio",
        "Explore a sound's spectrogram: play it with a moving playhead, drag a box to zoom, "
        "hover to read time, pitch and level. YAMNet tags what is heard; Whisper writes down "
        "what is said and Praat measures the voice.",
        "Try it with a speech clip",
    ),
    Card(
        "vision",
        ":material/image_search: Vision",
        "Upload a photo or bring your own ONNX or Caffe model, and move the confidence "
        "slider: boxes, masks and skeletons follow at once. Download the picture and the "
        "detections as a table (CSV) or JSON.",
        "Try it with a photo",
    ),
    Card(
        "video",
        ":material/movie: Video",
        "Every object is detected and tracked, crossings of a line are counted, and the "
        "soundtrack's spectrogram and sound tags sit on the same timeline.",
        "Try it with a street video",
    ),
    Card(
        "live",
        ":material/videocam: Live",
        "Turn on the camera to see objects detected as they move, or the microphone for a "
        "scrolling spectrogram, a level meter and live sound tags.",
        "Try it with your camera",  # the browser asks for the camera when it starts
    ),
    Card(
        "batch",
        ":material/folder_open: Batch",
        "Drop a whole set of pictures or sounds: it is analysed on every core (or a Dask "
        "cluster) into tables, charts and a report; it resumes where it stopped.",
        None,
    ),
)


def first_available(names: tuple[str, ...]) -> str | None:
    """The first model of ``names`` whose files are here (built-in ones always are)."""
    return next((name for name in names if is_available(CATALOG[name])), None)


def speech_clip() -> tuple[str, AudioClip]:
    """The speech recording when installed, else the synthesized sample."""
    if SPEECH.is_file():
        return SPEECH.name, load_audio(SPEECH)
    return "sample.wav", demo_clip()


def detected(rgb: np.ndarray, model: str) -> tuple[np.ndarray, int]:
    """``rgb`` at most SIDE px with ``model``'s detections drawn, and how many there are."""
    raw, timings = load_detector(model).detect(rgb)
    shown, _ = filter_candidates(raw, timings, FILTER)
    small, scale, _ = display_copy(rgb, SIDE)
    return annotate(small, rescaled(to_supervision(shown), scale, (0, 0))), len(shown)


def spectrogram_jpeg(clip: AudioClip) -> bytes:
    columns, rows = PHONE_SPECTROGRAM_LAYOUT.plot_size  # big text, for a small picture
    spec = spectrogram(clip.mono(), clip.sample_rate, max_columns=columns, max_rows=rows)
    db, peak = to_db(spec.power, db_range=80.0)
    return render_spectrogram(
        spec, db, db_floor=peak - 80.0, db_top=peak, layout=PHONE_SPECTROGRAM_LAYOUT,
        image_format="jpeg",
    )  # fmt: skip


def audio_picture() -> tuple[bytes, str]:
    name, clip = speech_clip()
    what = "a spoken recording" if name != "sample.wav" else "a synthesized sample"
    return spectrogram_jpeg(clip), f"The spectrogram of {what} ({clip.duration:.0f} s)."


def vision_picture() -> tuple[bytes, str]:
    model = first_available(FACE_MODELS)
    drawn, count = detected(sample_photo("astronaut"), model)
    return encode_jpeg(drawn), f"{CATALOG[model].title}: {count} found in a sample photo."


def video_picture() -> tuple[bytes, str] | None:
    if not STREET_VIDEO.is_file():
        return None
    frame = read_frame(STREET_VIDEO, 20.0)
    model = first_available(PEOPLE_MODELS)
    if model is None:  # say so rather than draw HOG's wrong boxes
        small, _, _ = display_copy(frame, SIDE)
        return encode_jpeg(small), "OpenCV's street video at 0:20."
    drawn, count = detected(frame, model)
    return encode_jpeg(drawn), f"{CATALOG[model].title}: {count} found at 0:20 of vtest.avi."


def live_picture() -> tuple[bytes, str]:
    return spectrogram_jpeg(demo_clip()), "What the microphone view scrolls by: a chirp and tones."


def batch_picture() -> tuple[bytes, str]:
    model = first_available(FACE_MODELS)
    tiles = [detected(sample_photo(name), model) for name in ("astronaut", "chelsea", "coffee")]
    side = SIDE // 2
    sheet = np.full((side, side * len(tiles), 3), 255, np.uint8)
    for i, (drawn, _) in enumerate(tiles):
        small, _, _ = display_copy(drawn, side)
        h, w = small.shape[:2]
        sheet[:h, i * side : i * side + w] = small
    counts = ", ".join(str(count) for _, count in tiles)
    return encode_jpeg(sheet), f"Three photos through {CATALOG[model].title}: {counts} found."


PICTURES = {
    "audio": audio_picture,
    "vision": vision_picture,
    "video": video_picture,
    "live": live_picture,
    "batch": batch_picture,
}


@st.cache_resource(max_entries=len(PICTURES), ttl="1h", show_spinner=False)
def picture(page: str) -> tuple[bytes, str] | None:
    """The card's picture (a JPEG, at most SIDE px) and its caption, once per server and hour
    (a model fetched meanwhile shows after an hour, or a restart)."""
    return PICTURES[page]()


def what_more_shows(page: str) -> str | None:
    """Which absent models would show more on ``page``, or None when nothing is missing."""
    wanted = {
        "audio": ("yamnet", "whisper-base"),
        "vision": ("yolox-nano", "blazepose"),
        "video": ("yolox-nano",),
        "live": ("yolox-nano", "yamnet"),
        "batch": ("yolox-nano", "yamnet"),
    }[page]
    missing = [name for name in wanted if not is_available(CATALOG[name])]
    if not missing:
        return None
    titles = " and ".join(CATALOG[name].title for name in missing)
    commands = " and ".join(f"`python -m models fetch {name}`" for name in missing)
    return f"Shows more with {titles}: run {commands}."


def load_sample(page: str) -> None:
    """Put ``page``'s sample into the session, as if the person had chosen it there."""
    if page == "audio":
        if SPEECH.is_file():
            source = ("audio_source", "Upload a file")
            hand_over_file("audio_upload", SPEECH.name, SPEECH.read_bytes(), source=source)
        else:
            preset("audio_source", "Try a sample")
    elif page == "vision":
        preset("vision_source", "Sample photo")
        preset("vision_confidence", CONFIDENCE)
        preset("vision_sample", "astronaut")
    elif page == "video":
        forget_file("video_upload")  # the sample shows only while no video is loaded
        preset("video_sample", True)
