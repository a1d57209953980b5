"""Percept: drop in a sound or a picture and see what deep learning and signal processing find."""

import streamlit as st

from ui.memory import release_closed_sessions_every, return_freed_memory
from ui.state import open_link

return_freed_memory()  # once per process is enough; cheap to repeat
release_closed_sessions_every(30.0)  # one thread per server

# An emoji favicon is drawn in the browser; a Material one would be fetched from Google.
st.set_page_config(page_title="Percept", page_icon="🔍", layout="wide")


def page(name: str, title: str, icon: str, **options: object) -> st.Page:
    return st.Page(f"app_pages/{name}.py", title=title, icon=f":material/{icon}:", **options)


navigation = st.navigation(
    [
        page("home", "Home", "home", default=True),
        page("audio", "Audio", "graphic_eq", url_path="audio"),
        page("vision", "Vision", "image_search", url_path="vision"),
        page("video", "Video", "movie", url_path="video"),
        page("live", "Live", "videocam", url_path="live"),
        page("batch", "Batch", "folder_open", url_path="batch"),
    ]
)
open_link()  # ?w=<id>: this session's work, kept on the server (see README, "Links")
navigation.run()
