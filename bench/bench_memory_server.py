"""Memory of one server that many visitors use in turn: 50 uploads, each in its own session.

    python bench/bench_memory_server.py [--uploads 50]

Each upload opens a fresh AppTest session of its page (as a new browser tab would), drops
the file, lets the page analyse it, and closes the session. The files: 10-minute stereo
recordings (44.1 kHz WAV, 106 MB), short videos and photos up to 12 megapixels, some of each
opened twice. Prints the process's resident memory after each upload, its peak, and the
final figure once every session has ended.

Targets (issue 22): peak under 1.5 GB; under 800 MB once the sessions have ended.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.support.corpus import media, png  # noqa: E402
from ui.memory import drop_per_file_caches, return_freed_memory, trim_heaps  # noqa: E402

PEAK_LIMIT_MB = 1536
IDLE_LIMIT_MB = 800
SOUND_SECONDS = 600


def rss_mb() -> float:
    """The process's resident set now, MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recording(seed: int) -> bytes:
    """Ten minutes of stereo tones and noise, 16-bit WAV (106 MB)."""
    rate, rng = 44_100, np.random.default_rng(seed)
    out = io.BytesIO()
    with sf.SoundFile(out, "w", rate, 2, format="WAV", subtype="PCM_16") as sound:
        for start in range(0, SOUND_SECONDS * rate, rate * 10):
            t = (start + np.arange(rate * 10)) / rate
            hz = 220.0 * (1 + seed)
            left = 0.3 * np.sin(2 * np.pi * hz * t) + 0.05 * rng.standard_normal(t.size)
            right = 0.3 * np.sin(2 * np.pi * 1.5 * hz * t) + 0.05 * rng.standard_normal(t.size)
            sound.write(np.stack([left, right], axis=1).astype(np.float32))
    return out.getvalue()


def photo(seed: int) -> bytes:
    """A noisy photo-sized picture, from 1 to 12 megapixels."""
    rng = np.random.default_rng(seed)
    height = int(rng.integers(800, 3000))
    width = int(height * rng.uniform(1.2, 1.5))
    base = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 20, (height, width, 3)).astype(np.float32)
    return png(np.clip(base + noise, 0, 255).astype(np.uint8))


def uploads(count: int) -> list[tuple[str, str, Callable[[], bytes]]]:
    """(page, file name, maker) for ``count`` uploads: a fifth sounds, a fifth videos, the
    rest photos; every fifth file is one opened before."""
    plan = []
    for i in range(count):
        kind = ("sound", "video", "photo", "photo", "photo")[i % 5]
        seed = i // 5 - 1 if i // 5 % 4 == 3 else i // 5  # every fourth round repeats one
        if kind == "sound":
            plan.append(("audio", f"recording-{seed}.wav", lambda s=seed: recording(s)))
        elif kind == "video":
            plan.append(("video", f"clip-{seed}.mp4", lambda s=seed: clip(s)))
        else:
            seed = 3 * seed + i % 5
            plan.append(("vision", f"photo-{seed}.png", lambda s=seed: photo(s)))
    return plan


def clip(seed: int) -> bytes:
    return media("mp4", "libx264", "aac", seconds=3.0 + seed % 3)


def visit(page: str, name: str, data: bytes) -> float:
    """One session: open the page, drop the file, let it analyse; returns seconds taken."""
    start = time.perf_counter()
    at = AppTest.from_file(str(PROJECT_ROOT / "app_pages" / f"{page}.py"), default_timeout=600)
    at.run()
    uploader = at.file_uploader[0]
    uploader.set_value((name, data, "application/octet-stream")).run()
    if at.exception:
        raise RuntimeError(f"{page} failed on {name}: {at.exception[0].message}")
    del at, uploader  # the tab is closed: its session and its state go
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    args = parser.parse_args()
    return_freed_memory()  # as app.py does in the server
    with tempfile.TemporaryDirectory() as links:
        os.environ["PERCEPT_LINKS_DIR"] = links  # links write to a throwaway folder
        start_mb = rss_mb()
        print(f"{'#':>3} {'page':<7}{'file':<18}{'MB':>7}{'s':>7}{'RSS MB':>9}")
        for number, (page, name, make) in enumerate(uploads(args.uploads), 1):
            data = make()
            seconds = visit(page, name, data)
            gc.collect()  # as the server's janitor does once it has let a closed session go
            print(
                f"{number:>3} {page:<7}{name:<18}{len(data) / 2**20:>7.1f}{seconds:>7.1f}"
                f"{rss_mb():>9.0f}"
            )
        del data
        # What the server's janitor does once no session is open (ui.memory.tidy).
        drop_per_file_caches()
        gc.collect()
        trim_heaps()
        final = rss_mb()
    peak = peak_mb()
    ok = peak < PEAK_LIMIT_MB and final < IDLE_LIMIT_MB
    print(
        f"\nstart {start_mb:.0f} MB · peak {peak:.0f} MB ({peak / PEAK_LIMIT_MB:.2f} of "
        f"{PEAK_LIMIT_MB}) · final, every session ended, {final:.0f} MB "
        f"({final / IDLE_LIMIT_MB:.2f} of {IDLE_LIMIT_MB}) — {'OK' if ok else 'OVER'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
