"""Keep the app in ``st.navigation`` mode even when a fresh server is first opened on a page URL."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def leave_legacy_pages_mode() -> None:
    """Rerun through ``app.py`` when Streamlit ran this page script in its legacy ``pages/`` mode.

    Until some session has run ``st.navigation``, Streamlit treats a ``pages/`` folder beside the
    entry point as the old multipage layout: opening ``/vision`` on a fresh server runs the page
    script alone, with file names in the sidebar and none of ``app.py``'s settings. Leaving
    that mode and rerunning makes Streamlit execute ``app.py``, whose navigation keeps the page.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
