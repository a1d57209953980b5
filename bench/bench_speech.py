"""Word error rate and speed of the Whisper models on real recorded English speech.

Run by hand from the project root: ``python bench/bench_speech.py``. It reads two Debian
packages, from ``/usr/share`` when installed, else downloaded with ``apt-get download`` into
a temporary folder (nothing is kept):

- ``codec2-examples``: ``speech_orig_16k.wav``, a man reading Harvard sentences 1, 2, 3 and
  9 of list 1 (IEEE 1969), ``mmt1.wav`` (sentence 3 again, another voice, 8 kHz) and
  ``big_dog.wav`` (a TIMIT prompt, 8 kHz); ``ve9qrp.wav``, a 112 s radio amateur's
  monologue with no published transcript, is timed only.
- ``alsa-utils``: the eight spoken channel names of ``/usr/share/sounds/alsa``.

Two measures:

1. Each file through the default model in this process (model loaded once): pooled WER
   against the 12 % target and the real-time factor of the transcription alone.
2. A one-minute recording (the reference files joined, with half a second of silence
   between, repeated to 60 s) through ``python -m analysis transcribe --json`` in a fresh
   process for each model, as a person would run it: start-up, model load, decoding and
   transcription all timed. For ``whisper-tiny.en`` that includes Whisper base telling the
   language (what "tiny.en when the speech is English" would cost). Prints each model's WER
   and real-time factor against the 12 % and 5x targets.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.audio.decode import load_audio
from analysis.audio.resample import mono_at
from analysis.speech.whisper import DEFAULT_MODEL, SAMPLE_RATE, load_whisper, transcribe_audio
from bench.speech_text import normalise, word_errors
from models import MissingModelError, get_spec, resolve_files

TARGET_WER = 0.12
TARGET_SPEED = 5.0
PACKAGES = ("codec2-examples", "alsa-utils")

# Reference transcripts: the published texts the speakers read.
REFERENCES = {
    "usr/share/codec2/raw/speech_orig_16k.wav": (
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue "
        "background. It's easy to tell the depth of a well. Four hours of steady work faced us."
    ),
    "usr/share/codec2/wav/mmt1.wav": "It's easy to tell the depth of a well.",
    "usr/share/codec2/wav/big_dog.wav": "The big dog loved to chew on the old rag doll.",
    **{
        f"usr/share/sounds/alsa/{name}.wav": name.replace("_", " ")
        for name in (
            "Front_Center",
            "Front_Left",
            "Front_Right",
            "Rear_Center",
            "Rear_Left",
            "Rear_Right",
            "Side_Left",
            "Side_Right",
        )
    },
}
TIMED_ONLY = ("usr/share/codec2/wav/ve9qrp.wav",)


def unpack(folder: Path) -> Path:
    """The root the packages' files are under: ``/`` when they are installed, else
    ``folder``, where they are downloaded and extracted."""
    if all(Path("/", relative).is_file() for relative in (*REFERENCES, *TIMED_ONLY)):
        return Path("/")
    root = folder / "root"
    for package in PACKAGES:
        subprocess.run(["apt-get", "download", package], cwd=folder, check=True)
        (deb,) = folder.glob(f"{package}_*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def one_minute(root: Path, path: Path) -> str:
    """Write the reference recordings joined into a minute at 16 kHz to ``path``; return
    what is said in it."""
    pieces, texts, length = [], [], 0
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    while length < 60 * SAMPLE_RATE:
        for relative, text in REFERENCES.items():
            clip = load_audio(root / relative)
            pieces += [mono_at(clip.samples, clip.sample_rate, SAMPLE_RATE, what="join"), gap]
            texts.append(text)
            length += len(pieces[-2]) + len(gap)
            if length >= 60 * SAMPLE_RATE:
                break
    soundfile.write(path, np.concatenate(pieces), SAMPLE_RATE)
    return " ".join(texts)


def whole_command(model: str, path: Path, reference: str) -> None:
    """Time ``python -m analysis transcribe`` on ``path`` in a fresh process, and score it."""
    began, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "transcribe", str(path), "--json", "--model", model],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    wall = time.perf_counter() - began
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    if done.returncode:
        print(f"{model}: {done.stderr.strip()}")
        return
    result = json.loads(done.stdout)
    truth = normalise(reference)
    wer = word_errors(truth, normalise(result["text"])) / len(truth)
    speed = result["duration_s"] / wall
    print(
        f"{model:16} {result['duration_s']:.0f} s in {wall:.1f} s (model load "
        f"{result['timings_ms']['load_model'] / 1000:.1f} s): {speed:.1f}x real time "
        f"(target ≥ {TARGET_SPEED:.0f}x), WER {wer:.1%} (target ≤ {TARGET_WER:.0%}), "
        f"language {result['language']} {result['language_probability']:.0%}; "
        f"{cpu_s:.1f} CPU s: on an idle machine at least {result['duration_s'] / cpu_s:.1f}x "
        f"real time (the wall time is at most the CPU time), at most "
        f"{result['duration_s'] / (cpu_s / 2):.1f}x (both cores busy all along)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = unpack(Path(temp))
        per_file(root)
        path = Path(temp) / "one-minute.wav"
        reference = one_minute(root, path)
        print("\nA one-minute recording, each model in a fresh process, start-up included:")
        for model in ("whisper-base", "whisper-tiny.en", "whisper-small"):
            try:
                resolve_files(get_spec(model))
            except MissingModelError:
                print(f"{model}: not installed")
                continue
            whole_command(model, path, reference)


def per_file(root: Path) -> None:
    """Each file through the default model, loaded once; the pooled WER and speed."""
    whisper = load_whisper(DEFAULT_MODEL)
    clip = load_audio(root / next(iter(REFERENCES)))
    transcribe_audio(clip.samples[:, :32_000], clip.sample_rate, whisper)  # warm-up
    errors = words = 0
    audio_s = busy_s = 0.0
    for relative in (*REFERENCES, *TIMED_ONLY):
        clip = load_audio(root / relative)
        began = time.perf_counter()
        transcript = transcribe_audio(clip.samples, clip.sample_rate, whisper)
        busy_s += time.perf_counter() - began
        audio_s += clip.duration
        print(f"\n{Path(relative).name} ({clip.duration:.1f} s, {clip.sample_rate} Hz)")
        print(f"  heard:     {transcript.text}")
        if relative in REFERENCES:
            reference = normalise(REFERENCES[relative])
            wrong = word_errors(reference, normalise(transcript.text))
            errors, words = errors + wrong, words + len(reference)
            print(f"  reference: {REFERENCES[relative]}")
            print(f"  {wrong} word errors in {len(reference)} words")
    wer, speed = errors / words, audio_s / busy_s
    print(f"\n{DEFAULT_MODEL}, {words} reference words, {audio_s:.1f} s of audio")
    verdict = "OK" if wer <= TARGET_WER else "ABOVE TARGET"
    print(f"WER {wer:.1%} (target ≤ {TARGET_WER:.0%}): {verdict}")
    verdict = "OK" if speed >= TARGET_SPEED else "BELOW TARGET"
    print(f"speed {speed:.1f}x real time (target ≥ {TARGET_SPEED:.0f}x): {verdict}")


if __name__ == "__main__":
    main()
