"""Home: what Percept does and where to start."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ui.navigation import leave_legacy_pages_mode

leave_legacy_pages_mode()


def link(page: str, url_path: str, label: str) -> None:
    """Link to another page; run on its own (no st.navigation) the page is a plain URL."""
    try:
        st.page_link(page, label=label, icon=":material/arrow_forward:")
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}](/{url_path})")


st.title("Percept")
st.write(
    "Drop in a sound or a picture and see what deep learning and signal processing find in it."
)

CARDS = [
    (
        ":material/graphic_eq: Audio",
        "Upload or record a sound, play it back and explore its spectrogram with live FFT, "
        "scale and colour controls. A pre-trained network (YAMNet) tags what is heard, and "
        "when; Whisper writes down what is said and Praat measures the voice.",
        "pages/audio.py",
        "audio",
    ),
    (
        ":material/image_search: Vision",
        "Upload a photo or take a snapshot, pick a detector and move the confidence slider "
        "to see boxes, labels and scores follow at once. Download the annotated image and "
        "the detections as a table (CSV) or JSON.",
        "pages/vision.py",
        "vision",
    ),
    (
        ":material/movie: Video",
        "Drop a video: every object is detected and tracked, crossings of a line are counted, "
        "and the soundtrack's spectrogram and sound tags sit on the same timeline.",
        "pages/video.py",
        "video",
    ),
]

for column, (title, text, page, url_path) in zip(st.columns(len(CARDS)), CARDS, strict=True):
    with column, st.container(border=True):
        st.subheader(title)
        st.write(text)
        link(page, url_path, f"Open the {url_path} page")
