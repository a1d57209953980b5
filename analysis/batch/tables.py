"""What a batch writes into its output folder, and reading it back: the manifest, the journal
of results as they arrive, the Parquet tables, and the counts the page and report show.

``OUT_DIR/batch.json`` says which folder, task and model the results belong to;
``journal.jsonl`` holds one line a file as results arrive, until they are folded into
``files.parquet`` and the task's table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.batch.settings import BatchSettings
from analysis.errors import InputError

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


def write_table(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> Path:
    partial = path.with_name(path.name + ".partial")
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), partial)
    partial.replace(path)  # atomic: a reader never sees half a table
    return path


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
