"""A transcript: what Whisper heard, when, in which language, and how sure it was.

Made by ``whisper.transcribe_audio``; plain data that the subtitles, the plots, the pages and
the command line read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from analysis.speech.languages import iso_code, language_name

SURE_LANGUAGE = 0.5  # a detected language less probable than this is a guess, and says so
# Speech (s) a language is told from below which the detection is a guess whatever its
# probability: on Asterisk's French prompts all 54 wrong detections at 50 % or more were of
# files of 1.2 s or less, and every file of 1.5 s or more was told French (bench/README.md).
SURE_SPEECH_S = 1.25


@dataclass(frozen=True)
class Word:
    start: float  # s from the start of the recording
    end: float  # s
    word: str  # as Whisper spells it, with its leading space
    probability: float  # Whisper's confidence in [0, 1]


@dataclass(frozen=True)
class Segment:
    start: float  # s
    end: float  # s
    text: str
    words: tuple[Word, ...]
    avg_logprob: float = 0.0  # mean log probability of its tokens (Whisper's confidence)
    no_speech_prob: float = 0.0  # Whisper's probability that the window held no speech

    @property
    def confidence(self) -> float:
        """The mean token probability, exp(avg_logprob), in [0, 1]."""
        return math.exp(self.avg_logprob)


@dataclass(frozen=True)
class Transcript:
    """What a Whisper model heard in one recording.

    Attributes
    ----------
    model : str
        Catalog name of the model, e.g. ``"whisper-tiny.en"``.
    language : str
        ISO 639-1 code of the language transcribed (given, or detected by a multilingual model).
    language_probability : float
        The model's confidence in ``language`` (1.0 when it was given, not detected).
    duration_s : float
        Length of the recording in seconds.
    segments : tuple of Segment
        Phrases in time order.
    speech_regions : np.ndarray
        float64 (regions, 2): start and end (s) of each stretch of voice activity.
    elapsed_s : float
        Wall-clock time the transcription took (resampling, VAD and decoding), seconds.
    task : str
        ``"transcribe"`` (text in the language spoken) or ``"translate"`` (English text).
    language_speech_s : float or None
        Seconds of speech the language was told from; None when it was given.
    """

    model: str
    language: str
    language_probability: float
    duration_s: float
    segments: tuple[Segment, ...]
    speech_regions: np.ndarray
    elapsed_s: float = 0.0
    task: str = "transcribe"
    language_speech_s: float | None = None

    @property
    def unsure_language(self) -> bool:
        """Whether the language was detected with less than :data:`SURE_LANGUAGE` confidence,
        or from less than :data:`SURE_SPEECH_S` of speech."""
        short = self.language_speech_s is not None and self.language_speech_s < SURE_SPEECH_S
        return self.language_probability < SURE_LANGUAGE or short

    @property
    def text(self) -> str:
        """The segments' text joined by spaces."""
        return " ".join(segment.text for segment in self.segments)

    @property
    def words(self) -> list[Word]:
        """Every word of every segment, in time order."""
        return [word for segment in self.segments for word in segment.words]

    @property
    def word_count(self) -> int:
        """Words as a reader counts them in the text: Whisper's pieces that hold a letter or
        digit, but not those that carry on the word before (French "C" + "'est")."""
        return sum(
            1
            for word in self.words
            if re.search(r"\w", word.word) and not word.word.startswith(("'", "’", "-"))
        )

    def speaking_time(self, start_s: float = 0.0, end_s: float | None = None) -> float:
        """Seconds of voice activity between ``start_s`` and ``end_s`` (default: the end)."""
        end_s = self.duration_s if end_s is None else end_s
        if len(self.speech_regions) == 0:
            return 0.0
        starts = np.maximum(self.speech_regions[:, 0], start_s)
        ends = np.minimum(self.speech_regions[:, 1], end_s)
        return float(np.clip(ends - starts, 0.0, None).sum())

    def between(self, start_s: float, end_s: float) -> Transcript:
        """The segments that overlap [start_s, end_s] s, keeping only their words inside it.

        A word is inside when its middle is; a segment with no word inside is dropped.
        """
        kept = []
        for segment in self.segments:
            if segment.end <= start_s or segment.start >= end_s:
                continue
            words = tuple(w for w in segment.words if start_s <= (w.start + w.end) / 2 <= end_s)
            if not segment.words or words == segment.words:
                kept.append(segment)
            elif words:
                text = "".join(w.word for w in words).strip()
                start, end = words[0].start, words[-1].end
                kept.append(replace(segment, start=start, end=end, text=text, words=words))
        regions = self.speech_regions
        overlapping = regions[(regions[:, 1] > start_s) & (regions[:, 0] < end_s)]
        return replace(
            self, segments=tuple(kept), speech_regions=np.clip(overlapping, start_s, end_s)
        )

    def shifted(self, offset_s: float, duration_s: float) -> Transcript:
        """This transcript of a part of a recording, with its times counted from the start of
        the whole recording: ``offset_s`` seconds later, in one ``duration_s`` seconds long."""

        def move(segment: Segment) -> Segment:
            words = tuple(
                replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in segment.words
            )
            return replace(
                segment, start=segment.start + offset_s, end=segment.end + offset_s, words=words
            )

        return replace(
            self,
            duration_s=duration_s,
            segments=tuple(move(segment) for segment in self.segments),
            speech_regions=self.speech_regions + offset_s,
        )

    def to_dict(self) -> dict:
        """The CLI's JSON: model, language (ISO 639-1), task, text, and segments with their
        confidence and words."""
        return {
            "model": self.model,
            "language": iso_code(self.language),
            "language_probability": round(self.language_probability, 3),
            "task": self.task,
            "duration_s": round(self.duration_s, 3),
            "speaking_time_s": round(self.speaking_time(), 3),
            "text": self.text,
            "segments": [
                {
                    "start": round(segment.start, 3),
                    "end": round(segment.end, 3),
                    "text": segment.text,
                    "avg_logprob": round(segment.avg_logprob, 3),
                    "no_speech_prob": round(segment.no_speech_prob, 3),
                    "words": [
                        {
                            "start": round(word.start, 3),
                            "end": round(word.end, 3),
                            "word": word.word.strip(),
                            "probability": round(word.probability, 3),
                        }
                        for word in segment.words
                    ],
                }
                for segment in self.segments
            ],
        }


def nothing_heard(
    transcript: Transcript, start_s: float = 0.0, end_s: float | None = None, named: str = ""
) -> str:
    """The sentence for a stretch (s) where no phrase was kept: no speech, or a voice whose
    words Whisper was too unsure of to write down, never "no speech" over a voice.
    ``named``: the stretch as the sentence names it ("3.00 s to 5.00 s"); empty for the
    whole file.
    """
    where = f" in {named}" if named else ""
    voiced = transcript.speaking_time(start_s, end_s)
    if voiced <= 0:
        return f"No speech found{where}."
    return (
        f"Something like speech was heard{where} ({voiced:.1f} s), but Whisper made out no "
        "words it trusts there."
    )


def heard_language(transcript: Transcript) -> str:
    """One sentence on the language: "Language: French, 97% sure." or says it is unsure."""
    name, probability = language_name(transcript.language), transcript.language_probability
    heard_s = transcript.language_speech_s
    if probability >= 1.0 and heard_s is None:
        how = "English only" if transcript.model.endswith(".en") else "chosen"
        return f"Language: {name} ({how})."
    if heard_s is not None and heard_s < SURE_SPEECH_S:
        return (
            f"Language: perhaps {name} ({probability:.0%}), but told from only {heard_s:.1f} s "
            "of speech: choose the language if that is wrong."
        )
    if transcript.unsure_language:
        return (
            f"Language: perhaps {name}, but only {probability:.0%} sure: "
            "choose the language if that is wrong."
        )
    return f"Language: {name}, {probability:.0%} sure."
