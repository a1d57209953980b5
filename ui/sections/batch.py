"""A batch run in a background thread of the app server, so the Batch page stays responsive.

The thread only waits on the Dask cluster (the work is done by the cluster's worker
processes); the page polls the job's progress from a fragment and shows its results once done.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from distributed import Client

from analysis.batch.run import BatchProgress, BatchSummary, run_batch
from analysis.batch.settings import BatchSettings
from analysis.batch.tables import read_results
from analysis.errors import InputError
from models.locate import MissingModelError

log = logging.getLogger(__name__)

SCHEDULER_VARIABLE = "PERCEPT_DASK_SCHEDULER"
"""Set by whoever runs the app to use an existing Dask cluster ("tcp://host:port")."""

ROOT_VARIABLE = "PERCEPT_BATCH_ROOT"
"""Set by whoever runs the app to let visitors name folders under it on the server."""


@dataclass(frozen=True)
class ClusterClient:
    """A Dask client in a box: Streamlit refuses to cache the (awaitable) client itself."""

    client: Client

    def close(self) -> None:
        self.client.close()


@dataclass
class BatchJob:
    """One run of :func:`analysis.batch.run.run_batch`: what it reads, where it writes, how far."""

    input_dir: Path
    out_dir: Path
    settings: BatchSettings
    workspace: Path | None = None  # a temporary folder of ours, deleted with the job
    progress: BatchProgress = field(default_factory=lambda: BatchProgress(0, 0, 0, 0.0))
    summary: BatchSummary | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: threading.Event = field(default_factory=threading.Event)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    _tables: tuple[pd.DataFrame, pd.DataFrame] | None = None

    def start(self, client: Client) -> None:
        threading.Thread(target=self._run, args=(client,), daemon=True).start()

    def _run(self, client: Client) -> None:
        try:
            self.summary = run_batch(
                self.input_dir,
                self.out_dir,
                self.settings,
                client,
                progress=self._update,
                stop=self.stop_requested.is_set,
            )
        except (InputError, MissingModelError) as error:
            self.error = str(error)
        except Exception as error:  # the page must say the run failed, not spin forever
            log.exception("Batch run failed")
            self.error = f"The batch failed ({type(error).__name__}: {error})."
        finally:
            self.finished.set()

    def _update(self, progress: BatchProgress) -> None:
        self.progress = progress

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``files`` and the task's rows, read once from the Parquet files the run wrote."""
        if self._tables is None:
            self._tables = read_results(self.out_dir, self.settings.task)
        return self._tables

    def discard(self) -> None:
        """Delete the uploads and results of a finished job (its workspace)."""
        if self.workspace is not None and not self.running:
            shutil.rmtree(self.workspace, ignore_errors=True)


def workspace() -> tuple[Path, Path, Path]:
    """A new temporary folder and its ``in`` and ``out`` subfolders."""
    root = Path(tempfile.mkdtemp(prefix="percept-batch-"))
    (root / "in").mkdir()
    (root / "out").mkdir()
    return root, root / "in", root / "out"


def save_uploads(files: list[tuple[str, bytes]], folder: Path) -> list[str]:
    """Write uploaded ``(name, data)`` files into ``folder`` under safe, distinct names.

    A name loses any folder part and leading dots (hidden files are not analysed); a name
    already taken gets " (2)", " (3)"… before its extension. Returns the names written.
    """
    written = []
    for name, data in files:
        base = re.sub(r"[\x00-\x1f/\\]", "_", Path(name).name).lstrip(".") or "file"
        stem, suffix = Path(base).stem, Path(base).suffix
        candidate, copy = base, 1
        while (folder / candidate).exists():
            copy += 1
            candidate = f"{stem} ({copy}){suffix}"
        (folder / candidate).write_bytes(data)
        written.append(candidate)
    return written


def server_folder(text: str) -> Path:
    """The folder named ``text`` under the app's batch root (``PERCEPT_BATCH_ROOT``).

    Raises
    ------
    InputError
        If no root is configured, or ``text`` leads outside it or to no folder.
    """
    configured = os.environ.get(ROOT_VARIABLE)
    if not configured:
        raise InputError(
            f"Folders on the server are off: the app was started without {ROOT_VARIABLE}."
        )
    root = Path(configured).resolve()
    folder = (root / text.strip()).resolve()
    if not folder.is_relative_to(root):
        raise InputError(f"Only folders under {root} can be analysed.")
    if not folder.is_dir():
        raise InputError(f"There is no folder {folder}.")
    return folder
