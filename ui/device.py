"""What kind of screen a page is drawn for."""

from __future__ import annotations

import streamlit as st


def is_phone() -> bool:
    """True when the browser says it is a phone: "Mobi" in its User-Agent, as MDN advises
    (tablets say "Mobile" less often and get the desktop pictures, which suit their width)."""
    return "Mobi" in st.context.headers.get("User-Agent", "")
