"""What a batch writes into its output folder, and reading it back: the manifest, the journal
of results as they arrive, the tables (Parquet and CSV), and the counts the page and report
show.

``OUT_DIR/batch.json`` says which folder, task and model the results belong to;
``journal.jsonl`` holds one line a file as results arrive, until they are folded into
``files.parquet`` (every file of the folder: "ok", "error" or "skipped", with the message or
the reason in ``error``), the task's table and, for videos, ``tracks.parquet``; each table
is written as Parquet, CSV or both (``FORMATS``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.batch.settings import BatchSettings
from analysis.errors import InputError

_TEXT, _NUMBER = pa.string(), pa.float64()
FILES_SCHEMA = pa.schema(
    {"path": _TEXT, "kind": _TEXT, "status": _TEXT, "error": _TEXT, "seconds": _NUMBER}
)
STATUSES = ("ok", "error", "skipped")
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
# frame_s and the box: the video's busiest analysed frame (the most objects in view, which its
# thumbnail shows) and where the object is in it; no box for an object out of view then.
TRACKS_SCHEMA = pa.schema(
    {"path": _TEXT, "id": pa.int64(), "label": _TEXT, "first_s": _NUMBER, "last_s": _NUMBER,
     "frames": pa.int64(), "best_score": _NUMBER, "mean_score": _NUMBER, "frame_s": _NUMBER,
     **_BOX}
)  # fmt: skip
TRACKS_TABLE = "tracks.parquet"
FILES_TABLE = "files.parquet"
FORMATS = ("parquet", "csv")
REPORT = "report.html"
JOURNAL = "journal.jsonl"
MANIFEST = "batch.json"

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Results:
    """A batch's tables: ``files`` (one row per file of the folder), the task's ``rows``
    (detections, tags or transcripts) and the videos' ``tracks``."""

    files: pd.DataFrame
    rows: pd.DataFrame
    tracks: pd.DataFrame

    def with_skipped(self, skipped: pd.DataFrame) -> Results:
        """These results with ``skipped`` (files rows) instead of the earlier skipped rows:
        what a file is can change between runs, a file analysed stays analysed."""
        kept = self.files[self.files["status"] != "skipped"]
        fresh = skipped[~skipped["path"].isin(kept["path"])]
        return Results(_concat(kept, fresh, FILES_SCHEMA), self.rows, self.tracks)

    def counts(self) -> dict[str, int]:
        """Files per status, every status named (``{"ok": 3, "error": 1, "skipped": 0}``)."""
        found = self.files["status"].value_counts()
        return {status: int(found.get(status, 0)) for status in STATUSES}


def read_results(out: Path, task: str) -> Results:
    """Every file, task and track row in ``out``: the tables of earlier runs, then the journal.

    A file analysed again (an error retried) keeps only its latest result. A last journal line
    cut short by a crash is ignored: that file is simply analysed again.
    """
    files = read_table(out / FILES_TABLE, FILES_SCHEMA)
    rows = read_table(out / TASK_TABLES[task], TASK_SCHEMAS[task])
    tracks = read_table(out / TRACKS_TABLE, TRACKS_SCHEMA)
    results = list(_journal(out / JOURNAL))
    if not results:
        return Results(files, rows, tracks)
    latest = {result["path"]: result for result in results}
    new_files = pd.DataFrame(
        [{name: result.get(name, "") for name in FILES_SCHEMA.names} for result in latest.values()],
        columns=FILES_SCHEMA.names,
    )
    new_rows, new_tracks = (
        pd.DataFrame(
            [(path, *row) for path, result in latest.items() for row in result.get(key, [])],
            columns=schema.names,
        )
        for key, schema in (("rows", TASK_SCHEMAS[task]), ("tracks", TRACKS_SCHEMA))
    )
    return Results(
        _concat(files[~files["path"].isin(latest)], new_files, FILES_SCHEMA),
        _concat(rows[~rows["path"].isin(latest)], new_rows, TASK_SCHEMAS[task]),
        _concat(tracks[~tracks["path"].isin(latest)], new_tracks, TRACKS_SCHEMA),
    )


def skipped_rows(entries: Sequence[object]) -> pd.DataFrame:
    """``files`` rows of the survey's skipped entries (see :mod:`analysis.batch.survey`)."""
    return pd.DataFrame(
        [(e.path, e.kind, "skipped", e.reason, 0.0) for e in entries if e.reason],
        columns=FILES_SCHEMA.names,
    )


def _journal(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as journal:
        for line in journal:
            try:
                yield json.loads(line)
            except ValueError:
                log.warning("Ignoring a partial line of %s (the run was interrupted)", path)


def read_table(path: Path, schema: pa.Schema) -> pd.DataFrame:
    """The table at ``path`` (Parquet), or its CSV twin when only that was written."""
    if path.exists():
        return pq.read_table(path, schema=schema).to_pandas()
    csv = path.with_suffix(".csv")
    if not csv.exists():
        return _empty(schema)
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    table = pa.Table.from_pandas(frame, preserve_index=False).cast(schema)
    return table.to_pandas()


def _empty(schema: pa.Schema) -> pd.DataFrame:
    return schema.empty_table().to_pandas()


def _concat(old: pd.DataFrame, new: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    table = pa.Table.from_pandas(new, schema=schema, preserve_index=False)
    merged = (
        pd.concat([old, table.to_pandas()], ignore_index=True) if len(old) else table.to_pandas()
    )
    return merged.sort_values("path", kind="stable", ignore_index=True)


def write_table(
    frame: pd.DataFrame, schema: pa.Schema, path: Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write ``frame`` as ``path`` (Parquet) and/or its ``.csv`` twin; returns the paths.

    Each file is written beside and then renamed (atomic: a reader never sees half a table);
    a format not asked for is removed, so the folder never mixes two runs' tables.
    """
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    written = []
    for form, target in (("parquet", path), ("csv", path.with_suffix(".csv"))):
        if form not in formats:
            target.unlink(missing_ok=True)
            continue
        partial = target.with_name(target.name + ".partial")
        if form == "parquet":
            pq.write_table(table, partial)
        else:
            table.to_pandas().to_csv(partial, index=False)
        partial.replace(target)
        written.append(target)
    return written


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
