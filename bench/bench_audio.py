"""Benchmark: the Audio page against the seed recipe, in one run, on this machine.

Both pages run under Streamlit's AppTest: upload the same generated 10-minute 44.1 kHz
stereo WAV, then change the FFT size and time each rerun (a new size every time, so no
cached result is reused). Then the analysis of a 30-minute stereo file runs in a
subprocess whose peak RSS is printed. Run by hand: ``python bench/bench_audio.py``.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the pages import analysis/ and models/ as the app does
FFT_SIZES = [4096, 1024, 8192, 512]  # never the initial 2048: each rerun computes anew
TARGET_RERUN_S = 0.5
TARGET_SPEEDUP = 30.0
TARGET_PEAK_RSS_MB = 1500.0

MEMORY_PROBE = r"""
import re, sys, time
sys.path.insert(0, {root!r})
from analysis.audio.decode import load_audio
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import spectrogram, to_db
from analysis.audio.stft import STFTParams
from analysis.figures import SPECTROGRAM_LAYOUT
start = time.perf_counter()
clip = load_audio({path!r})
columns, rows = SPECTROGRAM_LAYOUT.plot_size
spec = spectrogram(clip.mono(), clip.sample_rate, STFTParams(n_fft=2048), scale="log",
                   max_columns=columns, max_rows=rows)
db, peak = to_db(spec.power, db_range=80)
render_spectrogram(spec, db, db_floor=peak - 80, db_top=peak)
# VmHWM is this process's own peak (ru_maxrss would include the parent's, inherited at fork).
peak_kb = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1))
print(peak_kb / 1024, time.perf_counter() - start)
"""


def test_signal(minutes: float, sample_rate: int = 44100, seed: int = 0) -> np.ndarray:
    """Stereo (frames, 2) float32: a slow sweep, a tone and noise, so every FFT does work."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    sweep = 0.3 * np.sin(2 * np.pi * (200 * t + 5 * t**2 / (2 * minutes)))
    left = (sweep + 0.01 * rng.standard_normal(n)).astype(np.float32)
    right = (0.2 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(n)).astype(np.float32)
    return np.stack([left, right], axis=1)


def wav_bytes(samples: np.ndarray, sample_rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


TAGS_SECONDS: list[float] = []  # time spent in the tags section (another module) per run


def time_tags_section() -> None:
    """Wrap the Audio page's tags section to report its share of each rerun."""
    import ui.sections.tags

    show_tags = ui.sections.tags.show_tags

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return show_tags(*args, **kwargs)
        finally:
            TAGS_SECONDS.append(time.perf_counter() - start)

    ui.sections.tags.show_tags = timed


def time_page(page: str, data: bytes, repetitions: int) -> tuple[float, list[float]]:
    """Seconds for the first render after the upload, and for each FFT-size rerun."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / page), default_timeout=600).run()
    start = time.perf_counter()
    at.file_uploader[0].set_value(("ten-minutes.wav", data, "audio/wav")).run()
    first = time.perf_counter() - start
    assert not at.exception, at.exception
    slider = next(s for s in at.select_slider if "FFT size" in s.label)
    reruns = []
    for n_fft in FFT_SIZES[:repetitions]:
        slider = next(s for s in at.select_slider if "FFT size" in s.label)
        start = time.perf_counter()
        slider.set_value(n_fft).run()
        reruns.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        assert at.get("image") or at.get("imgs"), "no picture after the rerun"
    return first, reruns


# Timed in the page, from the key's keydown to the new picture's load event: Playwright's
# expect() polls at growing intervals (100, 250, 500 ms, then every second), so it may see
# a new picture that much after it came.
WATCH_PICTURE = """picture => {
  window.__keyPressed = window.__pictureLoaded = null;
  document.addEventListener("keydown", () => { window.__keyPressed = performance.now(); },
                            {capture: true, once: true});
  const before = picture.src;
  new MutationObserver((changes, observer) => {
    if (picture.src === before) return;
    observer.disconnect();
    const loaded = () => { window.__pictureLoaded = performance.now(); };
    if (picture.complete) loaded(); else picture.addEventListener("load", loaded, {once: true});
  }).observe(picture, {attributes: true, attributeFilter: ["src"]});
}"""


def time_browser(data: bytes, tmp: Path) -> tuple[float, list[float]]:
    """In Chromium against a live app: seconds from upload to picture, and per control step
    (FFT size, then loudness range) from the key press to the new picture loaded.

    Unlike AppTest (which reruns the whole script), the browser reruns only the spectrogram
    fragment when a control moves: this is the time a person waits.
    """
    from playwright.sync_api import sync_playwright

    from tests.support.live_app import CHROMIUM, CHROMIUM_ARGS, running_app

    upload = tmp / "ten-minutes.wav"
    upload.write_bytes(data)
    picture = ".sv-picture"  # the interactive spectrogram's (in its shadow root)
    changes = []
    with running_app(tmp / "server.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(300_000)
        page.goto(f"{url}/audio")
        start = time.perf_counter()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(upload)
        page.locator(picture).wait_for()
        page.locator(".sv-lane").first.wait_for()  # the waveform lane, sent with the picture
        first = time.perf_counter() - start
        # Let the first run finish (the tags section, after the pictures, ends with a table).
        page.get_by_role("heading", name="What's in this sound").wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        page.wait_for_timeout(1000)
        fft = page.get_by_role("slider", name=re.compile(r"\(FFT size\)"))
        loudness = page.get_by_role("slider", name=re.compile(r"Loudness range"))
        # 2048 → 4096 → 8192 → 16384, then 256 → 512 → 1024: never a size seen before; then
        # the loudness range 80 → 75 → ... → 55 dB, each step a new picture.
        steps = [(fft, key) for key in ("ArrowRight",) * 3 + ("Home",) + ("ArrowRight",) * 2]
        steps += [(loudness, "ArrowLeft")] * 5
        for slider, key in steps:
            slider.focus()
            page.locator(picture).evaluate(WATCH_PICTURE)
            slider.press(key)
            # The load handler keeps the time: polling on every animation frame instead would
            # make Chromium draw 60 frames a second beside the step it times.
            page.wait_for_function("window.__pictureLoaded", polling=50, timeout=300_000)
            pressed, loaded = page.evaluate("[window.__keyPressed, window.__pictureLoaded]")
            changes.append((loaded - pressed) / 1000)
        browser.close()
    return first, changes


def peak_memory(minutes: float) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of decoding + analysing + rendering a stereo file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        with sf.SoundFile(path, "w", 44100, 2, subtype="PCM_16") as out:
            for _ in range(int(minutes)):
                out.write(test_signal(1.0))
        code = MEMORY_PROBE.format(root=str(ROOT), path=str(path))
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
    rss_mb, seconds = map(float, result.stdout.split())
    return rss_mb, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the upload")
    parser.add_argument("--repetitions", type=int, default=4, choices=range(1, 5))
    parser.add_argument("--skip-seed", action="store_true", help="time only the Audio page")
    parser.add_argument("--memory-minutes", type=float, default=30.0)
    parser.add_argument("--skip-memory", action="store_true", help="no 30-minute RSS probe")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="also time the live app in Chromium (fragment reruns)",
    )
    args = parser.parse_args()

    data = wav_bytes(test_signal(args.minutes))
    time_tags_section()
    print(f"upload: {args.minutes:g} min, 44.1 kHz stereo WAV, {len(data) / 1e6:.0f} MB")
    first, reruns = time_page("app_pages/audio.py", data, args.repetitions)
    ours = statistics.median(reruns)
    print(
        f"Audio page: first render {first:.2f} s; FFT-size reruns "
        f"{', '.join(f'{r:.3f}' for r in reruns)} s; median {ours:.3f} s"
    )
    if len(TAGS_SECONDS) > len(reruns):
        tags = statistics.median(TAGS_SECONDS[-len(reruns) :])
        print(f"  of which the tags section (ui/sections/tags.py): median {tags:.3f} s per rerun")
    ok = ours < TARGET_RERUN_S
    if not args.skip_seed:
        seed_first, seed_reruns = time_page("bench/seed_audio_page.py", data, args.repetitions)
        seed = statistics.median(seed_reruns)
        print(
            f"Seed page:  first render {seed_first:.2f} s; FFT-size reruns "
            f"{', '.join(f'{r:.2f}' for r in seed_reruns)} s; median {seed:.2f} s"
        )
        ratio = seed / ours
        print(
            f"speed-up (median rerun): {ratio:.1f}x (target ≥ {TARGET_SPEEDUP:g}x, aim 50x); "
            f"first render {seed_first / first:.1f}x"
        )
        ok &= ratio >= TARGET_SPEEDUP
    print(f"rerun under {TARGET_RERUN_S} s: {'yes' if ours < TARGET_RERUN_S else 'NO'}")
    if args.browser:
        with tempfile.TemporaryDirectory() as tmp:
            first, changes = time_browser(data, Path(tmp))
        p95 = float(np.percentile(changes, 95))
        print(
            f"Live app in Chromium: upload to picture {first:.2f} s; control step (FFT size, "
            f"loudness) to new picture {', '.join(f'{c:.3f}' for c in changes)} s; "
            f"median {statistics.median(changes):.3f} s, p95 {p95:.3f} s "
            f"(target < {TARGET_RERUN_S} s)"
        )
    if args.skip_memory:
        return 0 if ok else 1
    rss, seconds = peak_memory(args.memory_minutes)
    print(
        f"{args.memory_minutes:g}-min stereo analysis in a subprocess: peak RSS {rss:.0f} MB "
        f"(target < {TARGET_PEAK_RSS_MB:g} MB), {seconds:.1f} s"
    )
    ok &= rss < TARGET_PEAK_RSS_MB
    print("targets met" if ok else "TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
