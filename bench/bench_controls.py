"""Benchmark: every Audio-page control on a 30-minute stereo file, one change at a time.

Issue 8: one step of the hop slider on a 28-minute file froze the page for 81 s. Target: on
a 30-minute 44.1 kHz stereo file every single control change, at any combination of
values, finishes in under 1.5 s, and the common ones (FFT size, scale, colours, dB range)
in under 0.5 s.

The page runs under Streamlit's AppTest: upload a generated FLAC (noise and tones), then
move each control to its extreme values, one at a time, then combinations (hop 32 with FFT
16384...) and time-range changes under them. Each ``run()`` is timed. AppTest reruns the
whole page where a browser reruns only the spectrogram's fragment, so these times are an
upper bound; the table also shows the time spent computing the spectrogram itself and in
the sections below it (sound-event tags, speech), and the CPU time of each run: on a busy
machine the wall time grows with the load, the CPU time much less. ``--passes N`` repeats
everything on N fresh files and keeps each change's fastest run. Run by hand:
``python bench/bench_controls.py --passes 2`` (about 3 minutes a pass; ``--stub-sections``
leaves the tags and speech sections out).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the page imports analysis/, ui/ and models/ as the app does
SAMPLE_RATE = 44100
TARGET_S = 1.5  # any control change
TARGET_COMMON_S = 0.5  # FFT size, scale, colours, dB range
COMMON = ("FFT size", "Frequency scale", "Colours", "Loudness range")


@dataclass(frozen=True)
class Step:
    """One control change: the widget kind and label (a substring), and its new value."""

    kind: str
    label: str
    value: object
    timed: bool = True  # False: a setup step of a combination, not reported

    @property
    def name(self) -> str:
        return f"{self.label} = {self.value}"

    @property
    def common(self) -> bool:
        return any(word in self.label for word in COMMON)


def fft(value):
    return Step("select_slider", "FFT size", value)


def hop(value, timed=True):
    return Step("select_slider", "Hop length", value, timed)


def win(value, timed=True):
    return Step("select_slider", "Window length", value, timed)


def scale(value, timed=True):
    return Step("radio", "Frequency scale", value, timed)


def time_range(start_s: float, end_s: float):
    """A range in seconds of a 30-minute file (scaled to the length of a shorter one)."""
    return Step("slider", "Time range", (start_s, end_s))


def setup(step: Step) -> Step:
    return Step(step.kind, step.label, step.value, timed=False)


STEPS = [
    # Every control alone, from the defaults, to its extremes and back.
    fft(256),
    fft(16384),
    fft(2048),
    scale("linear"),
    scale("mel"),
    Step("slider", "Mel bands", 16),
    Step("slider", "Mel bands", 256),
    scale("log"),
    Step("slider", "Loudness range", 20),
    Step("slider", "Loudness range", 140),
    Step("selectbox", "Colours", "viridis"),
    Step("selectbox", "Colours", "gray_r"),
    hop(32),
    hop(4096),
    hop("auto"),
    win(128),
    win(8192),
    win("= FFT size"),
    Step("selectbox", "Window shape", "rectangular"),
    Step("selectbox", "Window shape", "blackman-harris"),
    Step("selectbox", "0 dB means", "peak"),
    Step("selectbox", "0 dB means", "full scale"),
    Step("selectbox", "Channel", 0),
    Step("selectbox", "Channel", 1),
    Step("selectbox", "Channel", None),
    time_range(600.0, 900.0),
    time_range(100.0, 100.5),
    time_range(0.0, 1800.0),
    # Combinations: the worst settings, then every common control and the range under them.
    setup(fft(16384)),
    hop(32),
    time_range(300.0, 1500.0),
    time_range(0.0, 1800.0),
    scale("mel"),
    Step("slider", "Mel bands", 64),
    scale("linear"),
    Step("selectbox", "Colours", "turbo"),
    Step("slider", "Loudness range", 60),
    Step("selectbox", "Channel", 0),
    fft(256),
    win(128),
    fft(16384),  # window 128 in an FFT of 16384: auto hop 32 again
    hop("auto"),
    fft(8192),
    time_range(900.0, 1000.0),
]


def test_signal(first: int, last: int, seconds: float, rng) -> np.ndarray:
    """Samples ``first..last`` of a stereo (frames, 2) float32 test sound ``seconds`` long:
    a slow sweep and clicks on the left, two tones on the right, noise on both."""
    t = np.arange(first, last, dtype=np.float64) / SAMPLE_RATE
    left = 0.3 * np.sin(2 * np.pi * (200 * t + 5000 * t**2 / (2 * seconds)))
    left[np.arange(first, last) % (SAMPLE_RATE * 7) == 0] += 0.6  # a click every 7 s
    right = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 6000 * t)
    noise = 0.01 * rng.standard_normal((last - first, 2))
    return (np.stack([left, right], axis=1) + noise).astype(np.float32)


def flac_bytes(minutes: float, seed: int = 0) -> bytes:
    """The test sound as FLAC, written a minute at a time (the whole would need GBs)."""
    buffer, rng = io.BytesIO(), np.random.default_rng(seed)
    n, chunk = int(minutes * 60 * SAMPLE_RATE), 60 * SAMPLE_RATE
    with sf.SoundFile(buffer, "w", SAMPLE_RATE, 2, "PCM_16", format="FLAC") as out:
        for first in range(0, n, chunk):
            out.write(test_signal(first, min(first + chunk, n), n / SAMPLE_RATE, rng))
    return buffer.getvalue()


def timed(module, name: str, seconds: list[float]) -> None:
    """Wrap ``module.name`` so that each call adds its duration to ``seconds``."""
    function = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)

    setattr(module, name, wrapper)


def caption(at) -> str:
    """The spectrogram's caption (under the interactive spectrogram)."""
    return next((c.value for c in at.caption if " frames of " in c.value), "")


def run_step(at, step: Step, compute: list[float], sections: list[float]) -> tuple[float, ...]:
    """Seconds of the page run after the change, of the spectrogram in it, of the sections,
    and the CPU seconds of the run (all threads: on a busy machine wall time is longer)."""
    widget = next(w for w in getattr(at, step.kind) if step.label in w.label)
    value = step.value
    if step.label == "Time range":  # the slider's own end is the file's length
        value = tuple(round(seconds * widget.max / 1800, 1) for seconds in value)
    compute.clear()
    sections.clear()
    start, cpu = time.perf_counter(), time.process_time()
    widget.set_value(value).run()
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    if at.exception or at.error:
        raise SystemExit(f"{step.name}: {at.exception or at.error[0].value}")
    if not caption(at):
        raise SystemExit(f"{step.name}: no spectrogram after the change")
    return total, sum(compute), sum(sections), cpu


def one_pass(minutes: float, seed: int, compute: list[float], sections: list[float]) -> list:
    """Upload a fresh file (nothing cached), then every step: [(step, times, note), ...]."""
    from streamlit.testing.v1 import AppTest

    start = time.perf_counter()
    data = flac_bytes(minutes, seed)
    print(
        f"pass {seed + 1}: {minutes:g}-minute 44.1 kHz stereo FLAC, {len(data) / 1e6:.0f} MB "
        f"(made in {time.perf_counter() - start:.1f} s), load average {os.getloadavg()[0]:.1f}"
    )
    at = AppTest.from_file(str(ROOT / "app_pages/audio.py"), default_timeout=900).run()
    start = time.perf_counter()
    at.file_uploader[0].set_value(("thirty-minutes.flac", data, "audio/flac")).run()
    print(f"  upload, decoding and first render: {time.perf_counter() - start:.1f} s (no target)")
    if at.exception or at.error:
        raise SystemExit(f"upload: {at.exception or at.error[0].value}")
    results = []
    for step in STEPS:
        times = run_step(at, step, compute, sections)
        bounded = re.search(r"1 frame in (\d+)", caption(at))
        if step.timed:
            results.append((step, times, f"1 frame in {bounded.group(1)}" if bounded else ""))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the file")
    parser.add_argument(
        "--passes",
        type=int,
        default=1,
        help="repeat on a new file and keep each change's fastest pass (a busy machine)",
    )
    parser.add_argument(
        "--stub-sections",
        action="store_true",
        help="leave out the tags and speech sections under the spectrogram",
    )
    args = parser.parse_args()

    import ui.sections.spectrogram
    import ui.sections.speech
    import ui.sections.tags

    compute: list[float] = []
    sections: list[float] = []
    timed(ui.sections.spectrogram, "spectrogram", compute)  # the computation the section calls
    for module, name in ((ui.sections.tags, "show_tags"), (ui.sections.speech, "show_speech")):
        if args.stub_sections:
            setattr(module, name, lambda *args, **kwargs: None)
        else:
            timed(module, name, sections)

    passes = [one_pass(args.minutes, seed, compute, sections) for seed in range(args.passes)]
    rows: list[tuple[Step, float, float]] = []
    print(
        f"\n{'control change':<34}{'page s':>8}{'spectro s':>11}{'sections s':>12}"
        f"{'cpu s':>8}  target"
    )
    for results in zip(*passes, strict=True):
        step, note = results[0][0], results[0][2]
        total, spec_s, sections_s, cpu = min((times for _, times, _ in results), key=lambda t: t[0])
        target = TARGET_COMMON_S if step.common else TARGET_S
        rows.append((step, total, cpu))
        verdict = "ok" if total < target else "SLOW"
        print(
            f"{step.name:<34}{total:>8.3f}{spec_s:>11.3f}{sections_s:>12.3f}{cpu:>8.3f}  "
            f"< {target:g} s {verdict}  {note}"
        )

    worst = max(rows, key=lambda row: row[1])
    common = [row for row in rows if row[0].common]
    worst_common = max(common, key=lambda row: row[1])
    ok_all = worst[1] < TARGET_S
    ok_common = worst_common[1] < TARGET_COMMON_S
    best_of = f" (best of {args.passes} passes)" if args.passes > 1 else ""
    print(
        f"\nworst change{best_of}: {worst[0].name}, {worst[1]:.3f} s "
        f"({worst[1] / TARGET_S:.2f} of the {TARGET_S:g} s target): {'pass' if ok_all else 'FAIL'}"
    )
    print(
        f"worst common change: {worst_common[0].name}, {worst_common[1]:.3f} s "
        f"({worst_common[1] / TARGET_COMMON_S:.2f} of the {TARGET_COMMON_S:g} s target): "
        f"{'pass' if ok_common else 'FAIL'}"
    )
    worst_cpu = max(rows, key=lambda row: row[2])
    print(f"most CPU: {worst_cpu[0].name}, {worst_cpu[2]:.3f} s of CPU time (all threads)")
    print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if ok_all and ok_common else 1


if __name__ == "__main__":
    raise SystemExit(main())
