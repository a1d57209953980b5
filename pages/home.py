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

audio, vision = st.columns(2)
with audio, st.container(border=True):
    st.subheader(":material/graphic_eq: Audio")
    st.write(
        "Upload or record a sound, play it back and explore its spectrogram with live FFT, "
        "scale and colour controls. A pre-trained network (YAMNet) tags what is heard, and when."
    )
    link("pages/audio.py", "audio", "Open the audio page")
with vision, st.container(border=True):
    st.subheader(":material/image_search: Vision")
    st.write(
        "Upload a photo or take a snapshot, pick a detector and move the confidence slider "
        "to see boxes, labels and scores follow at once. Download the annotated image and a table."
    )
    link("pages/vision.py", "vision", "Open the vision page")
