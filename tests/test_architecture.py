"""The rules that keep the code base readable, beyond what import-linter checks (pyproject.toml).

- A page reads like its screen: at most 250 lines; a module at most 450; a function at most 80,
  except where :data:`LONG_FUNCTIONS` says why.
- No module imports another module's ``_private`` name.
- Only ``ui/internals.py`` touches Streamlit's private modules, and each use is pinned by a
  test (tests/app/test_internals.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app_pages", "ui", "analysis", "models")
SOURCES = sorted(
    [PROJECT_ROOT / "app.py"]
    + [path for package in PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py")]
)
MAX_PAGE_LINES = 250
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
# Functions allowed past MAX_FUNCTION_LINES, and why.
LONG_FUNCTIONS: dict[str, str] = {}
# Streamlit's public modules; anything else of Streamlit is private.
PUBLIC_STREAMLIT = {"streamlit", "streamlit.errors", "streamlit.testing.v1"}
INTERNALS = PROJECT_ROOT / "ui" / "internals.py"


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_pages_and_modules_stay_short() -> None:
    too_long = []
    for path in SOURCES:
        limit = MAX_PAGE_LINES if path.parent.name == "app_pages" else MAX_MODULE_LINES
        if (lines := line_count(path)) > limit:
            too_long.append(f"{relative(path)}: {lines} lines (at most {limit})")
    assert not too_long, "\n".join(too_long)


def test_functions_stay_short() -> None:
    too_long = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            lines = node.end_lineno - node.lineno + 1
            name = f"{relative(path)}:{node.name}"
            if lines > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS:
                too_long.append(f"{name}: {lines} lines (at most {MAX_FUNCTION_LINES})")
    assert not too_long, "\n".join(too_long)


def test_long_function_notes_name_real_functions() -> None:
    names = {
        f"{relative(path)}:{node.name}"
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert set(LONG_FUNCTIONS) <= names


def test_no_module_imports_another_modules_private_names() -> None:
    ours = tuple(f"{package}." for package in PACKAGES)
    found = []
    for path in SOURCES:
        for node in imports(path):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(ours):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private and node.module != module_name(path):
                found.append(f"{relative(path)}: {', '.join(private)} from {node.module}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_only_ui_internals_touches_private_streamlit(path: Path) -> None:
    if path == INTERNALS:
        return
    for node in imports(path):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif node.module == "streamlit":  # `from streamlit import runtime` is a module
            names = [f"streamlit.{alias.name}" for alias in node.names]
        else:
            names = [node.module or ""]
        for name in names:
            if name == "streamlit" or name.startswith("streamlit."):
                assert name in PUBLIC_STREAMLIT, f"{relative(path)} imports {name}"
