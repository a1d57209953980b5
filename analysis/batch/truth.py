"""Ground truth for scoring a detector: YOLO ``.txt`` labels or a COCO ``annotations.json``.

YOLO: one ``.txt`` per picture (``class cx cy w h`` per line, normalised to the picture's
size), beside the picture, in a folder mirroring the pictures' folders, or in the
Ultralytics layout (``images/`` ↔ ``labels/``); class names from ``classes.txt``,
``*.names`` or ``data.yaml`` / ``dataset.yaml`` in the labels folder or its parent. A picture
with an empty label file holds no object; a picture with none is not scored.

COCO: ``images`` (``file_name`` relative to the folder, or a name found once in it),
``annotations`` (``bbox`` = x, y, width, height in pixels) and ``categories``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd
from PIL import Image, UnidentifiedImageError

from analysis.errors import InputError

BOX_COLUMNS = ["path", "label", "x1", "y1", "x2", "y2"]
NAME_FILES = ("classes.txt", "obj.names", "data.yaml", "dataset.yaml")
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class GroundTruth:
    """The labelled boxes of the scored pictures.

    Attributes
    ----------
    boxes : pd.DataFrame
        ``path, label, x1, y1, x2, y2``: corners in pixels of the upright picture.
    paths : list of str
        The pictures scored (with labels, possibly none), relative to the folder.
    classes : tuple of str
        Class names in the ground truth's order.
    source : str
        Where it came from, for people ("YOLO labels in labels", "COCO annotations.json").
    """

    boxes: pd.DataFrame
    paths: list[str]
    classes: tuple[str, ...]
    source: str


def read_ground_truth(
    location: str | os.PathLike, root: Path, entries: Sequence[object]
) -> GroundTruth:
    """The ground truth at ``location`` for the pictures among ``entries`` (the survey of
    ``root``): a COCO ``.json`` file, or a folder of YOLO ``.txt`` labels.

    Raises
    ------
    InputError
        If ``location`` is neither, cannot be read, or labels no picture of the folder.
    """
    location = Path(location)
    pictures = [e.path for e in entries if e.kind == "picture" and not e.reason]
    if location.is_file() and location.suffix.lower() == ".json":
        truth = _read_coco(location, pictures)
    elif location.is_dir():
        truth = _read_yolo(location, root, pictures)
    else:
        raise InputError(
            f"{location.name} is neither a COCO .json file nor a folder of YOLO .txt labels."
        )
    if not truth.paths:
        raise InputError(f"The {truth.source} label none of the pictures of the folder.")
    return truth


COCO_NAMES = ("annotations.json", "_annotations.coco.json", "instances.json")


def find_ground_truth(root: Path, depth: int = 3) -> Path | None:
    """Ground truth that came with the pictures: a COCO ``annotations.json``, or else the
    folder of a YOLO class names file (``classes.txt``, ``data.yaml``…), in ``root`` or a
    folder at most ``depth`` levels under it (an unpacked zip); None if there is neither."""
    levels = [[root]]
    for _ in range(depth):
        levels.append(
            [
                c
                for f in levels[-1]
                for c in sorted(f.iterdir())
                if c.is_dir() and not c.is_symlink()
            ]
        )
    folders = [folder for level in levels for folder in level]
    for folder in folders:
        for name in COCO_NAMES:
            if (folder / name).is_file():
                return folder / name
    for folder in folders:
        if any((folder / name).is_file() for name in NAME_FILES) or any(folder.glob("*.names")):
            return folder
    return None


# -- YOLO --------------------------------------------------------------------------------------


def _read_yolo(folder: Path, root: Path, pictures: list[str]) -> GroundTruth:
    names = _class_names(folder)
    rows, scored = [], []
    for picture in pictures:
        label_file = _label_file(folder, root, picture)
        if label_file is None:
            continue
        width, height = _picture_size(root / picture)
        for number, line in enumerate(label_file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rows.append((picture, *_yolo_box(line, names, width, height, label_file, number)))
        scored.append(picture)
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS)
    return GroundTruth(boxes, scored, tuple(names), f"YOLO labels in {folder.name or folder}")


def _label_file(folder: Path, root: Path, picture: str) -> Path | None:
    """The picture's label file: in ``folder`` at the picture's relative path or by its name,
    beside the picture, or in the Ultralytics layout (``images/`` ↔ ``labels/``)."""
    relative = PurePosixPath(picture).with_suffix(".txt")
    parts = relative.parts
    candidates = [folder / relative, root / relative, folder / relative.name]
    if "images" in parts:  # Ultralytics: dataset/images/train/x.jpg ↔ dataset/labels/train/x.txt
        at = len(parts) - 1 - parts[::-1].index("images")
        candidates.append(root.joinpath(*parts[:at], "labels", *parts[at + 1 :]))
    return next((path for path in candidates if path.is_file()), None)


def _yolo_box(
    line: str, names: list[str], width: int, height: int, file: Path, number: int
) -> tuple:
    fields = line.split()
    try:
        class_id, cx, cy, w, h = int(fields[0]), *map(float, fields[1:5])
    except (ValueError, IndexError):
        raise InputError(
            f"Line {number} of {file.name} is not “class cx cy w h”: {line.strip()[:60]}"
        ) from None
    if not 0 <= class_id < len(names):
        raise InputError(
            f"Line {number} of {file.name} names class {class_id}, but the class names file "
            f"lists {len(names)} classes."
        )
    return (
        names[class_id],
        (cx - w / 2) * width,
        (cy - h / 2) * height,
        (cx + w / 2) * width,
        (cy + h / 2) * height,
    )


def _class_names(folder: Path) -> list[str]:
    for place in (folder, folder.parent):
        for path in [*(place / name for name in NAME_FILES), *sorted(place.glob("*.names"))]:
            if path.is_file():
                return _read_names(path)
    raise InputError(
        f"No class names beside the YOLO labels in {folder.name}: add classes.txt (one name "
        "per line, in class order) or a data.yaml with names."
    )


def _read_names(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() not in (".yaml", ".yml"):
        return [line.strip() for line in text.splitlines() if line.strip()]
    import yaml  # a dependency of supervision

    try:
        names = (yaml.safe_load(text) or {}).get("names")
    except (yaml.YAMLError, AttributeError):
        names = None
    if isinstance(names, dict):
        return [str(names[key]) for key in sorted(names)]
    if isinstance(names, list):
        return [str(name) for name in names]
    raise InputError(f"{path.name} has no list of class names (“names:”).")


def _picture_size(path: Path) -> tuple[int, int]:
    """(width, height) of the upright picture, from its header (EXIF rotation applied)."""
    try:
        with Image.open(path) as picture:
            width, height = picture.size
            rotated = picture.getexif().get(0x0112, 1) in _ROTATED
    except (OSError, UnidentifiedImageError):
        return 0, 0  # unreadable: its error row says why; its boxes cannot be placed
    return (height, width) if rotated else (width, height)


# -- COCO --------------------------------------------------------------------------------------


def _read_coco(path: Path, pictures: list[str]) -> GroundTruth:
    try:
        coco = json.loads(path.read_text(encoding="utf-8"))
        categories = {int(c["id"]): str(c["name"]) for c in coco["categories"]}
        images = {int(image["id"]): str(image["file_name"]) for image in coco["images"]}
        annotations = coco.get("annotations", [])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            f"{path.name} is not COCO annotations (images, annotations and categories)."
        ) from None
    by_name: dict[str, list[str]] = {}
    for picture in pictures:
        by_name.setdefault(PurePosixPath(picture).name, []).append(picture)
    found = {}
    for image_id, file_name in images.items():
        if file_name in pictures:
            found[image_id] = file_name
        elif len(by_name.get(PurePosixPath(file_name).name, [])) == 1:
            found[image_id] = by_name[PurePosixPath(file_name).name][0]
    rows = []
    for annotation in annotations:
        picture = found.get(int(annotation.get("image_id", -1)))
        if picture is None or annotation.get("iscrowd", 0):
            continue
        x, y, w, h = map(float, annotation["bbox"])
        rows.append((picture, categories[int(annotation["category_id"])], x, y, x + w, y + h))
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS)
    classes = tuple(categories[key] for key in sorted(categories))
    return GroundTruth(boxes, sorted(set(found.values())), classes, f"COCO {path.name}")
