"""Benchmark: a long OGG's first picture on the Audio page, in Chromium against a live app.

Uploads a 28-minute 44.1 kHz stereo OGG (Vorbis) and times, from the upload's end (the
uploader naming the file) to the spectrogram's first picture, and to the picture of the whole
file. In the same run it times decoding the whole file alone: before the page read long
files ahead, that was the least the first picture waited. Run by hand:
``python bench/bench_first_picture.py [--file SOME.ogg]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_audio import test_signal  # noqa: E402

TARGET_FIRST_S = 5.0
MINUTES = 28.0


def long_ogg(path: Path) -> Path:
    """A generated 28-minute stereo OGG (encoding it takes ~40 s)."""
    samples = test_signal(MINUTES)
    # In blocks: libsndfile 1.2's Vorbis encoder crashes when given the 28 minutes at once.
    with sf.SoundFile(path, "w", 44100, 2, format="OGG", subtype="VORBIS") as ogg:
        for start in range(0, len(samples), 44100 * 10):
            ogg.write(samples[start : start + 44100 * 10])
    return path


def decode_seconds(path: Path) -> float:
    from analysis.audio.decode import load_audio

    start = time.perf_counter()
    load_audio(path.read_bytes())
    return time.perf_counter() - start


def time_browser(upload: Path, tmp: Path, shots: Path | None) -> tuple[float, float]:
    """Seconds from the upload's end to the first picture, and to the whole file's; with
    ``shots``, a screenshot of each in that folder."""
    from playwright.sync_api import sync_playwright

    from tests.support.live_app import CHROMIUM, CHROMIUM_ARGS, running_app

    with running_app(tmp / "server.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(300_000)
        page.goto(f"{url}/audio")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(upload)
        page.get_by_text(upload.name).first.wait_for()  # the uploader names it: uploaded
        start = time.perf_counter()
        page.locator(".sv-picture").wait_for()
        first = time.perf_counter() - start
        if shots:
            page.screenshot(path=str(shots / "first-picture.png"), full_page=True)
        page.get_by_text("Still reading the file").wait_for(state="detached")
        page.get_by_text(f"over {MINUTES * 60:.2f} s").wait_for()
        whole = time.perf_counter() - start
        if shots:
            page.screenshot(path=str(shots / "whole-file.png"), full_page=True)
        browser.close()
    return first, whole


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, help="a long OGG to use instead of a generated one")
    parser.add_argument("--screenshots", type=Path, help="a folder for the pages' screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        upload = args.file or long_ogg(Path(tmp) / "long.ogg")
        info = sf.info(str(upload))
        print(
            f"upload: {info.duration / 60:.1f} min {info.format} {info.subtype}, "
            f"{upload.stat().st_size / 1e6:.0f} MB"
        )
        first, whole = time_browser(upload, Path(tmp), args.screenshots)
        decoding = decode_seconds(upload)
    print(
        f"first picture {first:.2f} s after the upload (target < {TARGET_FIRST_S:g} s); whole "
        f"file's picture {whole:.2f} s; decoding the whole file alone {decoding:.2f} s (what "
        "the first picture waited for, on top of the page's own run, before reading ahead)"
    )
    return 0 if first < TARGET_FIRST_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
