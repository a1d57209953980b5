"""How many of each kind were found, said the same way on every page: "person: 2, car: 1"."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st


def counts_text(counts: Mapping[str, int]) -> str:
    """``"person: 2, car: 1"``, in the order given (most first)."""
    return ", ".join(f"{label}: {n}" for label, n in counts.items())


def show_counts(heading: str, counts: Mapping[str, int], nothing: str) -> None:
    """A heading such as "3 detection(s)", then the counts, or ``nothing`` when empty."""
    st.subheader(heading)
    st.write(counts_text(counts) if counts else nothing)
