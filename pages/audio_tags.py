"""The audio page's "What's in this sound" section (YAMNet sound-event tags).

Not a page of its own: ``pages/audio.py`` calls :func:`show_tags`.
"""

from __future__ import annotations

import streamlit as st


def show_tags(clip, start_s: float, end_s: float, file_key: str) -> None:  # noqa: ANN001
    """Render the tags for ``clip`` (an ``analysis.audio.AudioClip``) between two times (s).

    ``file_key`` identifies the decoded file (e.g. its content hash) so results are cached
    once per file and never recomputed when only STFT controls change.
    """
    st.subheader("What's in this sound")
    st.caption("Sound-event tagging is being built.")
