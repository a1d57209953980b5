"""Analyse a whole folder of pictures or sounds on a Dask cluster, resumably.

One Dask task per chunk of a few files: a worker process loads the model once
(:class:`ModelPreload`, a worker plugin, fills a per-process cache) and analyses the files it
is given; every file ends as one row of ``files.parquet``, "ok" or "error" with the message,
and its results as rows of the task's table. Results are appended to ``OUT_DIR/journal.jsonl``
as they arrive, so a run that is interrupted loses nothing: the next run over the same
``OUT_DIR`` reads them back and only analyses the files not yet done. At the end the journal
is folded into the Parquet tables and ``report.html``.

Workers read the files by path: on a cluster spanning several machines, ``INPUT_DIR`` must be
at the same path on each of them (a shared file system), with Percept installed.

Example
-------
>>> with connect(None, workers=2) as client:  # doctest: +SKIP
...     summary = run_batch("photos", "out", BatchSettings("detect", "yolox-nano"), client)
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client, Future, WorkerPlugin, as_completed

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind

TASKS = {"detect": "picture", "tags": "sound", "transcribe": "sound"}
"""Each task and the kind of file it reads."""

EXTENSIONS = {
    "picture": {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"},
    "sound": {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".m4a"},
}
"""Names that make an unrecognisable file a candidate anyway: it becomes an "error" row
(a damaged photo is reported, not silently skipped)."""

_TEXT, _NUMBER = pa.string(), pa.float64()
FILES_SCHEMA = pa.schema({"path": _TEXT, "status": _TEXT, "error": _TEXT, "seconds": _NUMBER})
_BOX = {"x1": _NUMBER, "y1": _NUMBER, "x2": _NUMBER, "y2": _NUMBER}  # pixels
TASK_SCHEMAS = {
    "detect": pa.schema({"path": _TEXT, "label": _TEXT, "score": _NUMBER, **_BOX}),
    "tags": pa.schema({"path": _TEXT, "label": _TEXT, "score": _NUMBER}),
    "transcribe": pa.schema({"path": _TEXT, "text": _TEXT}),
}
TASK_TABLES = {
    "detect": "detections.parquet",
    "tags": "tags.parquet",
    "transcribe": "transcripts.parquet",
}
FILES_TABLE = "files.parquet"
REPORT = "report.html"
JOURNAL = "journal.jsonl"
MANIFEST = "batch.json"
CHUNKS_PER_WORKER = 8
MAX_CHUNK = 16
"""Files are sent to the workers in chunks: one task per file would cost Dask's few
milliseconds per task on every file, which is most of a fast detector's time."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchSettings:
    """What to run on every file.

    Attributes
    ----------
    task : str
        "detect" (pictures), "tags" (sounds, YAMNet) or "transcribe" (sounds, Whisper).
    model : str
        Catalog name of the model (see :func:`task_models`).
    confidence : float
        Detections: lowest score kept, in [0, 1]; the Batch page filters above it.
    iou : float
        Detections: NMS IoU threshold in (0, 1].
    top : int
        Tags: labels kept per file (highest mean score over the recording).
    """

    task: str
    model: str
    confidence: float = 0.25
    iou: float = 0.45
    top: int = 5

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"“{self.task}” is not a batch task: choose {', '.join(TASKS)}.")
        if self.model not in task_models(self.task):
            known = ", ".join(task_models(self.task))
            raise InputError(f"“{self.model}” cannot {self.task}: choose one of {known}.")
        if not 0.0 <= self.confidence <= 1.0:
            raise InputError(f"The confidence must be between 0 and 1, not {self.confidence}.")
        if not 0.0 < self.iou <= 1.0:
            raise InputError(f"The IoU threshold must be above 0 and at most 1, not {self.iou}.")
        if self.top < 1:
            raise InputError(f"At least one tag per file must be kept, not {self.top}.")


def task_models(task: str) -> tuple[str, ...]:
    """Catalog names of the models that can run ``task``, best first."""
    if task == "detect":
        from analysis.vision.detectors import PREFERENCE

        return PREFERENCE
    if task == "tags":
        return ("yamnet",)
    from analysis.speech.whisper import WHISPER_MODELS

    return WHISPER_MODELS


def default_model(task: str) -> str:
    """The model ``task`` uses when none is named: the best one whose files are present."""
    if task == "detect":
        from analysis.vision.detectors import best_available

        return best_available()
    if task == "transcribe":
        from analysis.speech.whisper import DEFAULT_MODEL

        return DEFAULT_MODEL
    return task_models(task)[0]


def check_model(settings: BatchSettings) -> None:
    """Raise ``MissingModelError`` (saying how to get it) when the model's files are absent.

    Checked before anything is submitted, on the machine that submits: a missing model is
    one message, not one error row per file.
    """
    from models.catalog import get_spec
    from models.locate import resolve_files

    resolve_files(get_spec(settings.model))


# -- Finding the files -----------------------------------------------------------------------


def find_inputs(folder: str | os.PathLike, task: str) -> list[str]:
    """Files under ``folder`` (recursively) that ``task`` reads, as sorted relative POSIX paths.

    A file is taken when its first bytes say it is of the task's kind (a picture for "detect",
    a sound otherwise), whatever its name; or when they say nothing but its extension is of
    that kind, so a damaged file is reported instead of ignored. Hidden files and folders
    (".name") are skipped, and symbolic links are not followed.

    Raises
    ------
    InputError
        If ``folder`` is not a readable folder.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder.")
    wanted = TASKS[task]
    found = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            path = Path(directory, name)
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            try:
                with path.open("rb") as file:
                    kind = file_kind(file.read(SNIFF_BYTES))
            except OSError:
                kind = None  # unreadable: its extension decides, and reading it will say why
            if kind == wanted or (kind is None and path.suffix.lower() in EXTENSIONS[wanted]):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


# -- On the workers -------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def loaded_model(task: str, model: str) -> object:
    """The model for ``task``, loaded once per process and reused by every file after."""
    if task == "detect":
        from analysis.vision.detectors import load_detector

        return load_detector(model)
    if task == "tags":
        from analysis.audio.tagging import load_yamnet

        return load_yamnet()
    from analysis.speech.whisper import load_whisper

    return load_whisper(model)


class ModelPreload(WorkerPlugin):
    """Dask worker plugin: each worker loads the batch's model when it starts or joins.

    Dask sends the plugin (two names) to every worker once, including workers that join or
    are restarted later; the model itself never travels.
    """

    name = "percept-batch-model"  # registering again replaces the previous batch's plugin

    def __init__(self, task: str, model: str) -> None:
        self.task, self.model = task, model

    def setup(self, worker: object) -> None:
        import cv2

        cv2.setNumThreads(1)  # one file per core: OpenCV must not fan out inside a task
        loaded_model(self.task, self.model)


def _detect_rows(path: Path, detector: object, settings: BatchSettings) -> list[tuple]:
    from analysis.vision.detections import DetectionFilter, filter_detections
    from analysis.vision.image import decode_image

    raw, _ = detector.detect(decode_image(path))
    kept = filter_detections(raw, DetectionFilter(settings.confidence, settings.iou))
    return [
        (label, round(float(score), 4), *(round(float(v), 1) for v in box))
        for label, score, box in zip(kept.labels, kept.scores, kept.boxes, strict=True)
    ]


def _tag_rows(path: Path, yamnet: object, settings: BatchSettings) -> list[tuple]:
    from analysis.audio.decode import load_audio
    from analysis.audio.tagging import tag_audio

    clip = load_audio(path)
    tagging = tag_audio(clip.samples, clip.sample_rate, yamnet)
    return [(tag.label, round(float(tag.score), 4)) for tag in tagging.top(settings.top)]


def _transcript_rows(path: Path, whisper: object, settings: BatchSettings) -> list[tuple]:
    from analysis.audio.decode import load_audio
    from analysis.speech.whisper import transcribe_audio

    clip = load_audio(path)
    return [(transcribe_audio(clip.samples, clip.sample_rate, whisper).text,)]


_ANALYSE = {"detect": _detect_rows, "tags": _tag_rows, "transcribe": _transcript_rows}


def analyse_file(root: str, relative: str, settings: BatchSettings) -> dict:
    """Analyse one file; never raises, so one bad file cannot stop a batch.

    Returns
    -------
    dict
        ``{"path", "status": "ok" | "error", "error", "seconds", "rows"}``: ``rows`` are
        tuples of the task table's columns after ``path``; ``error`` is one sentence.
    """
    start = time.perf_counter()
    try:
        model = loaded_model(settings.task, settings.model)
        rows = _ANALYSE[settings.task](Path(root, relative), model, settings)
        status, error = "ok", ""
    except InputError as problem:
        rows, status, error = [], "error", str(problem)
    except Exception as problem:  # any failure is this file's error row, not the run's end
        log.exception("Analysing %s failed", relative)
        rows, status, error = [], "error", f"{type(problem).__name__}: {problem}"
    seconds = round(time.perf_counter() - start, 4)
    return {"path": relative, "status": status, "error": error, "seconds": seconds, "rows": rows}


def analyse_files(root: str, chunk: list[str], settings: BatchSettings) -> list[dict]:
    """:func:`analyse_file` for each file of ``chunk``: one Dask task for several files."""
    return [analyse_file(root, relative, settings) for relative in chunk]


def chunk_size(files: int, workers: int) -> int:
    """Files per task: at least ``CHUNKS_PER_WORKER`` tasks per worker, so the last ones
    balance out, and at most ``MAX_CHUNK`` files, so progress and losses stay small."""
    return max(1, min(MAX_CHUNK, files // (max(1, workers) * CHUNKS_PER_WORKER)))


def chunked(items: list[str], size: int) -> list[list[str]]:
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

    ``analysed`` files were analysed by this run, ``skipped`` were already done; ``outputs``
    are the paths written.
    """

    files: int
    ok: int
    errors: int
    workers: int
    elapsed_s: float
    analysed: int
    skipped: int
    outputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def open_client(scheduler: str | None = None, workers: int | None = None) -> Client:
    """A Dask ``Client``: on the scheduler at ``scheduler`` ("tcp://host:port"), or else on a
    new ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1 (default: one
    per usable core) that closes with the client.

    Raises
    ------
    InputError
        If the scheduler cannot be reached, or ``workers`` is below 1.
    """
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(
                f"Could not reach the Dask scheduler at {scheduler}: {error}"
            ) from None
    workers = usable_cores() if workers is None else workers
    if workers < 1:
        raise InputError(f"A batch needs at least one worker, not {workers}.")
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_ so freed memory goes back to the system at
    # once; a new picture per file then page-faults anew (+30 % per file with YOLOX-Nano), so
    # our workers keep glibc's adaptive default. OMP_NUM_THREADS=1 stays (see usable_cores).
    environ = dask.config.get("distributed.nanny.pre-spawn-environ")
    environ = {name: value for name, value in environ.items() if name != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        # Processes of one thread each: decoding holds the GIL in places, OpenCV's detectors lock.
        return Client(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # the scheduler's HTTP routes, on loopback too
            silence_logs=logging.ERROR,
        )


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """:func:`open_client`, closed (with its local cluster) on exit."""
    with open_client(scheduler, workers) as client:
        yield client


def dashboard_url(client: Client) -> str | None:
    """The Dask dashboard's address, when the scheduler serves it (it needs Bokeh)."""
    if "dashboard" not in client.scheduler_info(n_workers=0).get("services", {}):
        return None
    if client.cluster is not None:  # ours: it serves the dashboard only if Bokeh is here
        try:
            import bokeh  # noqa: F401
        except ImportError:
            return None
    return client.dashboard_link


def worker_count(client: Client) -> int:
    """Workers connected to ``client``'s scheduler now."""
    return len(client.scheduler_info(n_workers=-1)["workers"])


def run_batch(
    input_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    settings: BatchSettings,
    client: Client,
    *,
    progress: Callable[[BatchProgress], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> BatchSummary:
    """Analyse every file of ``input_dir`` not yet done in ``out_dir``, on ``client``'s cluster.

    Parameters
    ----------
    input_dir, out_dir : path
        The folder to analyse (recursively), and where the tables and report go.
    settings : BatchSettings
        Task and model; must match those of an earlier run into ``out_dir``.
    client : distributed.Client
        A connected client (:func:`connect`).
    progress : callable, optional
        Called with a :class:`BatchProgress` after each file (and once before the first).
    stop : callable, optional
        Polled after each file; when it returns True the remaining files are cancelled and
        what is done is written (a later run resumes).

    Raises
    ------
    InputError
        If ``input_dir`` is not a folder, or ``out_dir`` holds another task's or model's batch.
    """
    began = time.perf_counter()
    root, out = Path(input_dir).resolve(), Path(out_dir)
    todo_all = find_inputs(root, settings.task)
    out.mkdir(parents=True, exist_ok=True)
    claim_out_dir(out, root, settings)
    files, rows = read_results(out, settings.task)
    done = set(files.loc[files["status"] == "ok", "path"])
    todo = [path for path in todo_all if path not in done]
    errors = finished = 0
    report = progress or (lambda _: None)
    report(BatchProgress(len(todo), 0, 0, 0.0))
    if todo:
        client.register_plugin(ModelPreload(settings.task, settings.model))
        chunks = chunked(todo, chunk_size(len(todo), worker_count(client)))
        futures = client.map(
            analyse_files, [str(root)] * len(chunks), chunks, settings=settings, pure=False
        )
        chunk_of = {future.key: chunk for future, chunk in zip(futures, chunks, strict=True)}
        # Futures are dropped as soon as they are journaled: a worker lost later must not take
        # finished results with it (Dask computes again whatever is still referenced).
        pending = {future.key: future for future in futures}
        completed = as_completed(futures, raise_errors=False)
        del futures
        with (out / JOURNAL).open("a", encoding="utf-8") as journal:
            for future in completed:
                del pending[future.key]
                results = _outcome(future, chunk_of[future.key])
                future.release()
                journal.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
                journal.flush()  # on disk before it counts as done: a crash loses nothing
                finished += len(results)
                errors += sum(result["status"] == "error" for result in results)
                report(BatchProgress(len(todo), finished, errors, time.perf_counter() - began))
                if stop is not None and stop():
                    client.cancel(list(pending.values()))
                    break
        files, rows = read_results(out, settings.task)
    outputs = write_outputs(out, root, settings, files, rows)
    n_errors = int((files["status"] == "error").sum())
    return BatchSummary(
        files=len(files),
        ok=len(files) - n_errors,
        errors=n_errors,
        workers=worker_count(client),
        elapsed_s=round(time.perf_counter() - began, 3),
        analysed=finished,
        skipped=len(todo_all) - len(todo),
        outputs=[str(path) for path in outputs],
    )


def _outcome(future: Future, chunk: list[str]) -> list[dict]:
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
        {"path": relative, "status": "error", "error": message, "seconds": 0.0, "rows": []}
        for relative in chunk
    ]


# -- Out dir: manifest, journal, tables --------------------------------------------------------


def claim_out_dir(out: Path, root: Path, settings: BatchSettings) -> None:
    """Record what ``out`` holds, or check that a resumed run is the same batch."""
    manifest = {"input_dir": str(root), **asdict(settings)}
    path = out / MANIFEST
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if previous != manifest:
            raise InputError(
                f"{out} holds another batch ({_describe(previous)}); resume it with the same "
                "folder, task and model, or choose another output folder."
            )
        return
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _describe(manifest: dict | None) -> str:
    if not isinstance(manifest, dict):
        return "an unreadable batch.json"
    return f"{manifest.get('task')} with {manifest.get('model')} over {manifest.get('input_dir')}"


def read_results(out: Path, task: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every file row and task row in ``out``: the tables of earlier runs, then the journal.

    A file analysed again (an error retried) keeps only its latest result. A last journal line
    cut short by a crash is ignored: that file is simply analysed again.
    """
    files = _read_table(out / FILES_TABLE, FILES_SCHEMA)
    rows = _read_table(out / TASK_TABLES[task], TASK_SCHEMAS[task])
    results = list(_journal(out / JOURNAL))
    if not results:
        return files, rows
    latest = {result["path"]: result for result in results}
    new_files = pd.DataFrame(
        [{name: result[name] for name in FILES_SCHEMA.names} for result in latest.values()],
        columns=FILES_SCHEMA.names,
    )
    names = TASK_SCHEMAS[task].names
    new_rows = pd.DataFrame(
        [(path, *row) for path, result in latest.items() for row in result["rows"]], columns=names
    )
    files = _concat(files[~files["path"].isin(latest)], new_files, FILES_SCHEMA)
    rows = _concat(rows[~rows["path"].isin(latest)], new_rows, TASK_SCHEMAS[task])
    return files, rows


def _journal(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as journal:
        for line in journal:
            try:
                yield json.loads(line)
            except ValueError:
                log.warning("Ignoring a partial line of %s (the run was interrupted)", path)


def _read_table(path: Path, schema: pa.Schema) -> pd.DataFrame:
    if not path.exists():
        return _empty(schema)
    return pq.read_table(path, schema=schema).to_pandas()


def _empty(schema: pa.Schema) -> pd.DataFrame:
    return schema.empty_table().to_pandas()


def _concat(old: pd.DataFrame, new: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    table = pa.Table.from_pandas(new, schema=schema, preserve_index=False)
    merged = (
        pd.concat([old, table.to_pandas()], ignore_index=True) if len(old) else table.to_pandas()
    )
    return merged.sort_values("path", kind="stable", ignore_index=True)


def _write_table(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> Path:
    partial = path.with_name(path.name + ".partial")
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), partial)
    partial.replace(path)  # atomic: a reader never sees half a table
    return path


def write_outputs(
    out: Path, root: Path, settings: BatchSettings, files: pd.DataFrame, rows: pd.DataFrame
) -> list[Path]:
    """Write the Parquet tables and ``report.html``, then drop the journal they now hold."""
    from analysis.batch.report import build_report

    written = [
        _write_table(files, FILES_SCHEMA, out / FILES_TABLE),
        _write_table(rows, TASK_SCHEMAS[settings.task], out / TASK_TABLES[settings.task]),
    ]
    (out / JOURNAL).unlink(missing_ok=True)
    report = out / REPORT
    report.write_text(build_report(root, settings, files, rows), encoding="utf-8")
    return [*written, report]


def per_file_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per file: ``count`` of rows and ``best`` score, most rows first (then best score)."""
    if rows.empty or "score" not in rows:
        return pd.DataFrame({"path": [], "count": [], "best": []})
    grouped = rows.groupby("path")["score"].agg(count="size", best="max").reset_index()
    return grouped.sort_values(["count", "best"], ascending=False, ignore_index=True)


def class_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per label: ``rows`` found, ``files`` holding it and their ``mean_score``, most first."""
    if rows.empty or "label" not in rows:
        return pd.DataFrame({"label": [], "rows": [], "files": [], "mean_score": []})
    grouped = rows.groupby("label").agg(
        rows=("path", "size"), files=("path", "nunique"), mean_score=("score", "mean")
    )
    grouped["mean_score"] = np.round(grouped["mean_score"], 3)
    return grouped.sort_values("rows", ascending=False).reset_index()
