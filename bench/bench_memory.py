"""Peak memory of analysing every corpus file, the decompression bomb included, and a
30-minute stereo recording, each in a fresh process (peak resident set size, ru_maxrss).

    python bench/bench_memory.py

Targets: under 2 GB for every corpus case; under 1.5 GB for the 30-minute recording.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
from tests.support.corpus import AUDIO_CASES, IMAGE_CASES, TRUNCATED_AUDIO_CASES  # noqa: E402

CORPUS_LIMIT_MB = 2048
LONG_RECORDING_LIMIT_MB = 1536

# Uploads a file to the audio page in AppTest (decode, spectrogram, waveform, tags), then
# prints the exit code and its own peak RSS in MB, like MEASURE.
MEASURE_PAGE = """
import resource, sys
from pathlib import Path
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app_pages/audio.py", default_timeout=600).run()
at.file_uploader[0].set_value((Path(sys.argv[1]).name, Path(sys.argv[1]).read_bytes(), "")).run()
ok = not at.exception and not at.error and len(at.get("image")) >= 2
print(0 if ok else 1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

# Runs one CLI command in this fresh interpreter, then prints its own peak RSS in MB.
MEASURE = """
import contextlib, io, resource, sys
from analysis.commands.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def peak_mb(args: list[str], script: str = MEASURE) -> tuple[int, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    code, megabytes = done.stdout.split()
    return int(code), float(megabytes)


def write_long_recording(path: Path, minutes: float = 30, rate: int = 44_100) -> None:
    """A stereo recording of noise and tones (format from the suffix), written in blocks."""
    rng = np.random.default_rng(0)
    block = rate * 10
    with sf.SoundFile(path, "w", rate, 2) as out:
        for start in range(0, int(minutes * 60 * rate), block):
            t = (start + np.arange(block)) / rate
            left = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(block)
            right = 0.3 * np.sin(2 * np.pi * 660 * t) + 0.05 * rng.standard_normal(block)
            out.write(np.stack([left, right], axis=1).astype(np.float32))


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.png"
        print(f"{'case':<22}{'command':<13}{'exit':>5}{'peak MB':>10}")
        commands = [("spectrogram", c) for c in AUDIO_CASES + TRUNCATED_AUDIO_CASES]
        commands += [("tags", c) for c in AUDIO_CASES]
        commands += [("detect", c) for c in IMAGE_CASES]
        for command, case in commands:
            path = Path(folder) / case.name
            path.write_bytes(case.make())
            extra = ["-o", str(out)] if command != "tags" else []
            code, megabytes = peak_mb([command, str(path), *extra])
            failures += megabytes > CORPUS_LIMIT_MB
            print(f"{case.id:<22}{command:<13}{code:>5}{megabytes:>10.0f}")

        print("\nwriting 30-minute 44.1 kHz stereo recordings (FLAC, and MP3 for the page)…")
        flac, mp3 = Path(folder) / "thirty-minutes.flac", Path(folder) / "thirty-minutes.mp3"
        write_long_recording(flac)
        write_long_recording(mp3)  # a FLAC of noise is over the upload limit; an MP3 is not
        runs = [
            (f"{command} (CLI, FLAC)", [command, str(flac), *extra], MEASURE)
            for command, extra in (("spectrogram", ["-o", str(out)]), ("tags", []))
        ]
        runs.append(("audio page (AppTest, MP3)", [str(mp3)], MEASURE_PAGE))
        for label, args, script in runs:
            code, megabytes = peak_mb(args, script)
            ok = code == 0 and megabytes < LONG_RECORDING_LIMIT_MB
            failures += not ok
            print(
                f"30-minute stereo, {label}: exit {code}, peak {megabytes:.0f} MB "
                f"({megabytes / LONG_RECORDING_LIMIT_MB:.2f} of the {LONG_RECORDING_LIMIT_MB} MB "
                f"target) {'OK' if ok else 'OVER'}"
            )
    print(f"\n{'all within bounds' if not failures else f'{failures} case(s) over their bound'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
