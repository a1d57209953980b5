"""Time YAMNet tagging of a 10-minute 44.1 kHz stereo recording against the 5 s target.

Run by hand from the project root: ``python bench/bench_tagging.py``. Prints the
resampling and tagging times, the total against the target, and the per-frame cost
of tagging against the bare interpreter's per-frame cost measured in the same run.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.audio.resample import mono_at
from analysis.audio.tagging import FRAME_SAMPLES, load_yamnet, tag_audio
from models import get_spec, resolve_files

TARGET_S = 5.0
DURATION_S = 600
SAMPLE_RATE = 44_100
BARE_FRAMES = 300


def recording() -> np.ndarray:
    """Ten minutes of stereo: 200 Hz to 4 kHz sweeps every 10 s, with noise on one side."""
    t = np.arange(DURATION_S * SAMPLE_RATE) / SAMPLE_RATE
    frequency = 200 + 3800 * (t % 10) / 10
    sweep = 0.3 * np.sin(2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE)
    noise = np.random.default_rng(0).normal(0, 0.05, t.size)
    return np.stack([sweep, 0.5 * sweep + noise]).astype(np.float32)


def bare_interpreter_ms_per_frame(model_path: Path) -> float:
    """The interpreter alone (same thread count as YamNet): set input, invoke, read scores."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model_path), num_threads=os.cpu_count())
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    frames = np.random.default_rng(1).uniform(-0.5, 0.5, (BARE_FRAMES, 1, FRAME_SAMPLES))
    frames = frames.astype(np.float32)
    interpreter.set_tensor(input_index, frames[0])
    interpreter.invoke()  # warm-up
    start = time.perf_counter()
    for frame in frames:
        interpreter.set_tensor(input_index, frame)
        interpreter.invoke()
        interpreter.get_tensor(output_index)
    return (time.perf_counter() - start) / BARE_FRAMES * 1000


def main() -> None:
    samples = recording()
    yamnet = load_yamnet()
    tag_audio(samples[:, : SAMPLE_RATE * 2], SAMPLE_RATE, yamnet)  # warm-up: imports, XNNPACK

    start = time.perf_counter()
    mono_at(samples, SAMPLE_RATE, 16_000)
    resample_s = time.perf_counter() - start

    start = time.perf_counter()
    tagging = tag_audio(samples, SAMPLE_RATE, yamnet)
    total_s = time.perf_counter() - start
    n_frames = len(tagging.scores)

    bare_ms = bare_interpreter_ms_per_frame(resolve_files(get_spec("yamnet"))["model"])
    tagging_ms = (total_s - resample_s) / n_frames * 1000

    verdict = "meets" if total_s < TARGET_S else "MISSES"
    print(f"recording: {DURATION_S} s, {SAMPLE_RATE} Hz stereo -> {n_frames} frames")
    print(f"resample to 16 kHz mono: {resample_s:.2f} s")
    print(f"resample + tag (tag_audio): {total_s:.2f} s, {verdict} the {TARGET_S:.0f} s target")
    print(f"  = {total_s / TARGET_S:.2f} x target")
    print(
        f"per frame: tagging {tagging_ms:.3f} ms vs bare interpreter {bare_ms:.3f} ms "
        f"({tagging_ms / bare_ms:.2f} x)"
    )
    print(f"top labels: {', '.join(f'{t.label} {t.score:.2f}' for t in tagging.top(3))}")


if __name__ == "__main__":
    main()
