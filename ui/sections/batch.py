"""A batch run as a background job (:mod:`ui.jobs`), so the Batch page stays responsive.

The job's thread only waits on the Dask cluster (the work is done by the cluster's worker
processes); the page polls its progress (files done, files per second, errors) from a
fragment, Stop keeps what is done, and the page shows the results once it ends. Each run is
its own session's: its key holds a new id, so no other session watches or stops it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from distributed import Client

from analysis.batch.cluster import ModelPreload, open_client
from analysis.batch.evaluation import Scores, read_scores
from analysis.batch.roots import batch_roots, resolve_folder
from analysis.batch.run import BatchProgress, BatchSummary, run_batch
from analysis.batch.settings import BatchSettings, OwnModel, check_model, task_models
from analysis.batch.tables import Results, read_results
from analysis.batch.truth import find_ground_truth
from analysis.batch.uploads import save_uploads
from analysis.errors import InputError
from analysis.vision.detectors import is_available
from analysis.vision.layouts import read_labels
from analysis.vision.own_model import load_uploaded_model
from models.catalog import get_spec
from models.locate import MissingModelError
from ui import jobs

SCHEDULER_VARIABLE = "PERCEPT_DASK_SCHEDULER"
"""Set by whoever runs the app to use an existing Dask cluster ("tcp://host:port")."""

RUN = "batch_run"  # session state: this session's latest BatchRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterClient:
    """A Dask client in a box: Streamlit refuses to cache the (awaitable) client itself."""

    client: Client

    def close(self) -> None:
        self.client.close()


@st.cache_resource(show_spinner="Starting the Dask cluster…", on_release=ClusterClient.close)
def cluster() -> ClusterClient:
    """One client for the whole app: on ``PERCEPT_DASK_SCHEDULER``, or a local cluster (whose
    worker processes stop with the client when the cache is cleared or the server stops)."""
    return ClusterClient(open_client(os.environ.get(SCHEDULER_VARIABLE) or None))


_warmed: dict[tuple, threading.Thread] = {}  # (scheduler, task, model) → its warm-up
_warm_lock = threading.Lock()


def warm_up(settings: BatchSettings) -> None:
    """Start the app's cluster and load ``settings``' model on its workers in the background,
    once per model: called as soon as there is something to run, so that Run starts
    analysing at once. Whatever fails here fails again, in words, when Run is pressed."""
    key = (os.environ.get(SCHEDULER_VARIABLE), settings.task, settings.model)
    with _warm_lock:
        if key in _warmed:  # warming, or warm: the cluster is cached, its workers keep models
            return
        thread = threading.Thread(target=_warm, args=(settings,), daemon=True, name="batch-warm")
        _warmed[key] = thread
    thread.start()


def _warm(settings: BatchSettings) -> None:
    try:
        cluster().client.register_plugin(ModelPreload(settings))
    except Exception:  # Run says what went wrong, in one sentence
        log.info("Warming the batch cluster up failed", exc_info=True)


@dataclass
class BatchRun:
    """One run of :func:`analysis.batch.run.run_batch`: what it reads, where it writes, and
    the key of its job (whose result is the run's :class:`BatchSummary`)."""

    input_dir: Path
    out_dir: Path
    settings: BatchSettings
    workspace: Path | None = None  # a temporary folder of ours, deleted with the run
    key: tuple = field(default_factory=lambda: ("batch", uuid.uuid4().hex))
    memo: dict = field(default_factory=dict, repr=False)  # what the views read or derive once

    def job(self) -> jobs.Job | None:
        return jobs.board().get(self.key)

    def tables(self) -> Results:
        """The run's tables, read once from the files it wrote."""
        if "tables" not in self.memo:
            self.memo["tables"] = read_results(self.out_dir, self.settings.task)
        return self.memo["tables"]

    def scores(self) -> Scores | None:
        """The score against the ground truth, when the run had one."""
        if "scores" not in self.memo:
            self.memo["scores"] = read_scores(self.out_dir)
        return self.memo["scores"]

    def discard(self) -> None:
        """Delete the uploads and results of a finished run (its workspace)."""
        job = self.job()
        if self.workspace is not None and (job is None or not job.running):
            shutil.rmtree(self.workspace, ignore_errors=True)


OWN = "own"  # the model list's entry for a model file the person uploads


def own_model_files() -> OwnModel | None:
    """The uploader for the person's own detector (a .onnx and optionally its class names,
    one per line); the model is checked once when uploaded, and a problem is one sentence."""
    uploads = st.file_uploader(
        "Your model: a .onnx detector and optionally its labels (.txt, one class per line)",
        type=["onnx", "txt", "names", "labels"],
        accept_multiple_files=True,
        key="batch_own_model",
    )
    files = {upload.name: upload.getvalue() for upload in uploads or []}
    models = [name for name in files if name.lower().endswith(".onnx")]
    if not files:
        return None
    try:
        if len(models) != 1 or len(files) > 2:
            raise InputError("Give one .onnx model, and at most one labels file.")
        checked = st.session_state.setdefault("_batch_own_checked", {})
        own = OwnModel(models[0], files[models[0]], _labels(files, models[0]))
        if own.digest not in checked:
            load_uploaded_model(files, threads=1)  # its layout recognised, or one sentence
            checked.clear()
            checked[own.digest] = True
        return own
    except InputError as error:
        st.error(str(error))
        return None


def _labels(files: dict[str, bytes], model: str) -> tuple[str, ...]:
    names = [name for name in files if name != model]
    return tuple(read_labels(files[names[0]], names[0])) if names else ()


def available_models(task: str) -> list[str]:
    """The models that can run ``task`` whose files are here, best first."""
    return [name for name in task_models(task) if is_available(get_spec(name))]


def start_run(
    settings: BatchSettings,
    uploads: list,
    folder: tuple[str, Path] | None = None,
    own: OwnModel | None = None,
) -> BatchRun | None:
    """Check everything, save the uploads (or check the server ``folder``: text typed, root),
    and start the run as this session's job; a problem is shown in one sentence (and None
    returned), not raised. Ground truth found with the pictures is scored."""
    workspace = None
    try:
        check_model(settings)
        workspace, input_dir, out_dir = new_workspace()
        if folder is not None:
            input_dir = resolve_folder(folder[0], folder[1], batch_roots())
        else:
            save_uploads([(upload.name, upload.getvalue()) for upload in uploads], input_dir)
        truth = find_ground_truth(input_dir) if settings.task == "detect" else None
        client = cluster().client
    except (InputError, MissingModelError) as error:
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)
        st.error(str(error))
        return None
    previous = st.session_state.get(RUN)
    if previous is not None:
        previous.discard()
    run = BatchRun(input_dir, out_dir, settings, workspace)
    st.session_state[RUN] = run

    def compute(progress: jobs.Progress) -> BatchSummary:
        def report(done: BatchProgress) -> None:
            progress(
                done.done,
                done.total,
                {
                    "Files done": done.done,
                    "Files per second": f"{done.files_per_s:.1f}",
                    "Errors": done.errors,
                },
            )

        return run_batch(
            input_dir,
            out_dir,
            settings,
            client,
            progress=report,
            stop=progress.stop.is_set,
            own=own,
            ground_truth=truth,
            # A cluster of other machines may not see this machine's folders: send the bytes.
            send_files=bool(os.environ.get(SCHEDULER_VARIABLE)),
        )

    jobs.start(run.key, "batch", "Analysing", "files", compute)
    return run


def failure_sentence(error: Exception) -> str:
    """Why a run failed, in one sentence."""
    if isinstance(error, InputError | MissingModelError):
        return str(error)
    return f"The batch failed ({type(error).__name__}: {error})."


def new_workspace() -> tuple[Path, Path, Path]:
    """A new temporary folder and its ``uploads`` (the report's folder name) and ``out``
    subfolders."""
    root = Path(tempfile.mkdtemp(prefix="percept-batch-"))
    (root / "uploads").mkdir()
    (root / "out").mkdir()
    return root, root / "uploads", root / "out"
