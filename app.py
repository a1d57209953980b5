"""Percept: drop in a sound or a picture and see what deep learning and signal processing find."""

import streamlit as st

# An emoji favicon is drawn in the browser; a Material one would be fetched from Google.
st.set_page_config(page_title="Percept", page_icon="🔍", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/audio.py", title="Audio", icon=":material/graphic_eq:", url_path="audio"),
        st.Page(
            "pages/vision.py", title="Vision", icon=":material/image_search:", url_path="vision"
        ),
        st.Page("pages/video.py", title="Video", icon=":material/movie:", url_path="video"),
        st.Page("pages/live.py", title="Live", icon=":material/videocam:", url_path="live"),
        st.Page("pages/batch.py", title="Batch", icon=":material/folder_open:", url_path="batch"),
    ]
)
navigation.run()
