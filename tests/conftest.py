"""Shared fixtures: model files found like the app finds them, and a live app in Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import MissingModelError, get_spec, resolve_files

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def skip_or_fail(reason: str, required_by: str) -> None:
    """Skip with ``reason``, or fail when the environment variable ``required_by`` is "1" (CI)."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1)")
    pytest.skip(reason)


def require_model(name: str) -> dict[str, Path]:
    """Paths of catalog model ``name``'s files; skips (or fails under PERCEPT_REQUIRE_MODELS=1)."""
    try:
        return resolve_files(get_spec(name))
    except MissingModelError as error:
        skip_or_fail(str(error), "PERCEPT_REQUIRE_MODELS")
        raise  # unreachable: skip_or_fail raises


def require_tool(name: str) -> str:
    """Path of command-line tool ``name`` (espeak-ng, sox); skips (fails in CI) when absent."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed (apt-get install {name})", "PERCEPT_REQUIRE_TOOLS")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free loopback port; yield its base URL."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py",
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
            ],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright; skips (fails in CI) when either is missing."""
    if not Path(CHROMIUM).exists():
        skip_or_fail("Chromium is not installed (apt-get install chromium)", "PERCEPT_REQUIRE_BROWSER")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright is not installed (pip install playwright)", "PERCEPT_REQUIRE_BROWSER")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url: str):  # noqa: ANN001 - playwright types are optional
    """A fresh browser tab (its own Streamlit session) at a desktop size."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"


def drop_file(page, path: Path, mime: str) -> None:  # noqa: ANN001
    """Drop ``path`` onto the first file uploader's drop zone, as a person dragging a file does."""
    data = list(path.read_bytes())
    page.wait_for_selector('[data-testid="stFileUploaderDropzone"]')
    page.evaluate(
        """([name, mime, bytes]) => {
            const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
            for (const type of ['dragenter', 'dragover', 'drop']) {
                zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
            }
        }""",
        [path.name, mime, data],
    )


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    """Save a full-page screenshot under test-artifacts/ (git-ignored) and return its path."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
