"""The Batch page in Chromium: drop several files at once, run them, see the results table."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from analysis.vision.image import sample_photo
from tests.conftest import screenshot

pytestmark = pytest.mark.browser

# Drops several files at once on the first uploader, as a person dragging a selection does.
# Its argument is a list of [name, mime, base64 bytes].
DROP_FILES_JS = """async (files) => {
    const transfer = new DataTransfer();
    for (const [name, mime, base64] of files) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, {type: mime}));
    }
    const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
    const init = {bubbles: true, cancelable: true, dataTransfer: transfer};
    zone.dispatchEvent(new DragEvent('dragenter', init));
    zone.dispatchEvent(new DragEvent('dragover', init));
    await new Promise((resolve) => setTimeout(resolve, 100));  // see tests/support/live_app.py
    zone.dispatchEvent(new DragEvent('drop', init));
}"""


def jpeg_base64(name: str) -> str:
    buffer = io.BytesIO()
    Image.fromarray(sample_photo(name)).save(buffer, format="JPEG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_dropped_files_are_analysed_and_shown_in_a_table(page, app_url):
    page.goto(f"{app_url}/batch")
    page.wait_for_selector('[data-testid="stFileUploaderDropzone"]')
    files = [[f"{name}.jpg", "image/jpeg", jpeg_base64(name)] for name in ("astronaut", "coffee")]
    files.append(["damaged.jpg", "image/jpeg", base64.b64encode(b"\xff\xd8\xff\xe0").decode()])
    page.evaluate(DROP_FILES_JS, files)
    page.get_by_text("damaged.jpg").wait_for()
    run = page.get_by_role("button", name="Run on the cluster")
    run.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "(b) => b.innerText.includes('Run on the cluster') && !b.disabled)"
    )
    run.click()
    # The first run starts the app's Dask cluster (worker processes): allow for it.
    page.get_by_text("3 files: 2 analysed, 1 error,").wait_for(timeout=120_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.get_by_role("button", name="Download report.html").wait_for()
    screenshot(page, "batch_results")
