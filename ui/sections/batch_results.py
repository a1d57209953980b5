"""What the Batch page shows once a run has ended: the summary counting every file, the score
against the ground truth, counts per label, the gallery, and the downloads (each table as CSV
and Parquet, the report)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.batch.run import BatchSummary
from analysis.batch.tables import class_counts
from analysis.wording import plural
from ui.sections.batch import BatchRun
from ui.sections.batch_gallery import gallery

MIME = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".html": "text/html",
    ".json": "application/json",
}


def summary_sentence(summary: BatchSummary) -> str:
    """``"12 files: 9 analysed, 1 error, 2 skipped, on 2 workers in 3.1 s."``"""
    return (
        f"{plural(summary.files, 'file')}: {summary.ok} analysed, "
        f"{plural(summary.errors, 'error')}, {summary.skipped} skipped, on "
        f"{plural(summary.workers, 'worker')} in {summary.elapsed_s:.1f} s."
    )


def show_results(run: BatchRun, summary: BatchSummary) -> None:
    """The summary line, the score, the counts, the gallery, and the downloads."""
    results = run.tables()
    st.success(summary_sentence(summary))
    skipped = results.files[results.files["status"] == "skipped"]
    if len(skipped):
        reasons = skipped["error"].value_counts()
        st.caption(
            "Skipped: " + "; ".join(f"{why} ({plural(n, 'file')})" for why, n in reasons.items())
        )
    show_scores(run)
    rows = results.rows
    if "label" in rows and len(rows):
        with st.expander(f"Counts per label ({rows['label'].nunique()})"):
            per_class = class_counts(rows)
            st.bar_chart(per_class, x="label", y="rows", horizontal=True, x_label="", y_label="")
            st.dataframe(per_class, hide_index=True, width="stretch")
    gallery(run)
    show_downloads(run)


def show_scores(run: BatchRun) -> None:
    """mAP, precision and recall per class, the confusion matrix (when scored)."""
    scores = run.scores()
    if scores is None:
        return
    summary = scores.summary
    st.subheader("Score against the ground truth")
    left, middle, right = st.columns(3)
    left.metric("mAP@50", f"{summary['map50']:.3f}")
    middle.metric("mAP@50:95", f"{summary['map50_95']:.3f}")
    right.metric("Labelled pictures", summary["pictures"])
    st.caption(
        f"From the {summary['ground_truth']}. A detection is correct when it covers a labelled "
        "box of its class with IoU ≥ 0.5; precision is not measurable for a class never "
        "detected, recall for a class never labelled (–)."
    )
    if summary["note"]:
        st.warning(summary["note"])
    per_class = pd.DataFrame.from_dict(summary["per_class"], orient="index")
    per_class.index.name = "label"
    table, matrix = st.columns(2)
    table.dataframe(
        per_class.reset_index(),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in ("precision", "recall", "ap50")
        },
    )
    confusion = summary["confusion_matrix"]
    labelled = [*confusion["classes"][:-1], "(false alarm)"]
    detected = [*confusion["classes"][:-1], "(missed)"]
    matrix.dataframe(
        pd.DataFrame(confusion["matrix"], index=pd.Index(labelled, name="labelled"),
                     columns=detected),
        width="stretch",
    )  # fmt: skip
    matrix.caption("Rows: the labelled class; columns: the detected class.")


def show_downloads(run: BatchRun) -> None:
    """Every file the run wrote: each table as CSV and Parquet, the evaluation, the report."""
    written = sorted(
        path for path in run.out_dir.iterdir() if path.suffix in MIME and path.name != "batch.json"
    )
    st.caption("Downloads (CSV opens in any spreadsheet; Parquet keeps the column types)")
    row = st.container(horizontal=True)  # buttons as wide as the files' names, wrapping
    for path in written:
        row.download_button(
            path.name,
            path.read_bytes(),
            file_name=path.name,
            mime=MIME[path.suffix],
            key=f"dl_{path.name}",
            icon=":material/download:",
        )
