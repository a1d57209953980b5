"""How good a detector is on labelled pictures, by supervision's metrics (not our own).

mAP@50 and mAP@50:95 (:class:`supervision.metrics.MeanAveragePrecision`), precision and
recall per class at IoU 0.5 (:class:`~supervision.metrics.Precision`,
:class:`~supervision.metrics.Recall`), the confusion matrix
(:class:`supervision.ConfusionMatrix`), and per picture the boxes missed and the false alarms,
so the worst pictures can be looked at first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.batch.tables import FORMATS, read_table, write_table
from analysis.batch.truth import BOX_COLUMNS, GroundTruth

IOU = 0.5  # a detection matches a labelled box of its class at this IoU or more
EVALUATION = "evaluation.json"
EVALUATION_FILES = "evaluation_files.parquet"
TRUTH_TABLE = "truth.parquet"

_NUMBER, _COUNT = pa.float64(), pa.int64()
PER_FILE_SCHEMA = pa.schema(
    {"path": pa.string(), "truths": _COUNT, "detections": _COUNT, "correct": _COUNT,
     "misses": _COUNT, "false_alarms": _COUNT}
)  # fmt: skip
TRUTH_SCHEMA = pa.schema({"path": pa.string(), "label": pa.string(), **{
    name: _NUMBER for name in BOX_COLUMNS[2:]
}})  # fmt: skip


@dataclass(frozen=True)
class Evaluation:
    """A detector's score on the labelled pictures of a batch.

    Attributes
    ----------
    map50, map50_95 : float
        Mean average precision at IoU 0.5, and averaged over IoU 0.5 to 0.95.
    per_class : pd.DataFrame
        ``label, truths, detections, precision, recall, ap50``: precision is NaN for a class
        never detected, recall NaN for a class never labelled (neither can be measured).
    classes : list of str
        The confusion matrix's classes, in order.
    confusion : np.ndarray
        (C + 1, C + 1) counts, rows the labelled class, columns the detected one; the last
        row and column are "nothing" (a false alarm, a miss).
    per_file : pd.DataFrame
        :data:`PER_FILE_SCHEMA`, the most misses and false alarms first.
    truth : GroundTruth
    note : str or None
        Why the score may not mean what it seems (no label in common), if so.
    """

    map50: float
    map50_95: float
    per_class: pd.DataFrame
    classes: list[str]
    confusion: np.ndarray
    per_file: pd.DataFrame
    truth: GroundTruth
    note: str | None = None

    def to_dict(self) -> dict:
        """``evaluation.json``: the scores, per class, the matrix and the worst files."""

        def number(value: float) -> float | None:
            return None if np.isnan(value) else round(float(value), 4)

        per_class = {
            record.label: {
                "truths": int(record.truths),
                "detections": int(record.detections),
                "precision": number(record.precision),
                "recall": number(record.recall),
                "ap50": number(record.ap50),
            }
            for record in self.per_class.itertuples(index=False)
        }
        return {
            "map50": round(self.map50, 4),
            "map50_95": round(self.map50_95, 4),
            "iou": IOU,
            "pictures": len(self.truth.paths),
            "ground_truth": self.truth.source,
            "per_class": per_class,
            "confusion_matrix": {
                "classes": [*self.classes, "(nothing)"],
                "rows_are": "labelled",
                "matrix": self.confusion.astype(int).tolist(),
            },
            "worst_files": self.per_file.head(20).to_dict(orient="records"),
            "note": self.note,
        }


def evaluate(rows: pd.DataFrame, truth: GroundTruth) -> Evaluation:
    """Score the detections ``rows`` (``path, label, score, x1, y1, x2, y2``) against
    ``truth`` on the pictures it labels."""
    import supervision as sv
    from supervision.metrics import MeanAveragePrecision

    detected = rows[rows["path"].isin(truth.paths)]
    classes = [*truth.classes, *sorted(set(detected["label"]) - set(truth.classes))]
    index = {name: i for i, name in enumerate(classes)}
    predictions = _detections(detected, truth.paths, index, scores=True)
    targets = _detections(truth.boxes, truth.paths, index, scores=False)
    mean_ap = MeanAveragePrecision().update(predictions, targets).compute()
    per_class = _per_class(classes, detected, truth.boxes, mean_ap, predictions, targets)
    confusion = sv.ConfusionMatrix.from_detections(
        predictions, targets, classes, conf_threshold=0.0, iou_threshold=IOU
    ).matrix
    files = pd.DataFrame(
        [_file_counts(p, t, len(classes), path)
         for p, t, path in zip(predictions, targets, truth.paths, strict=True)],
        columns=PER_FILE_SCHEMA.names,
    )  # fmt: skip
    files["wrong"] = files["misses"] + files["false_alarms"]
    files = files.sort_values(["wrong", "misses", "path"], ascending=[False, False, True])
    return Evaluation(
        float(mean_ap.map50),
        float(mean_ap.map50_95),
        per_class,
        classes,
        confusion,
        files.drop(columns="wrong").reset_index(drop=True),
        truth,
        _note(detected, truth),
    )


def _detections(
    frame: pd.DataFrame, paths: list[str], index: dict[str, int], scores: bool
) -> list[object]:
    """One ``supervision.Detections`` per path of ``paths``, in order."""
    import supervision as sv

    groups = dict(tuple(frame.groupby("path")))
    found = []
    for path in paths:
        group = groups.get(path, frame.iloc[:0])
        found.append(
            sv.Detections(
                xyxy=group[["x1", "y1", "x2", "y2"]].to_numpy(np.float32).reshape(-1, 4),
                class_id=group["label"].map(index).to_numpy(np.int64),
                confidence=group["score"].to_numpy(np.float32) if scores else None,
            )
        )
    return found


def _per_class(
    classes: list[str],
    detected: pd.DataFrame,
    boxes: pd.DataFrame,
    mean_ap: object,
    predictions: list[object],
    targets: list[object],
) -> pd.DataFrame:
    from supervision.metrics import AveragingMethod, Precision, Recall

    at_50 = {}
    for name, metric in (("precision", Precision), ("recall", Recall)):
        result = metric(averaging_method=AveragingMethod.MACRO).update(predictions, targets)
        result = result.compute()
        values = getattr(result, f"{name}_per_class")[:, 0]  # the first IoU threshold: 0.5
        at_50[name] = dict(zip(result.matched_classes.tolist(), values.tolist(), strict=True))
    ap50 = dict(zip(mean_ap.matched_classes.tolist(), mean_ap.ap_per_class[:, 0], strict=True))
    truths, detections = boxes["label"].value_counts(), detected["label"].value_counts()
    table = []
    for class_id, label in enumerate(classes):
        n_truths, n_detections = int(truths.get(label, 0)), int(detections.get(label, 0))
        table.append(
            (
                label,
                n_truths,
                n_detections,
                at_50["precision"].get(class_id, 0.0) if n_detections else np.nan,
                at_50["recall"].get(class_id, 0.0) if n_truths else np.nan,
                ap50.get(class_id, 0.0) if n_truths else np.nan,
            )
        )
    columns = ["label", "truths", "detections", "precision", "recall", "ap50"]
    return pd.DataFrame(table, columns=columns)


def _file_counts(prediction: object, target: object, classes: int, path: str) -> tuple:
    """One picture's boxes: labelled, detected, correct (right class at IoU ≥ 0.5)."""
    import supervision as sv

    matrix = sv.ConfusionMatrix.evaluate_detection_batch(
        np.column_stack([prediction.xyxy, prediction.class_id, prediction.confidence]),
        np.column_stack([target.xyxy, target.class_id]),
        classes,
        conf_threshold=0.0,
        iou_threshold=IOU,
    )
    correct = int(np.trace(matrix[:classes, :classes]))
    truths, detections = len(target), len(prediction)
    return path, truths, detections, correct, truths - correct, detections - correct


def _note(detected: pd.DataFrame, truth: GroundTruth) -> str | None:
    found, labelled = set(detected["label"]), set(truth.boxes["label"])
    if found and labelled and not found & labelled:
        return (
            f"The detector's labels ({', '.join(sorted(found)[:5])}) and the ground truth's "
            f"({', '.join(sorted(labelled)[:5])}) have no name in common: every detection "
            "counts as wrong. Check the class names file."
        )
    return None


def write_evaluation(
    out: Path, evaluation: Evaluation, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """``evaluation.json``, the per-picture counts and the labelled boxes (for drawing)."""
    path = out / EVALUATION
    path.write_text(json.dumps(evaluation.to_dict(), indent=2), encoding="utf-8")
    return [
        path,
        *write_table(evaluation.per_file, PER_FILE_SCHEMA, out / EVALUATION_FILES, formats),
        *write_table(evaluation.truth.boxes, TRUTH_SCHEMA, out / TRUTH_TABLE, formats),
    ]


def clear_evaluation(out: Path) -> None:
    """Remove the files of :func:`write_evaluation` from ``out``."""
    for name in (EVALUATION, EVALUATION_FILES, TRUTH_TABLE):
        for path in (out / name, (out / name).with_suffix(".csv")):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Scores:
    """What :func:`write_evaluation` wrote, read back: ``summary`` (``evaluation.json``),
    ``per_file`` counts and the labelled boxes ``truth``."""

    summary: dict
    per_file: pd.DataFrame
    truth: pd.DataFrame


def read_scores(out: Path) -> Scores | None:
    """The evaluation of the batch in ``out``, or None when it was not scored."""
    path = out / EVALUATION
    if not path.exists():
        return None
    return Scores(
        json.loads(path.read_text(encoding="utf-8")),
        read_table(out / EVALUATION_FILES, PER_FILE_SCHEMA),
        read_table(out / TRUTH_TABLE, TRUTH_SCHEMA),
    )
