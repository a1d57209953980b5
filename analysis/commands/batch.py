"""``python -m analysis batch INPUT_DIR --task detect|tags|transcribe -o OUT_DIR``: a whole
folder on a Dask cluster (a local one by default, or ``--scheduler tcp://HOST:PORT``).

Writes ``files`` (every file of the folder: ok, error with the message, or skipped with the
reason), the task's table (and ``tracks`` for videos with ``--task detect``) as Parquet and/or
CSV (``--format``), and ``report.html`` into ``OUT_DIR``; running the same command again
resumes. ``--ground-truth`` (YOLO labels folder or COCO ``.json``) scores the detections
into ``evaluation.json``. With ``--json`` it prints one object at the end::

    {"files", "ok", "errors", "skipped", "workers", "elapsed_s", "analysed", "already_done",
     "outputs": [...], "evaluation": {"map50", "map50_95", "per_class": {...}, ...} or null}
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.commands.options import positive_int
from analysis.errors import InputError
from analysis.vision.detections import DEFAULT_CONFIDENCE
from analysis.wording import plural

if TYPE_CHECKING:
    from analysis.batch.run import BatchProgress
    from analysis.batch.settings import BatchSettings, OwnModel

BAR_WIDTH = 30  # characters
IN_PROCESS_FILES = 2
"""Up to this many files (and no --workers or --scheduler), a batch runs in the command's own
process, with no cluster: starting a worker process (Python, Dask, onnxruntime: about a second
of CPU) would take longer than the files."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input_dir", type=Path, metavar="INPUT_DIR", help="folder to analyse")
    parser.add_argument(
        "--task", required=True, help="detect (pictures), tags or transcribe (sounds)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT_DIR", help="results folder"
    )
    parser.add_argument(
        "--model", help="catalog model (default: the best available one for the task)"
    )
    parser.add_argument(
        "--model-file", type=Path, metavar="FILE", help="detect: your own .onnx model instead"
    )
    parser.add_argument(
        "--labels", type=Path, metavar="FILE", help="class names of --model-file, one per line"
    )
    parser.add_argument(
        "--ground-truth",
        type=Path,
        metavar="PATH",
        help="detect: score against YOLO .txt labels (a folder) or COCO annotations (.json)",
    )
    parser.add_argument(
        "--format",
        choices=("parquet", "csv", "both"),
        default="both",
        help="tables written (default: both)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="a running Dask scheduler (default: start a local cluster)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="local cluster size (default: one worker per usable core)",
    )
    parser.add_argument(
        "--conf",
        type=float,
        default=DEFAULT_CONFIDENCE,
        help=f"detect: lowest score kept (default {DEFAULT_CONFIDENCE})",
    )
    parser.add_argument(
        "--top", type=positive_int, default=5, help="tags: labels kept per file (default 5)"
    )
    parser.add_argument(
        "--stride",
        type=positive_int,
        default=1,
        help="detect in videos: analyse every Nth frame (default 1)",
    )
    parser.add_argument(
        "--send-files",
        action="store_true",
        help="send each file's bytes to the workers (workers on machines without the folder)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON summary at the end")


def run(args: argparse.Namespace) -> int:
    # Dask, pandas and Arrow load only for this command: the others start faster. The cluster
    # starts first, and its workers load the model while this process imports and surveys.
    from analysis.batch.settings import BatchSettings, check_model, default_model
    from analysis.batch.survey import survey
    from analysis.cores import usable_cores

    if args.scheduler and args.workers:
        raise InputError("--workers sizes a local cluster; it cannot be used with --scheduler.")
    if args.ground_truth and args.task != "detect":
        raise InputError("--ground-truth scores detections: use it with --task detect.")
    own = own_model(args)
    values = {"confidence": args.conf, "top": args.top, "stride": args.stride}
    if own is not None:
        settings = own.settings(**values)
    else:
        settings = BatchSettings(args.task, args.model or default_model(args.task), **values)
    check_model(settings)
    to_read = sum(not entry.reason for entry in survey(args.input_dir, args.task))
    formats = ("parquet", "csv") if args.format == "both" else (args.format,)
    options = {
        "progress": print_progress,
        "own": own,
        "ground_truth": args.ground_truth,
        "formats": formats,
        "send_files": args.send_files,
    }
    if not args.scheduler and not args.workers and to_read <= IN_PROCESS_FILES:
        # Here, with no cluster: a worker process (Python, Dask, onnxruntime) would take longer
        # than the files. The model loads while the tables' libraries import.
        loading = threading.Thread(target=_preload, args=(settings, own), name="model-load")
        loading.start()
        from analysis.batch.run import run_batch

        loading.join()
        summary = run_batch(args.input_dir, args.output, settings, None, **options)
    else:
        from analysis.batch.cluster import ModelPreload, starting

        workers = None  # a running scheduler's workers
        if not args.scheduler:  # no more worker processes than files: each costs its start
            workers = args.workers or min(usable_cores(), to_read)
        with starting(args.scheduler, workers, ModelPreload(settings, own)) as start:
            from analysis.batch.run import run_batch

            summary = run_batch(args.input_dir, args.output, settings, start.client(), **options)
    print(file=sys.stderr)  # end the progress line
    if args.json:
        print(json.dumps(summary.to_dict()))
        return 0
    print(
        f"{plural(summary.files, 'file')}: {summary.ok} ok, {plural(summary.errors, 'error')}, "
        f"{summary.skipped} skipped ({summary.analysed} analysed now, {summary.already_done} "
        f"already done) on {plural(summary.workers, 'worker')} in {summary.elapsed_s:.1f} s"
    )
    if summary.evaluation is not None:
        score = summary.evaluation
        print(f"mAP@50 {score['map50']:.3f}, mAP@50:95 {score['map50_95']:.3f}")
        if score["note"]:
            print(score["note"])
    for output in summary.outputs:
        print(f"  {output}")
    return 0


def _preload(settings: BatchSettings, own: OwnModel | None) -> None:
    from analysis.batch.worker import preload

    try:
        preload(settings, own)
    except Exception:  # run_batch loads it again, and says in one sentence what is wrong
        return


def own_model(args: argparse.Namespace) -> OwnModel | None:
    """The ``--model-file`` (with its ``--labels``), checked here: a model that cannot be
    used is one sentence before any cluster starts."""
    from analysis.batch.settings import OwnModel
    from analysis.vision.layouts import read_labels
    from analysis.vision.own_model import load_model_paths

    if args.model_file is None:
        if args.labels:
            raise InputError("--labels names the classes of a --model-file.")
        return None
    if args.model:
        raise InputError("Give --model or --model-file, not both.")
    if args.task != "detect" or args.model_file.suffix.lower() != ".onnx":
        raise InputError("--model-file runs your own .onnx detector, with --task detect.")
    load_model_paths([args.model_file], args.labels, threads=1)
    labels = read_labels(args.labels.read_bytes(), args.labels.name) if args.labels else ()
    return OwnModel(args.model_file.name, args.model_file.read_bytes(), tuple(labels))


def print_progress(progress: BatchProgress) -> None:
    """Redraw one progress line on stderr (stdout stays clean for ``--json``)."""
    filled = round(BAR_WIDTH * progress.done / progress.total) if progress.total else BAR_WIDTH
    print(
        f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {progress.done}/{progress.total} files"
        f"  {progress.files_per_s:.1f} files/s  {progress.errors} errors",
        end="",
        file=sys.stderr,
        flush=True,
    )
