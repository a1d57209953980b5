"""Percept's computation: audio, spectrograms, detection and tagging, with no Streamlit import.

Usable from a notebook and from the command line (``python -m analysis --help``).
"""

from analysis.errors import InputError

__all__ = ["InputError"]
