"""Load test: N browser sessions at once on a live server on 127.0.0.1.

Each session is its own Chromium context (its own Streamlit session); half use the Vision
page, half the Audio page. Each drops its own file under its own name (a photo, or a tone
at its own pitch), waits for the result, then moves a slider a few times (confidence, or
FFT size), timing each action until the app has finished the run it caused. After every
action it checks that the page shows its own file name and none of the others' (no result
shown to the wrong session). Prints p50/p95 latency per concurrency level.

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
from playwright.async_api import async_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.corpus import encoded_audio, tone
from tests.support.live_app import CHROMIUM, CHROMIUM_ARGS, DROP_FILE_JS, drop_file_arg, running_app

PHOTOS = ("astronaut", "chelsea", "coffee")
ACTION_TIMEOUT_MS = 60_000
IMAGE = '[data-testid="stImage"] img'


@dataclass(frozen=True)
class Visit:
    """What one session does: open a page, drop a file on it, move one slider."""

    page: str  # URL path
    file: Path
    mime: str
    slider: str  # the slider's label
    ready: str  # a selector that is on the page once it awaits a drop


@dataclass
class SessionResult:
    page: str
    name: str
    upload_ms: float = 0.0
    move_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def make_visits(folder: Path, sessions: int) -> list[Visit]:
    """Alternately a Vision session with its own photo and an Audio one with its own tone."""
    visits = []
    for index in range(sessions):
        if index % 2 == 0:
            photo = PHOTOS[index // 2 % len(PHOTOS)]
            # Mirrored, so no upload has the same content as the page's default sample photo.
            rgb = np.ascontiguousarray(getattr(skimage.data, photo)()[:, ::-1])
            path = folder / f"session-{index:02d}-{photo}.png"
            cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            visits.append(Visit("vision", path, "image/png", "Confidence threshold", IMAGE))
        else:
            path = folder / f"session-{index:02d}-tone.wav"
            path.write_bytes(encoded_audio(tone(3.0, 22_050, hz=220.0 * index), 22_050, "WAV"))
            visits.append(Visit("audio", path, "audio/wav", "FFT size", "text=Drop a file above"))
    return visits


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


async def run_session(browser, url: str, visit: Visit, others: list[Path], moves: int):
    own = visit.file
    result = SessionResult(visit.page, own.name)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        runs = RunCounter(page)
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        await page.goto(f"{url}/{visit.page}")
        await page.locator(visit.ready).first.wait_for()
        # The uploader's code loads lazily: under load it can come after the page's text.
        await page.get_by_test_id("stFileUploaderDropzone").wait_for()
        before = runs.done
        start = time.perf_counter()
        await page.evaluate(DROP_FILE_JS, drop_file_arg(own, visit.mime))
        await runs.wait_after(before)
        # Both pages name the file being shown in a text element (st.text).
        await page.get_by_test_id("stText").filter(has_text=own.name).wait_for()
        result.upload_ms = (time.perf_counter() - start) * 1000
        await check_identity(page, own, others, result)
        slider = page.get_by_role("slider", name=visit.slider)
        for move in range(moves):
            before = runs.done
            value = await slider.get_attribute("aria-valuetext")
            start = time.perf_counter()
            await slider.focus()
            # Alternate down and up so each move shows a different picture.
            await page.keyboard.press("ArrowLeft" if move % 2 == 0 else "ArrowRight")
            await wait_for_new_value(slider, value)
            await runs.wait_after(before)
            result.move_ms.append((time.perf_counter() - start) * 1000)
            await check_identity(page, own, others, result)
    except Exception as error:  # a load test reports failures instead of stopping at the first
        step = f"move {len(result.move_ms) + 1}" if result.upload_ms else "upload"
        result.errors.append(f"{own.name}, {step}: {type(error).__name__}: {error}".splitlines()[0])
    finally:
        await context.close()
    return result


async def wait_for_new_value(slider, old: str | None, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while await slider.get_attribute("aria-valuetext") == old:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the slider did not move from {old}")
        await asyncio.sleep(0.01)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def run_level(url: str, visits: list[Visit], moves: int) -> list[SessionResult]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(
                *(
                    run_session(browser, url, v, [o.file for o in visits if o != v], moves)
                    for v in visits
                )
            )
        finally:
            await browser.close()


def summarize(results: list[SessionResult]) -> dict[str, float]:
    uploads = [r.upload_ms for r in results if r.upload_ms]
    moves = [ms for r in results for ms in r.move_ms]
    return {
        "upload_p50": percentile(uploads, 50),
        "upload_p95": percentile(uploads, 95),
        "move_p50": percentile(moves, 50),
        "move_p95": percentile(moves, 95),
        "moves": len(moves),
        "errors": sum(len(r.errors) for r in results),
    }


def report(sessions: int, results: list[SessionResult]) -> dict[str, float]:
    """Print p50/p95 latencies, overall and per page, and every error; return the overall."""
    summary = summarize(results)
    groups = [("all", results)] + [
        (page, [r for r in results if r.page == page]) for page in sorted({r.page for r in results})
    ]
    for label, group in groups if len(groups) > 2 else groups[:1]:
        s = summarize(group)
        print(
            f"{sessions:>3} session(s), {label:<6}: upload p50 {s['upload_p50']:6.0f} ms  "
            f"p95 {s['upload_p95']:6.0f} ms | slider p50 {s['move_p50']:5.0f} ms  "
            f"p95 {s['move_p95']:5.0f} ms | {s['moves']} moves, {s['errors']} error(s)"
        )
    for error in (e for r in results for e in r.errors):
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
        visits = make_visits(Path(folder), max(args.sessions))
        with running_app(Path(folder) / "server.log") as url:
            summaries = {
                n: report(n, asyncio.run(run_level(url, visits[:n], args.moves)))
                for n in args.sessions
            }
    if len(summaries) > 1:
        low, high = min(summaries), max(summaries)
        ratio = summaries[high]["move_p50"] / summaries[low]["move_p50"]
        print(f"slider p50 with {high} sessions is {ratio:.1f}x that with {low}")
    return 1 if any(s["errors"] for s in summaries.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
