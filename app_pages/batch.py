"""Batch: many pictures or sounds at once on the Dask cluster, then browse what was found."""

from __future__ import annotations

import streamlit as st

from analysis.batch.cluster import dashboard_url
from analysis.batch.roots import ENABLE_HINT, batch_roots, subfolders
from analysis.batch.settings import BatchSettings, default_model
from models.catalog import CATALOG
from ui import jobs
from ui.sections.batch import (
    OWN,
    RUN,
    BatchRun,
    available_models,
    cluster,
    failure_sentence,
    own_model_files,
    start_run,
    warm_up,
)
from ui.sections.batch_results import show_results
from ui.state import remember

TASK_LABELS = {
    "detect": "Detect objects in pictures and videos",
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

roots = batch_roots()
source = UPLOAD
if roots:  # server folders only where the person running the app allows them
    source = st.radio(
        "Files", [UPLOAD, FOLDER], horizontal=True, key=remember("batch_source", UPLOAD)
    )
uploads, folder = [], None
if source == UPLOAD:
    uploads = st.file_uploader(
        "Drop pictures, videos or sound files here (many at once), or a .zip of a folder",
        accept_multiple_files=True,
        key="batch_uploads",
    )
    st.caption(
        "Labelled pictures are scored: add their YOLO .txt labels and classes.txt, or a COCO "
        "annotations.json (a .zip keeps the folders)." + ("" if roots else " " + ENABLE_HINT)
    )
else:
    root_column, folder_column = st.columns([1, 2])
    root = root_column.selectbox(
        "Root", roots, format_func=str, key=remember("batch_root", roots[0])
    )
    choice = folder_column.selectbox(
        "Folder", [".", *subfolders(root)], key=remember("batch_folder", ".")
    )
    typed = st.text_input("…or type a folder's path", key=remember("batch_folder_typed", ""))
    folder = (typed.strip() or choice, root)

task_column, model_column = st.columns(2)
task = task_column.selectbox(
    "Task", list(TASK_LABELS), format_func=TASK_LABELS.get, key=remember("batch_task", "detect")
)
models = available_models(task) + ([OWN] if task == "detect" else [])
if not models:
    model_column.warning("No model for this task is installed: run `python -m models fetch`.")
    model = None
else:
    preferred = default_model(task)
    default = preferred if preferred in models else models[0]
    model = model_column.selectbox(
        "Model",
        models,
        format_func=lambda name: "Your own model file…" if name == OWN else CATALOG[name].title,
        key=remember(f"batch_model_{task}", default),
    )
own = own_model_files() if model == OWN else None
confidence, stride = 0.25, 1
if task == "detect":
    with st.popover("Detection settings"):
        confidence = st.slider(
            "Lowest score kept",
            0.05,
            0.95,
            value=0.25,
            key=remember("batch_confidence", 0.25),
            step=0.05,
        )
        stride = st.number_input(
            "Videos: analyse every Nth frame", 1, 60, key=remember("batch_stride", 1)
        )
values = {"confidence": confidence, "stride": int(stride)}

has_input = bool(uploads) or folder is not None
ready = model is not None and (model != OWN or own is not None)
if has_input and model not in (None, OWN) and not running:
    warm_up(BatchSettings(task, model))  # the cluster and model, ready before Run is pressed
if st.button("Run on the cluster", type="primary", disabled=running or not has_input or not ready):
    settings = own.settings(**values) if own else BatchSettings(task, model, **values)
    run = start_run(settings, uploads, folder, own) or run
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
