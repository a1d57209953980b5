"""Batch speed, timed as the whole command a user runs: two Dask workers against one, one
worker against a plain loop, and a one-photo batch.

Run by hand from the project root: ``python bench/bench_batch.py [--photos 200] [--model M]``.
On a folder of generated photos (1280 to 2560 px wide, as phones and cameras make them) it
times, each as a new process from start to exit (imports, cluster start, model loading, the
tables and the report included):

- a plain loop: ``python bench/bench_batch.py loop IN OUT MODEL``, the same per-file function
  and outputs in one process, no Dask;
- ``python -m analysis batch IN -o OUT --task detect --workers 1``, then ``--workers 2``;
- the same command on a folder of one photo (target: under 2 s);

and prints the ratios against their targets (two workers at least 1.6x one; Dask's overhead
at one worker at most 15 % over the loop). Every model runs one thread per process, as in
Dask's workers, so that the workers, not the model, share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before any model loads: as in a Dask worker
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEEDUP_TARGET = 1.6
OVERHEAD_TARGET = 0.15
ONE_PHOTO_TARGET_S = 2.0


def write_photos(folder: Path, count: int) -> None:
    """``count`` JPEGs 1280 to 2560 px wide (4:3): crops of the sample photos, scaled up."""
    import numpy as np
    from PIL import Image

    from analysis.vision.image import sample_photo

    rng = np.random.default_rng(0)
    sources = [sample_photo(name) for name in ("astronaut", "coffee", "chelsea")]
    folder.mkdir(parents=True)
    for index in range(count):
        photo = sources[index % len(sources)]
        height, width = photo.shape[:2]
        top, left = rng.integers(0, height // 4), rng.integers(0, width // 4)
        crop = photo[top : top + 3 * height // 4, left : left + 3 * width // 4]
        side = int(rng.integers(1280, 2561))
        Image.fromarray(crop).resize((side, side * 3 // 4)).save(folder / f"photo_{index:04d}.jpg")


def plain_loop(folder: Path, out: Path, model: str) -> None:
    """The batch without Dask, in this process: every file, then the same tables and report."""
    from analysis.batch.run import write_outputs
    from analysis.batch.settings import BatchSettings
    from analysis.batch.survey import survey
    from analysis.batch.tables import JOURNAL, read_results, skipped_rows
    from analysis.batch.worker import analyse_file, loaded_model

    settings = BatchSettings("detect", model)
    loaded_model(settings.task, settings.model)
    out.mkdir()
    entries = survey(folder, settings.task)
    with (out / JOURNAL).open("w", encoding="utf-8") as journal:
        for entry in entries:
            if not entry.reason:
                result = analyse_file(str(folder), entry.path, settings, entry.kind)
                journal.write(json.dumps(result) + "\n")
    results = read_results(out, settings.task).with_skipped(skipped_rows(entries))
    write_outputs(out, folder.resolve(), settings, results)


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds ``command`` takes, from its start to its exit."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--model", default=None, help="vision model (default: the best one)")
    args = parser.parse_args()
    from analysis.batch.cluster import WORKER_ALLOCATOR
    from analysis.batch.settings import default_model

    model = args.model or default_model("detect")
    work = Path(tempfile.mkdtemp(prefix="percept-bench-batch-"))
    write_photos(work / "photos", args.photos)
    write_photos(work / "one", 1)
    print(f"{args.photos} photos, 1280-2560 px, {model}, {os.cpu_count()} CPUs")

    batch = [sys.executable, "-m", "analysis", "batch", "--task", "detect", "--model", model]
    # The loop's process gets the workers' allocator settings: the same work, without Dask.
    loop = timed(
        [sys.executable, __file__, "loop", str(work / "photos"), str(work / "l"), model],
        env=os.environ | WORKER_ALLOCATOR,
    )
    one = timed([*batch, str(work / "photos"), "-o", str(work / "w1"), "--workers", "1"])
    two = timed([*batch, str(work / "photos"), "-o", str(work / "w2"), "--workers", "2"])
    single = timed([*batch, str(work / "one"), "-o", str(work / "single")])
    overhead, speedup = one / loop - 1, one / two
    for name, seconds in (("plain loop", loop), ("1 worker", one), ("2 workers", two)):
        print(f"  {name:<11} {seconds:6.2f} s  {args.photos / seconds:6.1f} files/s")
    verdict = "ok" if overhead <= OVERHEAD_TARGET else "OVER"
    print(f"Dask overhead at 1 worker: {overhead:+.1%} (target ≤ {OVERHEAD_TARGET:.0%}) {verdict}")
    verdict = "ok" if speedup >= SPEEDUP_TARGET else "UNDER"
    print(f"2 workers vs 1: {speedup:.2f}x (target ≥ {SPEEDUP_TARGET}x) {verdict}")
    verdict = "ok" if single <= ONE_PHOTO_TARGET_S else "OVER"
    print(f"One photo, whole command: {single:.2f} s (target < {ONE_PHOTO_TARGET_S:.0f} s) "
          f"{verdict}")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["loop"]:
        plain_loop(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        main()
