"""Test harness for the Video page in a real browser: the page itself, with a detector that
finds the bright square of the generated videos (the real networks see no object in them).

Run by tests/browser/test_video.py: ``python -m streamlit run
tests/support/apps/video_page_app.py`` from the project root.
"""

from __future__ import annotations

import runpy

import streamlit as st

import analysis.video.pipeline
from tests.analysis.video.test_pipeline import SquareDetector


@st.cache_resource
def _square() -> SquareDetector:
    return SquareDetector()


st.set_page_config(page_title="Percept", layout="wide")  # as app.py
analysis.video.pipeline.load_detector = lambda name, **options: _square()
runpy.run_path("app_pages/video.py", run_name="__main__")
