"""Find model files on disk.

Lookup order: ``$PERCEPT_MODELS_DIR``, the project's ``models/`` folder, then
``../shared/models`` beside the project root.
"""

from __future__ import annotations

import os
from pathlib import Path

from models.catalog import ModelFile, ModelSpec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_MODELS_DIR = PROJECT_ROOT / "models"
SHARED_MODELS_DIR = PROJECT_ROOT.parent / "shared" / "models"


class MissingModelError(FileNotFoundError):
    """A model's files are not in any models directory; the message says how to get them."""


class MissingRuntimeError(MissingModelError):
    """A model's runtime package is not installed; handled wherever a missing model is."""


def model_dirs() -> list[Path]:
    """Directories searched for model files, in lookup order."""
    dirs = []
    env = os.environ.get("PERCEPT_MODELS_DIR")
    if env:
        dirs.append(Path(env).expanduser())
    dirs += [PROJECT_MODELS_DIR, SHARED_MODELS_DIR]
    return dirs


def find_file(model_file: ModelFile) -> Path | None:
    """Return the first existing path for ``model_file`` (any of its names), or None."""
    for directory in model_dirs():
        for name in model_file.names:
            path = directory / name
            if path.is_file():
                return path
    return None


def resolve_files(spec: ModelSpec) -> dict[str, Path]:
    """Paths of all files ``spec`` needs, keyed by the file's role.

    Raises
    ------
    MissingModelError
        If any file is missing; the message names the files and how to get them.
    """
    found: dict[str, Path] = {}
    missing: list[ModelFile] = []
    for model_file in spec.files:
        path = find_file(model_file)
        if path is None:
            missing.append(model_file)
        else:
            found[model_file.role] = path
    if missing:
        raise MissingModelError(missing_message(spec, missing))
    return found


def missing_message(spec: ModelSpec, missing: list[ModelFile]) -> str:
    names = ", ".join(f.names[0] for f in missing)
    where = " or ".join(str(d) for d in model_dirs())
    fetch = f"`python -m models fetch {spec.name}`"
    if any(stored_in_parts(f) for f in missing):
        how = f"run `bash ../shared/models/assemble.sh models` in the project folder, or {fetch}"
    else:
        how = f"run {fetch}"
    return f"{spec.title} needs {names}, which is not in {where}. To get it, {how}."


def stored_in_parts(model_file: ModelFile) -> bool:
    """Whether ``../shared/models`` holds the file split in parts (``model.bin.part1``…),
    which its ``assemble.sh`` joins into the project's ``models/`` folder."""
    return any((SHARED_MODELS_DIR / f"{name}.part1").is_file() for name in model_file.names)
