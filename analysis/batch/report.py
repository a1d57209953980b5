"""``report.html`` of a batch: one self-contained page (inline images, no scripts, no URLs)
that opens from disk in any browser: counts per class, score histograms, the slowest files,
the errors and thumbnails of the files with the most detections."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from analysis.batch.settings import BatchSettings
from analysis.batch.tables import class_counts, per_file_counts
from analysis.errors import InputError
from analysis.vision.image import decode_image

THUMBNAIL_SIDE = 240  # px, longest side of a thumbnail
TOP_FILES = 12  # thumbnails shown
TABLE_ROWS = 20  # rows in the slowest-files, errors and transcripts tables
HISTOGRAM_LABELS = 6  # most frequent labels whose score histograms are drawn
BOX_COLOUR = (255, 64, 32)  # RGB

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
td, th { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0 0.8rem 0.8rem 0; }
figcaption { font-size: 0.85rem; max-width: 240px; overflow-wrap: anywhere; }
"""


def thumbnail(path: str | Path, boxes: np.ndarray | None = None) -> bytes:
    """JPEG bytes of the picture at ``path``, ``THUMBNAIL_SIDE`` px at most, boxes drawn.

    Parameters
    ----------
    path : str or Path
        A picture file.
    boxes : np.ndarray, optional
        (N, 4) ``x1, y1, x2, y2`` in pixels of the original picture.

    Raises
    ------
    InputError
        If the picture cannot be read (see :func:`analysis.vision.image.decode_image`).
    """
    rgb = decode_image(path)
    scale = min(1.0, THUMBNAIL_SIDE / max(rgb.shape[:2]))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small) if scale < 1 else rgb.copy()
    for x1, y1, x2, y2 in (boxes if boxes is not None else np.zeros((0, 4))) * scale:
        cv2.rectangle(small, (round(x1), round(y1)), (round(x2), round(y2)), BOX_COLOUR, 2)
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def top_files(rows: pd.DataFrame, n: int = TOP_FILES) -> pd.DataFrame:
    """The ``n`` files with the most rows (detections), then the most confident."""
    return per_file_counts(rows).head(n)


def build_report(
    root: Path, settings: BatchSettings, files: pd.DataFrame, rows: pd.DataFrame
) -> str:
    """The HTML text of the report (every user-supplied string escaped)."""
    errors = files[files["status"] == "error"]
    seconds = float(files["seconds"].sum())
    parts = [
        f"<h1>Percept batch: {_e(settings.task)} with {_e(settings.model)}</h1>",
        f"<p>Folder {_e(root)}: {len(files)} files, {len(files) - len(errors)} analysed, "
        f"{len(errors)} errors; {seconds:.1f} s of analysis in total.</p>",
    ]
    if "label" in rows:
        counts = class_counts(rows)
        parts += ["<h2>Counts per class</h2>", _table(counts)]
        parts += ["<h2>Score histograms</h2>", _histograms(rows, counts["label"])]
    if settings.task == "detect":
        parts += ["<h2>Files with the most detections</h2>", _thumbnails(root, rows)]
    if "text" in rows:
        transcripts = rows.head(TABLE_ROWS).assign(text=rows["text"].str.slice(0, 300))
        parts += ["<h2>Transcripts</h2>", _table(transcripts)]
    slowest = files.nlargest(TABLE_ROWS, "seconds")[["path", "status", "seconds"]]
    parts += ["<h2>Slowest files</h2>", _table(slowest)]
    parts += [
        "<h2>Errors</h2>",
        _table(errors[["path", "error"]]) if len(errors) else "<p>None.</p>",
    ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Percept batch report</title><style>{STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{_e(name)}</th>" for name in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{value:g}</td>'
            if isinstance(value, int | float)
            else f"<td>{_e(value)}</td>"
            for value in record
        )
        + "</tr>"
        for record in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(data: bytes, mime: str, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:{mime};base64,{encoded}" alt="{_e(alt)}">'


def _histograms(rows: pd.DataFrame, labels: pd.Series) -> str:
    """A small inline SVG histogram of scores (20 bins over [0, 1]) per frequent label."""
    return "".join(
        _histogram_svg(rows.loc[rows["label"] == label, "score"].to_numpy(), label)
        for label in labels[:HISTOGRAM_LABELS]
    )


def _histogram_svg(scores: np.ndarray, label: str, width: int = 240, height: int = 90) -> str:
    """Bars of ``scores``' counts in 20 bins over [0, 1], the label above, 0 and 1 below.

    Inline SVG in HTML needs no namespace URL, and costs nothing to draw (no plotting library).
    """
    counts, _ = np.histogram(scores, bins=20, range=(0.0, 1.0))
    top, bottom, bar = 16, height - 14, width / 20
    scale = (bottom - top) / max(1, counts.max())
    bars = "".join(
        f'<rect x="{i * bar:.1f}" y="{bottom - n * scale:.1f}" width="{bar - 1:.1f}" '
        f'height="{n * scale:.1f}" fill="#4063d8"><title>{n}</title></rect>'
        for i, n in enumerate(counts)
        if n
    )
    return (
        f'<svg width="{width}" height="{height}" role="img" style="margin-right:1rem">'
        f'<text x="0" y="11" font-size="12">{_e(label)} ({len(scores)})</text>{bars}'
        f'<line x1="0" y1="{bottom}" x2="{width}" y2="{bottom}" stroke="#888"/>'
        f'<text x="0" y="{height - 2}" font-size="10">0</text>'
        f'<text x="{width - 7}" y="{height - 2}" font-size="10">1</text></svg>'
    )


def _thumbnails(root: Path, rows: pd.DataFrame) -> str:
    figures = []
    for record in top_files(rows).itertuples(index=False):
        boxes = rows.loc[rows["path"] == record.path, ["x1", "y1", "x2", "y2"]].to_numpy()
        try:
            picture = _image(thumbnail(root / record.path, boxes), "image/jpeg", record.path)
        except (InputError, OSError):
            picture = "<p>(the file can no longer be read)</p>"
        caption = f"{_e(record.path)}: {record.count} detections, best {record.best:.2f}"
        figures.append(f"<figure>{picture}<figcaption>{caption}</figcaption></figure>")
    return "".join(figures) or "<p>No detections.</p>"
