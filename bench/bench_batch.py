"""Batch speed: two Dask workers against one, one worker against a plain loop, files per second.

Run by hand from the project root: ``python bench/bench_batch.py [--photos 200] [--model M]``.
On a folder of generated photos it times

- a plain loop in this process (the same per-file function and outputs, no Dask),
- ``run_batch`` on a local cluster of one worker, then of two workers,

and prints the two ratios against their targets (two workers at least 1.6x one; Dask's
overhead at one worker at most 15 % over the loop), then files per second for the sound
tasks (YAMNet tags, Whisper transcripts) on two workers. Every model runs one thread per
process, as in Dask's workers, so that the workers, not the model, share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before any model loads: as in a Dask worker
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image

from analysis.audio.decode import to_wav_bytes
from analysis.batch.run import connect, run_batch, write_outputs
from analysis.batch.settings import BatchSettings, default_model
from analysis.batch.survey import survey
from analysis.batch.tables import JOURNAL, read_results
from analysis.batch.worker import analyse_file, loaded_model
from analysis.vision.image import sample_photo
from models.locate import MissingModelError

SPEEDUP_TARGET = 1.6
OVERHEAD_TARGET = 0.15
SOUNDS = 24  # recordings for each sound task
SOUND_S = 5.0  # seconds each


def write_photos(folder: Path, count: int) -> None:
    """``count`` 640×480 JPEGs: random crops of the sample photos, a person in most."""
    rng = np.random.default_rng(0)
    sources = [sample_photo(name) for name in ("astronaut", "coffee", "chelsea")]
    folder.mkdir(parents=True)
    for index in range(count):
        photo = sources[index % len(sources)]
        height, width = photo.shape[:2]
        top, left = rng.integers(0, height // 4), rng.integers(0, width // 4)
        crop = photo[top : top + 3 * height // 4, left : left + 3 * width // 4]
        Image.fromarray(crop).resize((640, 480)).save(folder / f"photo_{index:04d}.jpg")


def write_sounds(folder: Path, count: int) -> None:
    """``count`` recordings of tones and noise, ``SOUND_S`` s each at 16 kHz."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    t = np.arange(int(SOUND_S * 16_000)) / 16_000
    for index in range(count):
        tone = 0.3 * np.sin(2 * np.pi * (220 + 40 * index) * t) + rng.normal(0, 0.02, t.size)
        (folder / f"sound_{index:03d}.wav").write_bytes(to_wav_bytes(tone, 16_000))


def plain_loop(folder: Path, out: Path, settings: BatchSettings) -> float:
    """Seconds for the same work in one process without Dask: every file, then the same
    tables and report."""
    start = time.perf_counter()
    loaded_model(settings.task, settings.model)
    out.mkdir()
    with (out / JOURNAL).open("w", encoding="utf-8") as journal:
        for entry in survey(folder, settings.task):
            result = analyse_file(str(folder), entry.path, settings, entry.kind)
            journal.write(json.dumps(result) + "\n")
    write_outputs(out, folder, settings, read_results(out, settings.task))
    return time.perf_counter() - start


def on_cluster(folder: Path, out: Path, settings: BatchSettings, workers: int) -> float:
    """Seconds ``run_batch`` takes on a running local cluster (its start-up not counted)."""
    with connect(workers=workers) as client:
        start = time.perf_counter()
        summary = run_batch(folder, out, settings, client)
        elapsed = time.perf_counter() - start
    assert summary.errors == 0, f"{summary.errors} files failed"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--model", default=None, help="vision model (default: the best one)")
    args = parser.parse_args()
    settings = BatchSettings("detect", args.model or default_model("detect"))
    work = Path(tempfile.mkdtemp(prefix="percept-bench-batch-"))
    write_photos(work / "photos", args.photos)
    print(f"{args.photos} photos, 640×480, {settings.model}, {os.cpu_count()} CPUs")

    loop = plain_loop(work / "photos", work / "loop", settings)
    one = on_cluster(work / "photos", work / "one", settings, workers=1)
    two = on_cluster(work / "photos", work / "two", settings, workers=2)
    overhead, speedup = one / loop - 1, one / two
    for name, seconds in (("plain loop", loop), ("1 worker", one), ("2 workers", two)):
        print(f"  {name:<11} {seconds:6.2f} s  {args.photos / seconds:6.1f} files/s")
    verdict = "ok" if overhead <= OVERHEAD_TARGET else "OVER"
    print(f"Dask overhead at 1 worker: {overhead:+.1%} (target ≤ {OVERHEAD_TARGET:.0%}) {verdict}")
    verdict = "ok" if speedup >= SPEEDUP_TARGET else "UNDER"
    print(f"2 workers vs 1: {speedup:.2f}x (target ≥ {SPEEDUP_TARGET}x) {verdict}")

    write_sounds(work / "sounds", SOUNDS)
    for task in ("tags", "transcribe"):
        sound_settings = BatchSettings(task, default_model(task))
        try:
            seconds = on_cluster(work / "sounds", work / task, sound_settings, workers=2)
        except MissingModelError as error:
            print(f"{task}: skipped ({error})")
            continue
        print(
            f"{task} ({sound_settings.model}), 2 workers: {SOUNDS / seconds:.1f} files/s "
            f"({SOUND_S:.0f} s recordings)"
        )


if __name__ == "__main__":
    main()
