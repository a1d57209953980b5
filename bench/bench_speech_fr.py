"""French word error rate and language detection on real telephone prompts.

Run from the project root: ``python bench/bench_speech_fr.py [--model NAME] [--limit N]
[--language fr]`` (the language chosen, as a person can, instead of detected).
Needs Debian's ``asterisk-core-sounds-fr-wav`` (the prompts, read by a person, 8 kHz) and
``asterisk-core-sounds-fr`` (their texts, ``core-sounds-fr.txt``); ``apt-get install`` both.

Each prompt with a spoken text is transcribed with the language left to the model, as a
person dropping it in would. Prints the pooled WER (accents, punctuation and digits
normalised, see ``speech_text.py``) against the 20 % target, the share of files whose
detected language is French against the 90 % target (also for prompts of three words or
more: a lone "activé" is a hard guess for any detector), the share where it is French or
the page says the detection is unsure, the WER of the files detected as French, and the
real-time factor.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.audio.decode import load_audio
from analysis.speech.whisper import DEFAULT_MODEL, load_whisper, transcribe_audio
from bench.speech_text import normalise, word_errors

SOUNDS = Path("/usr/share/asterisk/sounds/fr")
TEXTS = Path("/usr/share/doc/asterisk-core-sounds-fr/core-sounds-fr.txt.gz")
TARGET_WER = 0.20
TARGET_LANGUAGE = 0.90


def prompts() -> dict[Path, str]:
    """Each prompt's recording and its text, for those with words spoken (not "[tones]")."""
    found = {}
    with gzip.open(TEXTS, "rt", encoding="utf-8") as lines:
        listed = list(lines)
    for line in listed:
        name, _, text = line.partition(":")
        text = re.sub(r"\([^)]*\)", " ", text).strip()  # "(emphase)", "(beep)": not said
        path = SOUNDS / f"{name.strip()}.wav"
        if text and "[" not in text and not line.startswith(";") and path.is_file():
            found[path] = text
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    parser.add_argument(
        "--language", default=None, help="the language to decode (default: detected)"
    )
    args = parser.parse_args()
    whisper = load_whisper(args.model)
    cases = list(prompts().items())[: args.limit]
    errors = words = french = long_files = long_french = said_unsure = 0
    french_errors = french_words = 0
    audio_s = busy_s = 0.0
    for path, text in cases:
        clip = load_audio(path)
        began = time.perf_counter()
        transcript = transcribe_audio(
            clip.samples, clip.sample_rate, whisper, language=args.language
        )
        busy_s += time.perf_counter() - began
        audio_s += clip.duration
        reference = normalise(text, "fr")
        wrong = word_errors(reference, normalise(transcript.text, "fr"))
        errors, words = errors + wrong, words + len(reference)
        right_language = transcript.language == "fr"
        french += right_language
        said_unsure += right_language or transcript.unsure_language
        if right_language:
            french_errors, french_words = french_errors + wrong, french_words + len(reference)
        if len(reference) >= 3:
            long_files += 1
            long_french += right_language
        print(
            f"{path.stem:32} {transcript.language} {transcript.language_probability:4.0%} "
            f"{wrong:2d}/{len(reference):2d}  {transcript.text}"
        )
    wer, detected = errors / words, french / len(cases)
    print(f"\n{args.model}, {len(cases)} prompts, {words} reference words, {audio_s:.0f} s")
    verdict = "OK" if wer <= TARGET_WER else "ABOVE TARGET"
    print(f"WER {wer:.1%} (target ≤ {TARGET_WER:.0%}): {verdict}")
    print(f"WER of the files detected as French: {french_errors / max(french_words, 1):.1%}")
    verdict = "OK" if detected >= TARGET_LANGUAGE else "BELOW TARGET"
    print(f"French detected in {detected:.1%} of files (target ≥ {TARGET_LANGUAGE:.0%}): {verdict}")
    print(f"  in {long_french / max(long_files, 1):.1%} of the {long_files} of 3 words or more")
    print(f"French, or a language said to be unsure, in {said_unsure / len(cases):.1%} of files")
    print(f"speed {audio_s / busy_s:.1f}x real time")


if __name__ == "__main__":
    main()
