"""Load test: N browser sessions at once on the Vision page of a live server on 127.0.0.1.

Each session is its own Chromium context (its own Streamlit session). It drops its own
photo under its own file name, waits for the annotated image, then moves the confidence
slider a few times, timing each action until its new annotated image is on screen. After
every action it checks that the page shows its own file name and none of the others'
(no result shown to the wrong session). Prints p50/p95 latency per concurrency level.

    python bench/load_test.py                  # 1 and 10 sessions, 4 slider moves each
    python bench/load_test.py --sessions 1 3 --moves 2

Bounded: every wait has a timeout and the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.live_app import CHROMIUM, CHROMIUM_ARGS, DROP_FILE_JS, drop_file_arg, running_app

PHOTOS = ("astronaut", "chelsea", "coffee")
ACTION_TIMEOUT_MS = 60_000
ANNOTATED_IMAGE = '[data-testid="stImage"] img'


@dataclass
class SessionResult:
    name: str
    upload_ms: float = 0.0
    move_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def make_photos(folder: Path, sessions: int) -> list[Path]:
    """One PNG per session, each a different sample photo under a name of its own."""
    paths = []
    for index in range(sessions):
        # Mirrored, so no upload has the same content as the page's default sample photo.
        rgb = np.ascontiguousarray(getattr(skimage.data, PHOTOS[index % len(PHOTOS)])()[:, ::-1])
        path = folder / f"session-{index:02d}-{PHOTOS[index % len(PHOTOS)]}.png"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


class RunCounter:
    """Counts the app's completed script runs for one page, read off its websocket.

    Streamlit tells the browser ``script_finished`` after every run; counting those messages
    is exact, where watching the page's "running" indicator misses runs that finish quickly.
    """

    DONE = frozenset(
        {
            ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
            ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        }
    )

    def __init__(self, page) -> None:
        self.done = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._count))

    def _count(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg.FromString(payload)
            if (
                message.WhichOneof("type") == "script_finished"
                and message.script_finished in self.DONE
            ):
                self.done += 1

    async def wait_after(self, before: int) -> None:
        """Wait until a run that finished after ``before`` runs had is done."""
        deadline = time.monotonic() + ACTION_TIMEOUT_MS / 1000
        while self.done <= before:
            if time.monotonic() > deadline:
                raise RuntimeError("no script run finished")
            await asyncio.sleep(0.01)


async def check_identity(page, own: Path, others: list[Path], result: SessionResult) -> None:
    text = await page.locator('[data-testid="stMain"]').inner_text()
    if own.name not in text:
        result.errors.append(f"{own.name} is not shown on its own page")
    result.errors += [
        f"{other.name} leaked into {own.name}" for other in others if other.name in text
    ]
    if "Traceback" in text or "went wrong" in text:
        result.errors.append(f"an error is shown on {own.name}'s page")


async def run_session(
    browser, url: str, photo: Path, others: list[Path], moves: int
) -> SessionResult:
    result = SessionResult(photo.name)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        runs = RunCounter(page)
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        await page.goto(f"{url}/vision")
        await page.locator(ANNOTATED_IMAGE).first.wait_for()  # the sample photo's result
        before = runs.done
        start = time.perf_counter()
        await page.evaluate(DROP_FILE_JS, drop_file_arg(photo, "image/png"))
        await runs.wait_after(before)
        await page.get_by_text(photo.name).wait_for()
        result.upload_ms = (time.perf_counter() - start) * 1000
        await check_identity(page, photo, others, result)
        confidence = page.get_by_role("slider", name="Confidence threshold")
        for move in range(moves):
            before = runs.done
            value = await confidence.get_attribute("aria-valuetext")
            start = time.perf_counter()
            await confidence.focus()
            # Alternate down and up so each move shows a different set of boxes.
            await page.keyboard.press("ArrowLeft" if move % 2 == 0 else "ArrowRight")
            try:
                await page.wait_for_function(
                    "old => document.querySelector('input[type=range]').ariaValueText !== old",
                    arg=value,
                    timeout=10_000,
                )
            except PlaywrightTimeout:
                raise RuntimeError(f"the slider did not move from {value}") from None
            await runs.wait_after(before)
            result.move_ms.append((time.perf_counter() - start) * 1000)
            await check_identity(page, photo, others, result)
    except Exception as error:  # a load test reports failures instead of stopping at the first
        step = f"move {len(result.move_ms) + 1}" if result.upload_ms else "upload"
        result.errors.append(
            f"{photo.name}, {step}: {type(error).__name__}: {error}".splitlines()[0]
        )
    finally:
        await context.close()
    return result


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run_level(url: str, photos: list[Path], moves: int) -> list[SessionResult]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(
                *(
                    run_session(browser, url, photo, [p for p in photos if p != photo], moves)
                    for photo in photos
                )
            )
        finally:
            await browser.close()


def report(sessions: int, results: list[SessionResult]) -> dict[str, float]:
    uploads = [r.upload_ms for r in results if r.upload_ms]
    moves = [ms for r in results for ms in r.move_ms]
    errors = [e for r in results for e in r.errors]
    summary = {
        "upload_p50": percentile(uploads, 50),
        "upload_p95": percentile(uploads, 95),
        "move_p50": percentile(moves, 50),
        "move_p95": percentile(moves, 95),
        "errors": len(errors),
    }
    print(
        f"{sessions:>3} session(s): upload p50 {summary['upload_p50']:7.0f} ms  "
        f"p95 {summary['upload_p95']:7.0f} ms | slider p50 {summary['move_p50']:6.0f} ms  "
        f"p95 {summary['move_p95']:6.0f} ms | {len(moves)} moves, {len(errors)} error(s)"
    )
    for error in errors:
        print(f"    ! {error}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--moves", type=int, default=4, help="slider moves per session")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        photos = make_photos(Path(folder), max(args.sessions))
        with running_app(Path(folder) / "server.log") as url:
            summaries = {
                n: report(n, asyncio.run(run_level(url, photos[:n], args.moves)))
                for n in args.sessions
            }
    if len(summaries) > 1:
        low, high = min(summaries), max(summaries)
        ratio = summaries[high]["move_p50"] / summaries[low]["move_p50"]
        print(f"slider p50 with {high} sessions is {ratio:.1f}x that with {low}")
    return 1 if any(s["errors"] for s in summaries.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
