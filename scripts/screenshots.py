"""Regenerate the README's screenshots (docs/*.png) from the live app in Debian's Chromium.

python scripts/screenshots.py
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
from tests.support.live_app import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

DOCS = PROJECT_ROOT / "docs"


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        running_app(Path(folder) / "server.log") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1250})
        page.set_default_timeout(120_000)

        page.set_viewport_size({"width": 1400, "height": 1900})
        page.goto(f"{url}/audio")
        page.get_by_text("Try a sample").click()
        page.get_by_text("YAMNet hears mostly").wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=DOCS / "audio.png")

        page.set_viewport_size({"width": 1400, "height": 1050})
        page.goto(f"{url}/vision")
        page.get_by_text("detection(s)").wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=DOCS / "vision.png")
        browser.close()


if __name__ == "__main__":
    main()
