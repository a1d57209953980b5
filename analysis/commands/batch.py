"""``python -m analysis batch INPUT_DIR --task detect|tags|transcribe -o OUT_DIR``: a whole
folder on a Dask cluster (a local one by default, or ``--scheduler tcp://HOST:PORT``).

Writes ``files.parquet``, the task's table and ``report.html`` into ``OUT_DIR``; running the
same command again resumes. With ``--json`` it prints one object at the end::

    {"files", "ok", "errors", "workers", "elapsed_s", "analysed", "skipped", "outputs": [...]}
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.commands.options import positive_int
from analysis.errors import InputError
from analysis.vision.detections import DEFAULT_CONFIDENCE

if TYPE_CHECKING:
    from analysis.batch.run import BatchProgress

BAR_WIDTH = 30  # characters


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
    parser.add_argument("--json", action="store_true", help="print one JSON summary at the end")


def run(args: argparse.Namespace) -> int:
    # Dask, pandas and Arrow load only for this command: the others start faster.
    from analysis.batch.run import connect, run_batch
    from analysis.batch.settings import BatchSettings, check_model, default_model

    if args.scheduler and args.workers:
        raise InputError("--workers sizes a local cluster; it cannot be used with --scheduler.")
    settings = BatchSettings(
        args.task, args.model or default_model(args.task), confidence=args.conf, top=args.top
    )
    check_model(settings)
    if not args.input_dir.is_dir():  # before a cluster is started for nothing
        raise InputError(f"{args.input_dir} is not a folder.")
    with connect(args.scheduler, args.workers) as client:
        summary = run_batch(args.input_dir, args.output, settings, client, progress=print_progress)
    print(file=sys.stderr)  # end the progress line
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(
            f"{summary.files} files: {summary.ok} ok, {summary.errors} errors "
            f"({summary.analysed} analysed now, {summary.skipped} already done) on "
            f"{summary.workers} workers in {summary.elapsed_s:.1f} s"
        )
        for output in summary.outputs:
            print(f"  {output}")
    return 0


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
