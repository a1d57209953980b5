"""Percept's model catalog and the code that finds or fetches model files."""

from models.catalog import CATALOG, ModelFile, ModelSpec, get_spec
from models.locate import MissingModelError, find_file, model_dirs, resolve_files

__all__ = [
    "CATALOG",
    "MissingModelError",
    "ModelFile",
    "ModelSpec",
    "find_file",
    "get_spec",
    "model_dirs",
    "resolve_files",
]
