"""Streamlit code shared by the page scripts in ``pages/`` (which hold page scripts only)."""
