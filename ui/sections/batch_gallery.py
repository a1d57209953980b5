"""The Batch page's gallery: every file of a run, paged, filtered and sorted on the stored
tables (nothing runs again), and a detail view of one file.

Filters and sorting run in a fragment, on one frame of one row per file derived once per run
(:func:`catalogue`), so with 10,000 files a change answers in a few tens of milliseconds;
only the page's thumbnails (:data:`PAGE_SIZE`) are drawn, and they are cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.batch.pictures import (
    annotated,
    jpeg,
    picture,
    shown_frame,
    sound_thumbnail,
    spectrogram_png,
    thumbnail,
)
from analysis.batch.tables import STATUSES
from analysis.errors import InputError
from analysis.wording import plural
from ui.sections.batch import BatchRun
from ui.state import remember

PAGE_SIZE = 12
COLUMNS = 4
SORTS = {
    "Most misses and false alarms": (["wrong", "path"], [False, True]),
    "Most objects": (["count", "best", "path"], [False, False, True]),
    "Most confident": (["best", "path"], [False, True]),
    "Slowest": (["seconds", "path"], [False, True]),
    "Errors first": (["rank", "path"], [True, True]),
    "Name": (["path"], [True]),
}


@dataclass(frozen=True)
class Filters:
    """What the gallery shows: files of these ``statuses``; with ``labels`` (or a
    ``lowest`` score above the run's), only files with such a row; transcripts holding
    ``query``."""

    statuses: tuple[str, ...]
    labels: tuple[str, ...] = ()
    lowest: float = 0.0
    query: str = ""


def catalogue(run: BatchRun) -> pd.DataFrame:
    """One row per file: ``path, kind, status, error, seconds``, its rows' ``count`` and
    ``best`` score, ``text`` (transcripts), ``misses, false_alarms, wrong`` (when scored) and
    ``rank`` (errors first); derived once per run."""
    if "catalogue" in run.memo:
        return run.memo["catalogue"]
    results, scores = run.tables(), run.scores()
    files, rows = results.files.copy(), results.rows
    counts = [pd.DataFrame({"count": [], "best": []})]
    if "score" in rows:
        counts.append(rows.groupby("path")["score"].agg(count="size", best="max"))
    if len(results.tracks):
        counts.append(results.tracks.groupby("path")["best_score"].agg(count="size", best="max"))
    files = files.join(pd.concat(counts), on="path")
    files["count"] = files["count"].fillna(0).astype(int)
    files["best"] = files["best"].fillna(0.0).astype(float)
    files["text"] = ""
    if "text" in rows:
        files["text"] = files["path"].map(rows.groupby("path")["text"].agg(" ".join)).fillna("")
    if scores is not None:
        per_file = scores.per_file.set_index("path")[["misses", "false_alarms"]]
        files = files.join(per_file, on="path")
        files["wrong"] = files["misses"].fillna(0) + files["false_alarms"].fillna(0)
    files["rank"] = files["status"].map({"error": 0, "ok": 1, "skipped": 2})
    run.memo["catalogue"] = files
    return files


def filtered(run: BatchRun, filters: Filters) -> pd.DataFrame:
    """The files :class:`Filters` keep, and the rows kept with them (``memo``'d per filter)."""
    files = catalogue(run)
    shown = files[files["status"].isin(filters.statuses)]
    rows = run.tables().rows
    if filters.labels or filters.lowest > run_floor(run):
        matching = rows[rows["score"] >= filters.lowest] if "score" in rows else rows
        if filters.labels:
            matching = matching[matching["label"].isin(filters.labels)]
        shown = shown[shown["path"].isin(matching["path"])]
    if filters.query:
        shown = shown[shown["text"].str.contains(filters.query, case=False, regex=False)]
    return shown


def run_floor(run: BatchRun) -> float:
    """The lowest score the run kept: nothing below it can be asked for."""
    return float(run.settings.confidence) if run.settings.task == "detect" else 0.0


def file_rows(run: BatchRun, path: str, lowest: float = 0.0) -> pd.DataFrame:
    """The rows of one file (at ``lowest`` score or more), found by bisection: the tables
    are sorted by path, and a comparison of every row would cost 10 ms per file at 10,000."""
    if "by_path" not in run.memo:
        rows = run.tables().rows
        if not rows["path"].is_monotonic_increasing:
            rows = rows.sort_values("path", kind="stable")
        run.memo["by_path"] = rows, rows["path"].to_numpy()
    rows, paths = run.memo["by_path"]
    start, end = np.searchsorted(paths, path, "left"), np.searchsorted(paths, path, "right")
    rows = rows.iloc[start:end]
    return rows[rows["score"] >= lowest] if "score" in rows else rows


def shown_at(
    run: BatchRun, path: str, kind: str, lowest: float = 0.0
) -> tuple[float, pd.DataFrame]:
    """The time of the frame a file's picture shows (a video's busiest, see
    :func:`analysis.batch.pictures.shown_frame`; 0 for a picture) and the boxes drawn on it."""
    if kind != "video":
        return 0.0, file_rows(run, path, lowest)
    tracks = run.tables().tracks
    at_s, rows = shown_frame(tracks[tracks["path"] == path])
    return at_s, rows[rows["score"] >= lowest]


def truth_rows(run: BatchRun, path: str) -> pd.DataFrame | None:
    scores = run.scores()
    if scores is None or path not in set(scores.per_file["path"]):
        return None
    return scores.truth[scores.truth["path"] == path]


@st.cache_data(max_entries=256, show_spinner=False)
def cached_thumbnail(
    path: str, kind: str, rows: pd.DataFrame, truth: pd.DataFrame | None, at_s: float = 0.0
) -> bytes | None:
    try:
        return thumbnail(path, rows, truth, kind, at_s=at_s)
    except (InputError, OSError):
        return None


@st.cache_data(max_entries=256, show_spinner=False)
def cached_sound_thumbnail(path: str) -> bytes | None:
    try:
        return sound_thumbnail(path)
    except (InputError, OSError):
        return None


def controls(run: BatchRun) -> tuple[Filters, str]:
    """The filter and sort widgets; returns what they ask for."""
    rows = run.tables().rows
    columns = st.columns([3, 3, 2, 2])
    statuses = columns[0].multiselect(
        "Status", STATUSES, key=remember("batch_statuses", list(STATUSES)), placeholder="None"
    )
    labels, lowest, query = [], run_floor(run), ""
    if "label" in rows:
        choices = sorted(rows["label"].unique())
        labels = columns[1].multiselect(
            "Labels", choices, key=remember("batch_labels", []), placeholder="All"
        )
        floor = run_floor(run)
        lowest = columns[2].slider(
            "Lowest score", floor, 1.0, key=remember("batch_score", floor), step=0.01
        )
    if "text" in rows:
        query = columns[1].text_input("Find in the transcripts", key=remember("batch_query", ""))
    sorts = [name for name in SORTS if name != "Most misses and false alarms" or run.scores()]
    order = columns[3].selectbox("Sort", sorts, key=remember("batch_sort", sorts[0]))
    kept = tuple(label for label in labels if label in set(rows.get("label", ())))
    return Filters(tuple(statuses), kept, lowest, query.strip()), order


@st.fragment
def gallery(run: BatchRun) -> None:
    """Filters, sorting, one page of files and a button per file for its detail view."""
    filters, order = controls(run)
    shown = filtered(run, filters)
    columns, ascending = SORTS[order]
    shown = shown.sort_values(columns, ascending=ascending, kind="stable")
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    left, right = st.columns([3, 1])
    page = right.number_input("Page", 1, pages, key=f"batch_page_{pages}", step=1)
    left.caption(f"{len(shown):,} of {len(catalogue(run)):,} files match; page {page} of {pages}.")
    cards = st.columns(COLUMNS)
    start = (int(page) - 1) * PAGE_SIZE
    for index, record in enumerate(shown.iloc[start : start + PAGE_SIZE].itertuples(index=False)):
        with cards[index % COLUMNS].container(border=True):
            card(run, record, filters)


def card(run: BatchRun, record: object, filters: Filters) -> None:
    """One file in the gallery: its thumbnail or words, and the button that opens it."""
    path = record.path
    if record.status == "ok" and record.kind in ("picture", "video"):
        at_s, rows = shown_at(run, path, record.kind, filters.lowest)
        if filters.labels and "label" in rows:
            rows = rows[rows["label"].isin(filters.labels)]
        image = cached_thumbnail(
            str(run.input_dir / path), record.kind, rows, truth_rows(run, path), at_s
        )
        if image is not None:
            st.image(image, width="stretch")
    elif record.status == "ok" and record.kind == "sound":
        image = cached_sound_thumbnail(str(run.input_dir / path))
        if image is not None:
            st.image(image, width="stretch")
    st.markdown(f"**{path}**")
    st.caption(summary_line(run, record))
    if st.button("Open", key=f"batch_open_{path}", width="stretch"):
        detail(run, path)


def summary_line(run: BatchRun, record: object) -> str:
    """A file's result in words: its error or reason, transcript, or counts."""
    if record.status != "ok":
        return f"{record.status}: {record.error}"
    if run.settings.task == "transcribe":
        return (record.text[:120] + "…") if len(record.text) > 120 else record.text or "(silence)"
    what = {"video": "track", "sound": "tag"}.get(record.kind, "object")
    line = f"{plural(record.count, what)}, best {record.best:.2f}, {record.seconds:.2f} s"
    if not pd.isna(getattr(record, "misses", float("nan"))):
        line += f"; {int(record.misses)} missed, {plural(int(record.false_alarms), 'false alarm')}"
    return line


@st.dialog("File", width="large")
def detail(run: BatchRun, path: str) -> None:
    """The file at full size: its annotated picture (or first frame, or spectrogram and
    sound, or transcript) and its table."""
    record = catalogue(run).set_index("path").loc[path]
    source = Path(run.input_dir, path)
    st.subheader(path)
    if record["status"] != "ok":
        st.warning(f"{record['status'].capitalize()}: {record['error']}")
        return
    (at_s, rows), truth = shown_at(run, path, record["kind"]), truth_rows(run, path)
    try:
        if record["kind"] in ("picture", "video"):
            st.image(jpeg(annotated(picture(source, record["kind"], at_s), rows, truth), 90))
            if record["kind"] == "video":
                st.caption(f"The frame at {at_s:.1f} s, with the most objects in view.")
            if truth is not None:
                st.caption("Green: the labels. Red: the detections. A green box alone is a miss, "
                           "a red box alone a false alarm.")  # fmt: skip
        else:
            st.audio(source.read_bytes())
            st.image(spectrogram_png(source))
    except (InputError, OSError) as error:
        st.warning(f"The file can no longer be shown: {error}")
    if record["kind"] == "video":
        tracks = run.tables().tracks
        st.dataframe(tracks[tracks["path"] == path], hide_index=True, width="stretch")
    elif "text" in rows:
        st.write(" ".join(rows["text"]) or "(no speech found)")
    else:
        st.dataframe(rows.drop(columns="path"), hide_index=True, width="stretch")
    if truth is not None:
        st.caption(f"Labelled: {len(truth)} boxes")
        st.dataframe(truth.drop(columns="path"), hide_index=True, width="stretch")
