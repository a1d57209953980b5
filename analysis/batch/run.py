"""Analyse a whole folder of pictures or sounds on a Dask cluster, resumably.

One Dask task per chunk of a few files (a file or two can run in this process instead, with
no cluster to start): a worker process loads the model once
(:class:`~analysis.batch.cluster.ModelPreload`, a worker plugin, fills a per-process cache)
and analyses the files it is given; every file ends as one row of ``files.parquet``, "ok" or
"error" with the message, and its results as rows of the task's table. Results are appended
to ``OUT_DIR/journal.jsonl`` as they arrive, so a run that is interrupted loses nothing: the
next run over the same ``OUT_DIR`` reads them back and only analyses the files not yet done.
At the end the journal is folded into the Parquet tables and ``report.html``.

Its parts: :mod:`~analysis.batch.settings` (what runs on every file),
:mod:`~analysis.batch.worker` (one file's analysis, on a worker), :mod:`~analysis.batch.tables`
(the output folder's manifest, journal and tables) and :mod:`~analysis.batch.report`.

Workers read the files by path: on a cluster spanning several machines, ``INPUT_DIR`` must be
at the same path on each of them (a shared file system), with Percept installed.

Example
-------
>>> from analysis.batch.cluster import connect
>>> with connect(None, workers=2) as client:  # doctest: +SKIP
...     summary = run_batch("photos", "out", BatchSettings("detect", "yolox-nano"), client)
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.batch.evaluation import clear_evaluation, evaluate, write_evaluation
from analysis.batch.report import build_report
from analysis.batch.settings import BatchSettings, OwnModel
from analysis.batch.survey import survey
from analysis.batch.tables import (
    FILES_SCHEMA,
    FILES_TABLE,
    FORMATS,
    JOURNAL,
    REPORT,
    TASK_SCHEMAS,
    TASK_TABLES,
    TRACKS_SCHEMA,
    TRACKS_TABLE,
    Results,
    claim_out_dir,
    read_results,
    skipped_rows,
    write_table,
)
from analysis.batch.truth import GroundTruth, read_ground_truth
from analysis.batch.worker import analyse_file, analyse_files, preload

if TYPE_CHECKING:
    from distributed import Client, Future

CHUNKS_PER_WORKER = 8
MAX_CHUNK = 16
IN_FLIGHT = 4  # chunks submitted per worker at a time
"""Files are sent to the workers in chunks: one task per file would cost Dask's few
milliseconds per task on every file, which is most of a fast detector's time."""

log = logging.getLogger(__name__)


def chunk_size(files: int, workers: int) -> int:
    """Files per task: at least ``CHUNKS_PER_WORKER`` tasks per worker, so the last ones
    balance out, and at most ``MAX_CHUNK`` files, so progress and losses stay small."""
    return max(1, min(MAX_CHUNK, files // (max(1, workers) * CHUNKS_PER_WORKER)))


def chunked(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]


# -- The run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchProgress:
    """How far a run is: ``done`` of ``total`` files this run, ``errors`` among them."""

    total: int
    done: int
    errors: int
    elapsed_s: float

    @property
    def files_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class BatchSummary:
    """The outcome of :func:`run_batch`, over every file of ``OUT_DIR`` (earlier runs too).

    ``files`` = ``ok`` + ``errors`` + ``skipped`` (files the task does not read, each with
    its reason in ``files.parquet``). ``analysed`` files were analysed by this run,
    ``already_done`` by an earlier one; ``outputs`` are the paths written; ``evaluation`` is
    the score against the ground truth when one was given (see
    :func:`analysis.batch.evaluation.evaluate`).
    """

    files: int
    ok: int
    errors: int
    skipped: int
    workers: int
    elapsed_s: float
    analysed: int
    already_done: int
    outputs: list[str] = field(default_factory=list)
    evaluation: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def run_batch(
    input_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    settings: BatchSettings,
    client: Client | None,
    *,
    progress: Callable[[BatchProgress], None] | None = None,
    stop: Callable[[], bool] | None = None,
    own: OwnModel | None = None,
    ground_truth: str | os.PathLike | None = None,
    formats: Sequence[str] = FORMATS,
    send_files: bool = False,
) -> BatchSummary:
    """Analyse every file of ``input_dir`` not yet done in ``out_dir``, on ``client``'s cluster.

    Parameters
    ----------
    input_dir, out_dir : path
        The folder to analyse (recursively), and where the tables and report go.
    settings : BatchSettings
        Task and model; must match those of an earlier run into ``out_dir``.
    client : distributed.Client or None
        A connected client (:func:`analysis.batch.cluster.connect`), or None to analyse the
        files in this process, one after another (for a file or two: no cluster to start).
    progress : callable, optional
        Called with a :class:`BatchProgress` after each file (and once before the first).
    stop : callable, optional
        Polled after each file; when it returns True the remaining files are cancelled and
        what is done is written (a later run resumes).
    own : OwnModel, optional
        The model file ``settings.own_model`` names (sent to every worker).
    ground_truth : path, optional
        Labels to score the detections against: a COCO ``.json``, or a folder of YOLO
        ``.txt`` files (see :func:`analysis.batch.truth.read_ground_truth`); adds
        ``evaluation.json`` and the report's evaluation section.
    formats : sequence of str
        Table formats written: "parquet", "csv" or both.
    send_files : bool
        Send each file's bytes to the workers, for workers on other machines that do not
        share ``input_dir``'s path (default: they read it by path).

    Raises
    ------
    InputError
        If ``input_dir`` is not a folder, ``out_dir`` holds another task's or model's batch,
        or the ground truth cannot be read.
    """
    began = time.perf_counter()
    root, out = Path(input_dir).resolve(), Path(out_dir)
    entries = survey(root, settings.task)
    truth = read_ground_truth(ground_truth, root, entries) if ground_truth else None
    out.mkdir(parents=True, exist_ok=True)
    claim_out_dir(out, root, settings)
    done = set(_ok_paths(read_results(out, settings.task)))
    todo = [(e.path, e.kind) for e in entries if not e.reason and e.path not in done]
    report = progress or (lambda _: None)
    report(BatchProgress(len(todo), 0, 0, 0.0))
    finished = 0
    if todo and client is None:
        preload(settings, own)
        finished = _analyse_here(root, out, settings, todo, began, report, stop)
    elif todo:
        finished = _analyse(client, root, out, settings, own, todo, began, report, stop, send_files)
    results = read_results(out, settings.task).with_skipped(skipped_rows(entries))
    outputs, evaluation = write_outputs(out, root, settings, results, truth, formats)
    counts = results.counts()
    return BatchSummary(
        files=len(results.files),
        ok=counts["ok"],
        errors=counts["error"],
        skipped=counts["skipped"],
        workers=1 if client is None else _worker_count(client),
        elapsed_s=round(time.perf_counter() - began, 3),
        analysed=finished,
        already_done=sum(not e.reason for e in entries) - len(todo),
        outputs=[str(path) for path in outputs],
        evaluation=evaluation,
    )


def _worker_count(client: Client) -> int:
    from analysis.batch.cluster import worker_count

    return worker_count(client)


def _ok_paths(results: Results) -> list[str]:
    return list(results.files.loc[results.files["status"] == "ok", "path"])


def _analyse(
    client: Client,
    root: Path,
    out: Path,
    settings: BatchSettings,
    own: OwnModel | None,
    todo: list[tuple[str, str]],
    began: float,
    report: Callable[[BatchProgress], None],
    stop: Callable[[], bool] | None,
    send_files: bool,
) -> int:
    """Analyse ``todo`` on the cluster (each worker loads the model first), journaling each
    chunk as it ends; files finished.

    At most ``IN_FLIGHT`` chunks per worker are submitted at a time, the next one as each
    ends: files sent as bytes are read only when their turn comes, and stay bounded.
    """
    from distributed import as_completed

    from analysis.batch.cluster import ModelPreload

    client.register_plugin(ModelPreload(settings, own))
    workers = _worker_count(client)
    chunks = iter(chunked(todo, chunk_size(len(todo), workers)))
    chunk_of: dict[str, list[tuple[str, str]]] = {}
    # Futures are dropped as soon as they are journaled: a worker lost later must not take
    # finished results with it (Dask computes again whatever is still referenced).
    pending: dict[str, Future] = {}
    completed = as_completed(raise_errors=False)

    def submit_next() -> None:
        chunk = next(chunks, None)
        if chunk is not None:
            payload = [(*item, _read(root, item[0]) if send_files else None) for item in chunk]
            future = client.submit(analyse_files, str(root), payload, settings, pure=False)
            chunk_of[future.key], pending[future.key] = chunk, future
            completed.add(future)

    for _ in range(IN_FLIGHT * max(1, workers)):
        submit_next()
    errors = finished = 0
    with (out / JOURNAL).open("a", encoding="utf-8") as journal:
        for future in completed:
            del pending[future.key]
            results = _outcome(future, chunk_of.pop(future.key))
            future.release()
            journal.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
            journal.flush()  # on disk before it counts as done: a crash loses nothing
            finished += len(results)
            errors += sum(result["status"] == "error" for result in results)
            report(BatchProgress(len(todo), finished, errors, time.perf_counter() - began))
            if stop is not None and stop():
                client.cancel(list(pending.values()))
                break
            submit_next()
    return finished


def _analyse_here(
    root: Path,
    out: Path,
    settings: BatchSettings,
    todo: list[tuple[str, str]],
    began: float,
    report: Callable[[BatchProgress], None],
    stop: Callable[[], bool] | None,
) -> int:
    """:func:`_analyse` in this process, file after file; files finished."""
    errors = finished = 0
    with (out / JOURNAL).open("a", encoding="utf-8") as journal:
        for relative, kind in todo:
            result = analyse_file(str(root), relative, settings, kind)
            journal.write(json.dumps(result, ensure_ascii=False) + "\n")
            journal.flush()
            finished += 1
            errors += result["status"] == "error"
            report(BatchProgress(len(todo), finished, errors, time.perf_counter() - began))
            if stop is not None and stop():
                break
    return finished


def _read(root: Path, relative: str) -> bytes | None:
    """A file's bytes for a worker that cannot read the folder (None: the worker says why)."""
    try:
        return Path(root, relative).read_bytes()
    except OSError:
        return None


def _outcome(future: Future, chunk: list[tuple[str, str]]) -> list[dict]:
    """The chunk's results, or error rows when its task itself failed: every worker that
    tried it died (Dask gives up after ``distributed.scheduler.allowed-failures`` deaths)."""
    if future.status == "finished":
        return future.result()
    error = future.exception() if future.status == "error" else None
    message = (
        f"The analysis did not finish ({type(error).__name__}: {error})."
        if error is not None
        else "The analysis was cancelled."
    )
    return [
        {"path": relative, "kind": kind, "status": "error", "error": message, "seconds": 0.0}
        for relative, kind in chunk
    ]


def write_outputs(
    out: Path,
    root: Path,
    settings: BatchSettings,
    results: Results,
    truth: GroundTruth | None = None,
    formats: Sequence[str] = FORMATS,
) -> tuple[list[Path], dict | None]:
    """Write the tables, ``evaluation.json`` (with ``truth``) and ``report.html``, then drop
    the journal they now hold; returns the paths written and the evaluation."""
    tables = [(results.files, FILES_SCHEMA, FILES_TABLE)]
    tables.append((results.rows, TASK_SCHEMAS[settings.task], TASK_TABLES[settings.task]))
    if len(results.tracks) or (results.files["kind"] == "video").any():
        tables.append((results.tracks, TRACKS_SCHEMA, TRACKS_TABLE))
    written = [
        path
        for frame, schema, name in tables
        for path in write_table(frame, schema, out / name, formats)
    ]
    evaluation = None
    if truth is not None:
        evaluation = evaluate(results.rows, truth)
        written += write_evaluation(out, evaluation, formats)
    else:
        clear_evaluation(out)  # an earlier run's score is not this one's
    (out / JOURNAL).unlink(missing_ok=True)
    report = out / REPORT
    report.write_text(build_report(root, settings, results, evaluation), encoding="utf-8")
    return [*written, report], None if evaluation is None else evaluation.to_dict()
