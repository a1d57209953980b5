"""``report.html`` of a batch: one self-contained page (inline images, no scripts, no URLs)
that opens from disk in any browser: every file counted (ok, errors, skipped), counts per
class, score histograms, the score against the ground truth, the videos' tracks, the slowest
files, the errors, the skipped files and thumbnails of the files with the most detections.
Files are named relative to the folder analysed: the report never shows a server's paths.

The page is the template ``report.html.jinja`` beside this module, rendered by jinja2 with
autoescape on, so no file name, label or error message can become markup.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from analysis.batch.pictures import report_thumbnail
from analysis.batch.settings import BatchSettings
from analysis.batch.tables import Results, class_counts, per_file_counts
from analysis.errors import InputError
from analysis.wording import plural

TOP_FILES = 12  # thumbnails shown
TABLE_ROWS = 20  # rows in the slowest-files, errors and transcripts tables
HISTOGRAM_LABELS = 6  # most frequent labels whose score histograms are drawn

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_ENVIRONMENT.filters["plural"] = plural  # {{ n | plural("detection") }}: "1 detection"
_TEMPLATE = _ENVIRONMENT.get_template("report.html.jinja")


def top_files(rows: pd.DataFrame, n: int = TOP_FILES) -> pd.DataFrame:
    """The ``n`` files with the most rows (detections), then the most confident."""
    return per_file_counts(rows).head(n)


@dataclass(frozen=True)
class Bar:
    """One bin of a score histogram, in SVG pixels; ``count`` scores fell in it."""

    x: float
    y: float
    width: float
    height: float
    count: int


@dataclass(frozen=True)
class Histogram:
    """A small SVG histogram of one label's ``scores`` scores (20 bins over [0, 1]), px."""

    label: str
    scores: int
    bars: list[Bar]
    width: int = 240
    height: int = 90
    top: int = 16  # below the label
    bottom: int = 76  # the base line, above the 0 and 1 under it


@dataclass(frozen=True)
class Thumbnail:
    """A file with detections: its JPEG thumbnail in base64 (None if it can no longer be
    read), how many detections and the best score."""

    path: str
    jpeg: str | None
    count: int
    best: float


def build_report(
    root: Path, settings: BatchSettings, results: Results, evaluation: object | None = None
) -> str:
    """The HTML text of the report (``report.html.jinja``; every value escaped).

    ``evaluation`` (an :class:`analysis.batch.evaluation.Evaluation`) adds its section.
    """
    files, rows = results.files, results.rows
    counts = class_counts(rows) if "label" in rows and len(rows) else None
    transcripts = None
    if "text" in rows:
        transcripts = rows.head(TABLE_ROWS).assign(text=rows["text"].str.slice(0, 300))
    tally = results.counts()
    errors = files.loc[files["status"] == "error", ["path", "error"]]
    skipped = files.loc[files["status"] == "skipped", ["path", "error"]]
    return _TEMPLATE.render(
        settings=settings,
        folder=root.name,
        summary=", ".join(
            [
                plural(len(files), "file"),
                f"{tally['ok']} analysed",
                plural(tally["error"], "error"),
                f"{tally['skipped']} skipped",
            ]
        ),
        seconds=float(files["seconds"].sum()),
        counts=counts,
        histograms=None if counts is None else _histograms(rows, counts["label"]),
        thumbnails=_thumbnails(root, rows) if settings.task == "detect" else None,
        transcripts=transcripts,
        tracks=results.tracks.head(TABLE_ROWS * 5) if len(results.tracks) else None,
        evaluation=_evaluation_tables(evaluation),
        slowest=files[files["status"] != "skipped"].nlargest(TABLE_ROWS, "seconds")[
            ["path", "status", "seconds"]
        ],
        errors=errors,
        skipped=skipped.rename(columns={"error": "reason"}),
    )


def _evaluation_tables(evaluation: object | None) -> dict | None:
    """The evaluation's numbers and tables as the template shows them."""
    if evaluation is None:
        return None
    matrix = pd.DataFrame(
        evaluation.confusion.astype(int),
        columns=[*evaluation.classes, "(missed)"],
    )
    matrix.insert(0, "labelled \\ detected", [*evaluation.classes, "(false alarm)"])
    per_class = evaluation.per_class.round(3).astype(object)
    per_class = per_class.where(per_class.notna(), "–")  # not measurable: never detected
    return {
        "map50": evaluation.map50,
        "map50_95": evaluation.map50_95,
        "pictures": len(evaluation.truth.paths),
        "source": evaluation.truth.source,
        "note": evaluation.note,
        "per_class": per_class,
        "matrix": matrix,
        "worst": evaluation.per_file.head(TABLE_ROWS),
    }


def _histograms(rows: pd.DataFrame, labels: pd.Series) -> list[Histogram]:
    """Score histograms of the most frequent labels: inline SVG in HTML needs no namespace
    URL, and costs nothing to draw (no plotting library)."""
    charts = []
    for label in labels[:HISTOGRAM_LABELS]:
        scores = rows.loc[rows["label"] == label, "score"].to_numpy()
        counts, _ = np.histogram(scores, bins=20, range=(0.0, 1.0))
        width = Histogram.width / 20
        scale = (Histogram.bottom - Histogram.top) / max(1, counts.max())
        bars = [
            Bar(i * width, Histogram.bottom - n * scale, width - 1, n * scale, int(n))
            for i, n in enumerate(counts)
            if n
        ]
        charts.append(Histogram(label, len(scores), bars))
    return charts


def _thumbnails(root: Path, rows: pd.DataFrame) -> list[Thumbnail]:
    pictures = []
    for record in top_files(rows).itertuples(index=False):
        boxes = rows[rows["path"] == record.path]
        try:
            jpeg = base64.b64encode(report_thumbnail(root / record.path, boxes)).decode("ascii")
        except (InputError, OSError):
            jpeg = None
        pictures.append(Thumbnail(record.path, jpeg, record.count, record.best))
    return pictures
