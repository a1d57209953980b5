"""Download a catalog model's files, verify them, and put them where ``models.locate`` looks.

Each file is streamed to ``NAME.part`` beside its destination, checked (size and sha256
when the catalog knows them, then that the file loads), and only then renamed into
place, so an interrupted or corrupt download never shadows a good file.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from models.catalog import ModelFile, ModelSpec
from models.locate import PROJECT_MODELS_DIR, find_file

CHUNK = 1 << 16


class FetchError(RuntimeError):
    """A download failed or its file did not verify; the message says what to do."""


def fetch_dir() -> Path:
    """Where downloads go: ``$PERCEPT_MODELS_DIR`` if set, else the project's ``models/``."""
    env = os.environ.get("PERCEPT_MODELS_DIR")
    return Path(env).expanduser() if env else PROJECT_MODELS_DIR


def _progress_bar(out: TextIO) -> Callable[[str, int, int | None], None]:
    def show(name: str, done: int, total: int | None) -> None:
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            line = f"\r{name} [{bar}] {done / 1e6:6.2f}/{total / 1e6:.2f} MB"
        else:
            line = f"\r{name} {done / 1e6:6.2f} MB"
        out.write(line)
        out.flush()

    return show


def download(
    model_file: ModelFile,
    destination: Path,
    progress: Callable[[str, int, int | None], None] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Stream ``model_file.url`` to ``destination`` via a ``.part`` file, verifying size and hash.

    Raises
    ------
    FetchError
        On a network error, or a size or sha256 that differs from the catalog's.
    """
    part = destination.with_name(destination.name + ".part")
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(model_file.url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else model_file.size
            with part.open("wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(destination.name, done, total)
    except (urllib.error.URLError, OSError, ValueError) as error:
        part.unlink(missing_ok=True)
        if isinstance(error, urllib.error.HTTPError):
            reason = f"HTTP {error.code} {error.reason}"
        else:
            reason = getattr(error, "reason", None) or error
        raise FetchError(
            f"Could not download {destination.name} from {model_file.url}: {reason}. "
            f"Check the connection, or copy the file into {destination.parent} by hand."
        ) from None
    if model_file.size is not None and done != model_file.size:
        part.unlink(missing_ok=True)
        raise FetchError(
            f"{destination.name} has {done} bytes, expected {model_file.size}: "
            "the download is incomplete or the upstream file changed."
        )
    if model_file.sha256 is not None and digest.hexdigest() != model_file.sha256.lower():
        part.unlink(missing_ok=True)
        raise FetchError(
            f"{destination.name} has sha256 {digest.hexdigest()}, expected {model_file.sha256}: "
            "the file is corrupt or not the one the catalog describes."
        )
    return part


def check_loads(spec: ModelSpec, paths: dict[str, Path]) -> None:
    """Raise FetchError unless ``paths`` (role → file) load with the model's runtime."""
    try:
        if spec.format == "onnx" and spec.name == "yunet":
            import cv2
            import numpy as np

            # From a buffer: OpenCV picks the importer by file extension, and ours is ".part".
            model = np.fromfile(paths["model"], dtype=np.uint8)
            cv2.FaceDetectorYN.create("onnx", model, np.zeros(0, np.uint8), (320, 320))
        elif spec.format == "onnx":
            import onnxruntime as ort

            ort.InferenceSession(str(paths["model"]), providers=["CPUExecutionProvider"])
        elif spec.format == "caffe":
            import cv2

            net = cv2.dnn.readNetFromCaffe(str(paths["config"]), str(paths["weights"]))
            if net.empty():
                raise ValueError("empty network")
        elif spec.format == "tflite":
            from ai_edge_litert.interpreter import Interpreter

            for model_file in spec.files:  # BlazePose has two networks, YAMNet one + a CSV
                if model_file.names[0].endswith(".tflite"):
                    Interpreter(model_path=str(paths[model_file.role])).allocate_tensors()
    except ImportError as error:
        raise FetchError(
            f"{spec.name} needs the {spec.runtime} runtime to load, and it is not installed "
            f"({error.name or error}); the downloaded files were not installed."
        ) from None
    except Exception as error:
        raise FetchError(
            f"The downloaded files of {spec.name} do not load ({type(error).__name__}); "
            "they were not installed."
        ) from None


def fetch(spec: ModelSpec, force: bool = False, progress: bool = True) -> dict[str, Path]:
    """Download ``spec``'s missing files into :func:`fetch_dir`; return role → final path.

    Files already found by ``models.locate`` are kept unless ``force``. New files are
    verified (size, sha256, loading) before they replace anything.
    """
    if spec.builtin:
        return {}
    directory = fetch_dir()
    show = _progress_bar(sys.stderr) if progress else None
    final: dict[str, Path] = {}
    parts: dict[str, tuple[Path, Path]] = {}
    try:
        for model_file in spec.files:
            existing = None if force else find_file(model_file)
            if existing is not None:
                final[model_file.role] = existing
                continue
            destination = directory / model_file.names[0]
            part = download(model_file, destination, show)
            if show:
                sys.stderr.write("\n")
            parts[model_file.role] = (part, destination)
            final[model_file.role] = part
        if parts:
            check_loads(spec, final)
    except BaseException:
        for part, _ in parts.values():
            part.unlink(missing_ok=True)
        raise
    for role, (part, destination) in parts.items():
        os.replace(part, destination)
        final[role] = destination
    return final
