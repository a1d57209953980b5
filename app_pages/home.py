"""Home: what Percept does and where to start."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError


def link(page: str, url_path: str, label: str) -> None:
    """Link to another page; run on its own (no st.navigation) the page is a plain URL."""
    try:
        st.page_link(page, label=label, icon=":material/arrow_forward:")
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}](/{url_path})")


st.title("Percept")
st.write(
    "Drop in a sound, a picture or a video, or turn on a camera or microphone, and see what "
    "deep learning and signal processing find in it."
)

CARDS = [
    (
        ":material/graphic_eq: Audio",
        "Upload or record a sound and explore its spectrogram: play it with a moving playhead, "
        "drag a box to zoom, hover to read time, pitch and level. YAMNet tags what is heard, "
        "and when; Whisper writes down what is said and Praat measures the voice.",
        "app_pages/audio.py",
        "audio",
    ),
    (
        ":material/image_search: Vision",
        "Upload a photo, take a snapshot or bring your own ONNX or Caffe model, and move the "
        "confidence slider: boxes, masks and skeletons follow at once. Download the picture "
        "and the detections as a table (CSV) or JSON.",
        "app_pages/vision.py",
        "vision",
    ),
    (
        ":material/movie: Video",
        "Drop a video: every object is detected and tracked, crossings of a line are counted, "
        "and the soundtrack's spectrogram and sound tags sit on the same timeline.",
        "app_pages/video.py",
        "video",
    ),
    (
        ":material/videocam: Live",
        "Turn on the camera to see objects detected as they move, or the microphone for a "
        "scrolling spectrogram, a level meter and live sound tags.",
        "app_pages/live.py",
        "live",
    ),
    (
        ":material/folder_open: Batch",
        "Point at a whole folder of pictures or sounds: it is analysed on every core (or a "
        "Dask cluster) into tables, charts and a report; it resumes where it stopped.",
        "app_pages/batch.py",
        "batch",
    ),
]

for row in (CARDS[:3], CARDS[3:]):
    for column, (title, text, page, url_path) in zip(st.columns(3), row, strict=False):
        with column, st.container(border=True):
            st.subheader(title)
            st.write(text)
            link(page, url_path, f"Open the {url_path} page")
