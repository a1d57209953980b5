"""Run the app as a real Streamlit server on loopback, and drive it in Debian's Chromium.

Used by the browser tests (through ``tests/conftest.py``) and by ``bench/load_test.py``.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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


class ServerError(RuntimeError):
    """The Streamlit server did not start; the message holds its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(
    log_path: Path, *options: str, script: str = "app.py", startup_timeout_s: float = 60
) -> Iterator[str]:
    """Start ``streamlit run SCRIPT [options]`` on a free 127.0.0.1 port; yield its base URL."""
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", script,
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                *options,
            ],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"Streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


# Drops a file onto the first file uploader's drop zone, as a person dragging a file does.
# Its argument is [name, mime, base64 bytes] (base64: a JSON list of numbers is slow to pass).
DROP_FILE_JS = """async ([name, mime, base64]) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, {type: mime}));
    const init = {bubbles: true, cancelable: true, dataTransfer: transfer};
    zone.dispatchEvent(new DragEvent('dragenter', init));
    zone.dispatchEvent(new DragEvent('dragover', init));
    // The drop zone handles dragenter asynchronously: a drop in the same tick would be
    // overtaken by it, leaving the zone stuck in its "drag active" look.
    await new Promise((resolve) => setTimeout(resolve, 100));
    zone.dispatchEvent(new DragEvent('drop', init));
}"""


def drop_file_arg(path: Path, mime: str) -> list[str]:
    """The argument of :data:`DROP_FILE_JS` for the file at ``path``."""
    return [path.name, mime, base64.b64encode(path.read_bytes()).decode("ascii")]
