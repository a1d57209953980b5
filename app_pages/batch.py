"""Batch: many pictures or sounds at once on the Dask cluster, then browse what was found."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import streamlit as st

from analysis.batch.report import thumbnail
from analysis.batch.run import dashboard_url, open_client
from analysis.batch.settings import BatchSettings, check_model, default_model, task_models
from analysis.batch.tables import FILES_TABLE, REPORT, TASK_TABLES, class_counts, per_file_counts
from analysis.errors import InputError
from analysis.vision.detectors import is_available
from models.catalog import CATALOG, get_spec
from models.locate import MissingModelError
from ui.sections.batch import (
    ROOT_VARIABLE,
    SCHEDULER_VARIABLE,
    BatchJob,
    ClusterClient,
    save_uploads,
    server_folder,
)
from ui.sections.batch import workspace as new_workspace
from ui.state import remember

TASK_LABELS = {
    "detect": "Detect objects in pictures",
    "tags": "Tag the sound events in recordings",
    "transcribe": "Transcribe the speech in recordings",
}
JOB = "batch_job"
UPLOAD, FOLDER = "Upload files", "A folder on the server"
POLL_S = 1.0  # progress refresh period while a batch runs
THUMBNAILS = 8


def plural(n: int, word: str) -> str:
    """``"1 file"``, ``"3 files"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@st.cache_resource(show_spinner="Starting the Dask cluster…", on_release=ClusterClient.close)
def cluster() -> ClusterClient:
    """One client for the whole app: on ``PERCEPT_DASK_SCHEDULER``, or a local cluster (whose
    worker processes stop with the client when the cache is cleared or the server stops)."""
    return ClusterClient(open_client(os.environ.get(SCHEDULER_VARIABLE) or None))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_thumbnail(path: str, boxes: tuple[tuple[float, ...], ...]) -> bytes | None:
    try:
        return thumbnail(path, np.array(boxes, dtype=np.float64).reshape(-1, 4))
    except (InputError, OSError):
        return None


def available_models(task: str) -> list[str]:
    return [name for name in task_models(task) if is_available(get_spec(name))]


def start_job(settings: BatchSettings, uploads: list, folder_text: str) -> None:
    """Check everything, save the uploads, and start the run; errors are shown, not raised."""
    try:
        check_model(settings)
        if uploads:
            workspace, input_dir, out_dir = new_workspace()
            save_uploads([(upload.name, upload.getvalue()) for upload in uploads], input_dir)
        else:
            input_dir = server_folder(folder_text)
            workspace, _, out_dir = new_workspace()
        client = cluster().client
    except (InputError, MissingModelError) as error:
        st.error(str(error))
        return
    previous = st.session_state.get(JOB)
    if previous is not None:
        previous.discard()
    job = BatchJob(input_dir, out_dir, settings, workspace)
    st.session_state[JOB] = job
    job.start(client)


@st.fragment(run_every=POLL_S)
def live_progress() -> None:
    """Files done, files per second and errors, redrawn every second until the run ends."""
    job: BatchJob = st.session_state[JOB]
    if not job.running:
        st.rerun()  # the whole page: the results appear
    progress = job.progress
    fraction = progress.done / progress.total if progress.total else 0.0
    st.progress(fraction, text=f"{progress.done} of {progress.total} files")
    done, speed, errors, stop = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    done.metric("Files done", progress.done)
    speed.metric("Files per second", f"{progress.files_per_s:.1f}")
    errors.metric("Errors", progress.errors)
    stop.button("Stop", on_click=job.stop_requested.set, help="Keep what is done so far")


def show_results(job: BatchJob) -> None:
    if job.error:
        st.error(job.error)
        return
    files, rows = job.tables()
    summary = job.summary
    st.success(
        f"{plural(summary.files, 'file')}: {summary.ok} analysed, "
        f"{plural(summary.errors, 'error')}, on {plural(summary.workers, 'worker')} "
        f"in {summary.elapsed_s:.1f} s."
    )
    if job.settings.task == "transcribe":
        show_transcripts(rows)
    else:
        show_labels(job, rows)
    failed = files[files["status"] == "error"]
    if len(failed):
        with st.expander(f"Errors ({len(failed)})"):
            st.dataframe(failed[["path", "error"]], hide_index=True, width="stretch")
    show_downloads(job)


def show_labels(job: BatchJob, rows: pd.DataFrame) -> None:
    """Filter by label and score (on the stored rows: nothing runs again), counts, thumbnails."""
    if rows.empty:
        st.info("Nothing was found in these files.")
        return
    labels = list(class_counts(rows)["label"])
    chosen = st.multiselect("Labels", labels, key=remember("batch_labels", []), placeholder="All")
    lowest = float(job.settings.confidence) if job.settings.task == "detect" else 0.0
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
    if job.settings.task == "detect" and len(top):
        st.subheader("Files with the most detections")
        columns = st.columns(4)
        for index, record in enumerate(top.itertuples(index=False)):
            boxes = shown.loc[shown["path"] == record.path, ["x1", "y1", "x2", "y2"]]
            picture = cached_thumbnail(
                str(job.input_dir / record.path), tuple(map(tuple, boxes.to_numpy()))
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


def show_downloads(job: BatchJob) -> None:
    """The files the command line writes: the two tables and the self-contained report."""
    names = [FILES_TABLE, TASK_TABLES[job.settings.task], REPORT]
    columns = st.columns(len(names))
    for column, name in zip(columns, names, strict=True):
        path = job.out_dir / name
        if path.exists():
            mime = "text/html" if name == REPORT else "application/vnd.apache.parquet"
            column.download_button(
                f"Download {name}", path.read_bytes(), file_name=name, mime=mime, key=f"dl_{name}"
            )


st.title("Batch")
st.caption(
    "Many pictures or recordings at once, analysed on a Dask cluster: each worker loads the "
    "model once, a damaged file becomes an error row, and the results can be filtered without "
    "running anything again."
)
job: BatchJob | None = st.session_state.get(JOB)
running = job is not None and job.running

sources = [UPLOAD, FOLDER] if os.environ.get(ROOT_VARIABLE) else [UPLOAD]
source = UPLOAD
if len(sources) > 1:  # server folders only where the person running the app allows them
    source = st.radio("Files", sources, horizontal=True, key=remember("batch_source", UPLOAD))
uploads, folder_text = [], ""
if source == UPLOAD:
    uploads = st.file_uploader(
        "Drop pictures or sound files here (many at once)",
        accept_multiple_files=True,
        key="batch_uploads",
    )
else:
    root = os.environ[ROOT_VARIABLE]
    folder_text = st.text_input(f"Folder under {root}", key=remember("batch_folder", ""))

task_column, model_column = st.columns(2)
task = task_column.selectbox(
    "Task", list(TASK_LABELS), format_func=TASK_LABELS.get, key=remember("batch_task", "detect")
)
models = available_models(task)
if not models:
    model_column.warning("No model for this task is installed: run `python -m models fetch`.")
    model = None
else:
    preferred = default_model(task)
    default = preferred if preferred in models else models[0]
    model = model_column.selectbox(
        "Model",
        models,
        format_func=lambda name: CATALOG[name].title,
        key=remember(f"batch_model_{task}", default),
    )

has_input = bool(uploads) or bool(folder_text.strip())
if st.button(
    "Run on the cluster", type="primary", disabled=running or not has_input or model is None
):
    start_job(BatchSettings(task, model), uploads, folder_text)
    job = st.session_state.get(JOB)
    running = job is not None and job.running

if job is not None:
    link = dashboard_url(cluster().client) if running else None
    if link:
        st.link_button("Open the Dask dashboard", link)
    if running:
        live_progress()
    else:
        show_results(job)
