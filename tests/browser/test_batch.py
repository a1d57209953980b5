"""The Batch page in Chromium: drop several files at once, run them, browse the gallery and open
a file in its detail view."""

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


def test_dropped_files_are_analysed_and_a_file_opens_from_the_gallery(page, app_url):
    page.goto(f"{app_url}/batch")
    page.wait_for_selector('[data-testid="stFileUploaderDropzone"]')
    files = [[f"{name}.jpg", "image/jpeg", jpeg_base64(name)] for name in ("astronaut", "coffee")]
    files.append(["damaged.jpg", "image/jpeg", base64.b64encode(b"\xff\xd8\xff\xe0").decode()])
    files.append(["notes.txt", "text/plain", base64.b64encode(b"not a picture").decode()])
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
    page.get_by_text("4 files: 2 analysed, 1 error, 1 skipped,").wait_for(timeout=120_000)
    page.get_by_role("button", name="report.html").wait_for()
    gallery = page.locator('[data-testid="stImage"]')
    gallery.first.wait_for()
    assert gallery.count() == 2  # the two pictures read; the others are named with their reason
    page.get_by_text("skipped: a text file, not a picture or a video", exact=True).wait_for()
    screenshot(page, "batch_gallery")

    opens = page.locator('[data-testid="stButton"] button').filter(has_text="Open")
    assert opens.count() == 4  # one per file, the damaged and the skipped one too
    opens.first.click()  # the file with the most objects: sorted first
    dialog = page.get_by_role("dialog")
    dialog.locator('[data-testid="stImage"]').wait_for()
    dialog.locator('[data-testid="stDataFrame"]').wait_for()
    size = dialog.locator("img").first.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    # The photo with the most objects at full size, not a thumbnail: coffee (cup, table…)
    # with YOLOX-Nano; with only the built-in detectors, the astronaut (her face).
    assert size in ([600, 400], [512, 512])
    screenshot(page, "batch_detail")
