"""Time the music features of a 10-minute song against the 15 s target, and the page's
responsiveness while they run.

Run by hand from the project root: ``python bench/bench_music.py``. The song is generated
(chords C–F–G–C, a kick on every beat at 120 BPM, an eighth-note melody; 44.1 kHz stereo,
as an upload would be); with Debian's ``asc-music`` installed, 10 minutes of its MP3s are
timed too. Prints, for each:

- the first analysis in a fresh process (librosa's import and numba's compilation
  included: what the first song after a server start costs), and
- the analysis in a warm process, per step, against the target, with its CPU time in this
  process and in the second process that takes half of a long sound's pitch (on a busy
  machine the wall time includes waiting for a core),
- while it runs on a background thread (as a job does), how late a 5 ms timer on the main
  thread fires: what a page run waits at most for the job's hold on the GIL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.audio.music import analyse_music
from tests.analysis.audio.music_signals import RATE, song

TARGET_S = 15.0
DURATION_S = 600
UPLOAD_RATE = 44_100
ASC_MUSIC = Path("/usr/share/games/asc/music")
TICK_S = 0.005


def generated_song() -> np.ndarray:
    """The 10-minute song at 44.1 kHz stereo (the right channel a little quieter)."""
    import soxr

    mono = soxr.resample(song(DURATION_S), RATE, UPLOAD_RATE)
    return np.stack([mono, 0.8 * mono]).astype(np.float32)


def real_songs() -> tuple[np.ndarray, int] | None:
    """The first 10 minutes of asc-music's songs, one after another; None if not installed."""
    from analysis.audio.decode import load_audio

    paths = sorted(ASC_MUSIC.glob("*.mp3"))
    if not paths:
        return None
    clips = [load_audio(path) for path in paths]
    rate = clips[0].sample_rate
    samples = np.concatenate([clip.samples for clip in clips if clip.sample_rate == rate], axis=1)
    return samples[:, : DURATION_S * rate], rate


def cold_seconds() -> float:
    """One fresh process: import, compile, and analyse 10 s of the song."""
    code = (
        "import time; t = time.perf_counter();"
        "from analysis.audio.music import analyse_music;"
        "from tests.analysis.audio.music_signals import RATE, song;"
        "analyse_music(song(10.0), RATE); print(time.perf_counter() - t)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def timed_in_background(
    samples: np.ndarray, rate: int
) -> tuple[float, tuple[float, float], dict, np.ndarray]:
    """Analyse on a thread; meanwhile measure how late a 5 ms sleep wakes on this one.

    Returns the wall time, the CPU time over it (s) of this process and of the processes it
    started, the steps' timings and the timer's lateness (s).
    """
    result: dict = {}

    def work() -> None:
        result["music"] = analyse_music(samples, rate)

    worker = threading.Thread(target=work)
    lateness = []
    start, times = time.perf_counter(), os.times()
    worker.start()
    while worker.is_alive():
        before = time.perf_counter()
        time.sleep(TICK_S)
        lateness.append(time.perf_counter() - before - TICK_S)
    worker.join()
    wall, after = time.perf_counter() - start, os.times()
    own = after.user + after.system - times.user - times.system
    children = after.children_user + after.children_system
    children -= times.children_user + times.children_system
    return wall, (own, children), result["music"].timings_ms, np.array(lateness)


def report(name: str, samples: np.ndarray, rate: int) -> None:
    elapsed, (cpu, helper_cpu), steps, late = timed_in_background(samples, rate)
    verdict = "meets" if elapsed < TARGET_S else "MISSES"
    print(f"{name}: {samples.shape[1] / rate:.0f} s at {rate} Hz, {samples.shape[0]} channel(s)")
    print(f"  features in the background: {elapsed:.2f} s, {verdict} the {TARGET_S:.0f} s target")
    print(f"  = {elapsed / TARGET_S:.2f} x target; steps (ms): {steps}")
    print(
        f"  CPU time: {cpu:.2f} s in this process ({cpu / elapsed:.0%} of wall), "
        f"{helper_cpu:.2f} s in the pitch's second process"
    )
    print(
        f"  main thread's 5 ms timer late by: median {np.median(late) * 1000:.1f} ms, "
        f"p95 {np.percentile(late, 95) * 1000:.1f} ms, max {late.max() * 1000:.0f} ms"
    )


def main() -> None:
    print(f"first analysis in a fresh process (10 s of music): {cold_seconds():.2f} s")
    analyse_music(song(5.0), RATE)  # warm this process: imports and compilation
    report("generated song", generated_song(), UPLOAD_RATE)
    real = real_songs()
    if real is None:
        print("asc-music is not installed (apt-get install asc-music): real songs not timed")
    else:
        report("asc-music songs", *real)


if __name__ == "__main__":
    main()
