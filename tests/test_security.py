"""Security properties that hold for the whole code base."""

import ast
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    PROJECT_ROOT / "app.py",
    *sorted(
        path
        for folder in ("app_pages", "ui", "analysis", "models")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
    ),
]


def calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def test_sources_are_found():
    names = {path.name for path in SOURCES}
    assert {"app.py", "audio.py", "vision.py", "catalog.py"} <= names


def test_no_html_rendering_of_anything():
    # User text (file names, labels from files) must never reach the browser as HTML.
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{call.lineno}"
        for path in SOURCES
        for call in calls(path)
        for keyword in call.keywords
        if keyword.arg == "unsafe_allow_html"
        and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
    ]
    offenders += [
        f"{path.relative_to(PROJECT_ROOT)}:{call.lineno}"
        for path in SOURCES
        for call in calls(path)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "html"
    ]
    assert offenders == []


def test_nothing_is_unpickled():
    offenders = []
    for path in SOURCES:
        source = path.read_text()
        if "import pickle" in source or "joblib" in source or "torch.load" in source:
            offenders.append(str(path))
        for call in calls(path):
            for keyword in call.keywords:
                if keyword.arg == "allow_pickle" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    offenders.append(f"{path}:{call.lineno}")
    assert offenders == []


def test_xsrf_protection_stays_on_and_uploads_are_bounded():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 500
    assert config["client"]["showErrorDetails"] == "none"
