"""Word error rate and speed of the default Whisper model on real recorded speech.

Run by hand from the project root: ``python bench/bench_speech.py``. It downloads two
Debian packages with ``apt-get download`` into a temporary folder (nothing is kept):

- ``codec2-examples``: ``speech_orig_16k.wav``, a man reading Harvard sentences 1, 2, 3 and
  9 of list 1 (IEEE 1969), ``mmt1.wav`` (sentence 3 again, another voice, 8 kHz) and
  ``big_dog.wav`` (a TIMIT prompt, 8 kHz); ``ve9qrp.wav``, a 112 s radio amateur's
  monologue with no published transcript, is timed only.
- ``alsa-utils``: the eight spoken channel names of ``/usr/share/sounds/alsa``.

Prints each file's reference and hypothesis, the pooled WER against the 12 % target and
the real-time factor (audio seconds per second of transcription) against the 5x target.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.audio.decode import load_audio
from analysis.speech.whisper import DEFAULT_MODEL, load_whisper, transcribe_audio

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


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation (apostrophes kept: "it's" is one word)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions: the word-level Levenshtein distance."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (ref_word != hyp_word),
                )
            )
        previous = current
    return previous[-1]


def unpack(folder: Path) -> Path:
    """Download and extract the Debian packages into ``folder``; return the extracted root."""
    root = folder / "root"
    for package in PACKAGES:
        subprocess.run(["apt-get", "download", package], cwd=folder, check=True)
        (deb,) = folder.glob(f"{package}_*.deb")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def main() -> None:
    whisper = load_whisper(DEFAULT_MODEL)
    with tempfile.TemporaryDirectory() as temp:
        root = unpack(Path(temp))
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
