"""What the Batch page shows once a run has ended: the summary, the rows found (filtered on
the stored tables, so nothing runs again), counts, thumbnails, errors and the downloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.batch.report import thumbnail
from analysis.batch.run import BatchSummary
from analysis.batch.tables import (
    FILES_TABLE,
    REPORT,
    TASK_TABLES,
    class_counts,
    per_file_counts,
)
from analysis.errors import InputError
from ui.sections.batch import BatchRun
from ui.state import remember

THUMBNAILS = 8


def plural(n: int, word: str) -> str:
    """``"1 file"``, ``"3 files"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@st.cache_data(max_entries=64, show_spinner=False)
def cached_thumbnail(path: str, boxes: tuple[tuple[float, ...], ...]) -> bytes | None:
    try:
        return thumbnail(path, np.array(boxes, dtype=np.float64).reshape(-1, 4))
    except (InputError, OSError):
        return None


def show_results(run: BatchRun, summary: BatchSummary) -> None:
    """The summary line, the rows found, the files that failed, and the downloads."""
    results = run.tables()
    files, rows = results.files, results.rows
    st.success(
        f"{plural(summary.files, 'file')}: {summary.ok} analysed, "
        f"{plural(summary.errors, 'error')}, {summary.skipped} skipped, on "
        f"{plural(summary.workers, 'worker')} in {summary.elapsed_s:.1f} s."
    )
    if run.settings.task == "transcribe":
        show_transcripts(rows)
    else:
        show_labels(run, rows)
    failed = files[files["status"] == "error"]
    if len(failed):
        with st.expander(f"Errors ({len(failed)})"):
            st.dataframe(failed[["path", "error"]], hide_index=True, width="stretch")
    show_downloads(run)


def show_labels(run: BatchRun, rows: pd.DataFrame) -> None:
    """Filter by label and score (on the stored rows: nothing runs again), counts, thumbnails."""
    if rows.empty:
        st.info("Nothing was found in these files.")
        return
    labels = list(class_counts(rows)["label"])
    chosen = st.multiselect("Labels", labels, key=remember("batch_labels", []), placeholder="All")
    lowest = float(run.settings.confidence) if run.settings.task == "detect" else 0.0
    minimum = st.slider("Lowest score", lowest, 1.0, key=remember("batch_score", lowest), step=0.01)
    shown = rows[rows["score"] >= minimum]
    if chosen:
        shown = shown[shown["label"].isin(chosen)]
    table, counts = st.columns([3, 2])
    table.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={"score": st.column_config.NumberColumn(format="%.2f")},
    )
    per_class = class_counts(shown)
    counts.bar_chart(per_class, x="label", y="rows", horizontal=True, x_label="", y_label="")
    counts.dataframe(per_class, hide_index=True, width="stretch")
    top = per_file_counts(shown).head(THUMBNAILS)
    if run.settings.task == "detect" and len(top):
        st.subheader("Files with the most detections")
        columns = st.columns(4)
        for index, record in enumerate(top.itertuples(index=False)):
            boxes = shown.loc[shown["path"] == record.path, ["x1", "y1", "x2", "y2"]]
            picture = cached_thumbnail(
                str(run.input_dir / record.path), tuple(map(tuple, boxes.to_numpy()))
            )
            caption = f"{record.path}: {record.count}, best {record.best:.2f}"
            with columns[index % 4]:
                if picture is None:
                    st.caption(f"{caption} (can no longer be read)")
                else:
                    st.image(picture, caption=caption)
    elif len(top):
        st.subheader("Files with the most labels shown")
        st.dataframe(top, hide_index=True)


def show_transcripts(rows: pd.DataFrame) -> None:
    query = st.text_input("Find in the transcripts", key=remember("batch_query", ""))
    shown = rows[rows["text"].str.contains(query, case=False, regex=False)] if query else rows
    st.dataframe(shown, hide_index=True, width="stretch")


def show_downloads(run: BatchRun) -> None:
    """The files the command line writes: the two tables and the self-contained report."""
    names = [FILES_TABLE, TASK_TABLES[run.settings.task], REPORT]
    columns = st.columns(len(names))
    for column, name in zip(columns, names, strict=True):
        path = run.out_dir / name
        if path.exists():
            mime = "text/html" if name == REPORT else "application/vnd.apache.parquet"
            column.download_button(
                f"Download {name}", path.read_bytes(), file_name=name, mime=mime, key=f"dl_{name}"
            )
