"""Batch: many pictures or sounds at once on the Dask cluster, then browse what was found."""

from __future__ import annotations

import os

import streamlit as st

from analysis.batch.run import dashboard_url
from analysis.batch.settings import BatchSettings, default_model
from models.catalog import CATALOG
from ui import jobs
from ui.sections.batch import (
    ROOT_VARIABLE,
    RUN,
    BatchRun,
    available_models,
    cluster,
    failure_sentence,
    start_run,
)
from ui.sections.batch_results import show_results
from ui.state import remember

TASK_LABELS = {
    "detect": "Detect objects in pictures",
    "tags": "Tag the sound events in recordings",
    "transcribe": "Transcribe the speech in recordings",
}
UPLOAD, FOLDER = "Upload files", "A folder on the server"

st.title("Batch")
st.caption(
    "Many pictures or recordings at once, analysed on a Dask cluster: each worker loads the "
    "model once, a damaged file becomes an error row, and the results can be filtered without "
    "running anything again."
)
run: BatchRun | None = st.session_state.get(RUN)
job = None if run is None else run.job()
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
    run = start_run(BatchSettings(task, model), uploads, folder_text) or run
    job = None if run is None else run.job()
    running = job is not None and job.running

if job is not None and running:
    link = dashboard_url(cluster().client)
    if link:
        st.link_button("Open the Dask dashboard", link)
    jobs.show_progress([job], key="batch_stop", stop_help="Keep what is done so far")
elif job is not None and job.failure is not None:
    st.error(failure_sentence(job.failure))
elif job is not None and job.stopped:
    st.info("The batch was stopped before it began.")
elif job is not None:
    show_results(run, job.result)
