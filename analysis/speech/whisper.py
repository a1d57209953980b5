"""What is said, and when: Whisper transcription over Silero voice-activity regions.

:func:`transcribe_audio` resamples a recording once to mono 16 kHz, finds where speech is
with Silero VAD (the model ships inside the ``faster-whisper`` wheel), groups those regions
into windows of at most 30 s (Whisper's input length) and transcribes each window with
faster-whisper (CTranslate2, int8 on the CPU). Each window is a view of the one 16 kHz
array, so a long recording is never copied whole, and silence is never decoded, which is
where Whisper invents text. Decoding avoids Whisper's known loops on the CPU: no
conditioning on the previous window's text, and a temperature fallback when a window's
text repeats itself or is unlikely.

Example
-------
>>> whisper = load_whisper("whisper-tiny.en")  # doctest: +SKIP
>>> transcript = transcribe_audio(samples, sample_rate, whisper)  # doctest: +SKIP
>>> transcript.text  # doctest: +SKIP
'Hello, and welcome to the demonstration.'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from analysis.audio.resample import mono_at
from analysis.cores import usable_cores
from analysis.errors import InputError
from models.catalog import CATALOG, get_spec
from models.locate import MissingRuntimeError, resolve_files

SAMPLE_RATE = 16_000  # Hz, Whisper's and Silero VAD's input rate
WINDOW_S = 30.0  # Whisper reads 30 s of audio at a time
DEFAULT_MODEL = "whisper-tiny.en"
WHISPER_MODELS = tuple(name for name, spec in CATALOG.items() if spec.runtime == "faster-whisper")
# Whisper's own fallback schedule: decode greedily, resample hotter when the text loops.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

Progress = Callable[[float, float], None]
"""Called as ``progress(speech_seconds_done, speech_seconds_total)`` while transcribing."""


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD parameters (see ``faster_whisper.vad.VadOptions``).

    Finer than faster-whisper's defaults (2 s of silence, 0.4 s pad), so that the regions
    drawn on the timeline follow pauses between phrases.
    """

    threshold: float = 0.5  # speech probability above which a 32 ms frame is speech
    min_silence_ms: int = 500  # a pause shorter than this does not end a region
    min_speech_ms: int = 120  # regions shorter than this are dropped (clicks, breaths)
    pad_ms: int = 200  # added on both sides of a region so word edges are not cut


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
    """

    model: str
    language: str
    language_probability: float
    duration_s: float
    segments: tuple[Segment, ...]
    speech_regions: np.ndarray
    elapsed_s: float = 0.0

    @property
    def text(self) -> str:
        """The segments' text joined by spaces."""
        return " ".join(segment.text for segment in self.segments)

    @property
    def words(self) -> list[Word]:
        """Every word of every segment, in time order."""
        return [word for segment in self.segments for word in segment.words]

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
                kept.append(Segment(words[0].start, words[-1].end, text, words))
        regions = self.speech_regions
        overlapping = regions[(regions[:, 1] > start_s) & (regions[:, 0] < end_s)]
        return Transcript(
            self.model,
            self.language,
            self.language_probability,
            self.duration_s,
            tuple(kept),
            np.clip(overlapping, start_s, end_s),
            self.elapsed_s,
        )

    def shifted(self, offset_s: float, duration_s: float) -> Transcript:
        """This transcript of a part of a recording, with its times counted from the start of
        the whole recording: ``offset_s`` seconds later, in one ``duration_s`` seconds long."""

        def move(segment: Segment) -> Segment:
            words = tuple(
                replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in segment.words
            )
            return Segment(segment.start + offset_s, segment.end + offset_s, segment.text, words)

        return replace(
            self,
            duration_s=duration_s,
            segments=tuple(move(segment) for segment in self.segments),
            speech_regions=self.speech_regions + offset_s,
        )

    def to_dict(self) -> dict:
        """The CLI's JSON: model, language, duration_s, text and segments with their words."""
        return {
            "model": self.model,
            "language": self.language,
            "language_probability": round(self.language_probability, 3),
            "duration_s": round(self.duration_s, 3),
            "speaking_time_s": round(self.speaking_time(), 3),
            "text": self.text,
            "segments": [
                {
                    "start": round(segment.start, 3),
                    "end": round(segment.end, 3),
                    "text": segment.text,
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


class Whisper:
    """A loaded faster-whisper model, shared between threads (one transcription at a time).

    Parameters
    ----------
    name : str
        Catalog name (says which model this is in results).
    folder : str
        Directory holding ``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``.
    """

    def __init__(self, name: str, folder: str) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise MissingRuntimeError(
                "Speech transcription needs the faster-whisper package, which is not "
                "installed. To get it, run `pip install faster-whisper`."
            ) from None
        self.name = name
        # A folder path never touches the network; int8 is the fastest exact-enough CPU type.
        self.model = WhisperModel(
            folder,
            device="cpu",
            compute_type="int8",
            cpu_threads=usable_cores(),
            local_files_only=True,
        )
        self.multilingual = bool(self.model.model.is_multilingual)
        self._lock = threading.Lock()


def load_whisper(name: str = DEFAULT_MODEL) -> Whisper:
    """The catalog's Whisper model ``name``, from the models directories.

    Raises
    ------
    MissingModelError
        If its files are not found (the message says how to get them), or (as
        ``MissingRuntimeError``) if faster-whisper is not installed.
    """
    if name not in WHISPER_MODELS:
        raise InputError(f"“{name}” is not a Whisper model: choose {', '.join(WHISPER_MODELS)}.")
    paths = resolve_files(get_spec(name))
    return Whisper(name, str(paths["model"].parent))


def speech_regions(waveform: np.ndarray, settings: VadSettings = VadSettings()) -> np.ndarray:
    """Where voice activity is in mono 16 kHz audio, as (regions, 2) start and end times (s)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=settings.threshold,
        min_silence_duration_ms=settings.min_silence_ms,
        min_speech_duration_ms=settings.min_speech_ms,
        speech_pad_ms=settings.pad_ms,
        max_speech_duration_s=WINDOW_S,  # longer regions are split, at a pause if possible
    )
    chunks = get_speech_timestamps(waveform, options, sampling_rate=SAMPLE_RATE)
    regions = np.array([(c["start"], c["end"]) for c in chunks], dtype=np.float64)
    return regions.reshape(-1, 2) / SAMPLE_RATE


def windows(regions: np.ndarray, max_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """Consecutive speech regions grouped into spans of at most ``max_s`` seconds each.

    A region longer than ``max_s`` (VAD splits those, so only by rounding) stays whole.
    """
    spans: list[tuple[float, float]] = []
    for start, end in regions:
        if spans and end - spans[-1][0] <= max_s:
            spans[-1] = (spans[-1][0], float(end))
        else:
            spans.append((float(start), float(end)))
    return spans


def transcribe_audio(
    samples: np.ndarray,
    sample_rate: int,
    whisper: Whisper,
    *,
    language: str | None = None,
    vad: VadSettings = VadSettings(),
    progress: Progress | None = None,
) -> Transcript:
    """Transcribe a recording's speech, with segment and word times.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D (frames,) or 2-D (channels, frames), any sample rate.
    sample_rate : int
        Sampling rate of ``samples`` in Hz.
    whisper : Whisper
        The loaded model (:func:`load_whisper`).
    language : str, optional
        ISO 639-1 code. Default: English for English-only models; multilingual models
        detect it from the first 30 s of speech.
    vad : VadSettings
        Voice-activity detection parameters.
    progress : callable, optional
        ``progress(speech_seconds_done, speech_seconds_total)`` after each phrase.

    Returns
    -------
    Transcript
        With no segments when no speech was found.
    """
    began = time.perf_counter()
    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="transcribe")
    regions = speech_regions(waveform, vad)
    spans = windows(regions)
    if language is None:
        language, confidence = _language(waveform, spans, whisper)
    elif not whisper.multilingual and language != "en":
        raise InputError(f"{whisper.name} understands English only, not “{language}”.")
    else:
        confidence = 1.0
    total = sum(end - start for start, end in spans)
    done = 0.0
    segments: list[Segment] = []
    with whisper._lock:
        for start, end in spans:
            first, last = round(start * SAMPLE_RATE), round(end * SAMPLE_RATE)
            for segment in _decode(whisper, waveform[first:last], language, start, end):
                segments.append(segment)
                if progress is not None:
                    progress(min(done + segment.end - start, total), total)
            done += end - start
            if progress is not None:
                progress(done, total)
    return Transcript(
        whisper.name,
        language,
        confidence,
        len(waveform) / SAMPLE_RATE,
        tuple(segments),
        regions,
        time.perf_counter() - began,
    )


def _language(
    waveform: np.ndarray, spans: list[tuple[float, float]], whisper: Whisper
) -> tuple[str, float]:
    """English for English-only models; else the language heard in the first window."""
    if not whisper.multilingual or not spans:
        return "en", 1.0
    first, last = (round(t * SAMPLE_RATE) for t in spans[0])
    with whisper._lock:
        language, probability, _ = whisper.model.detect_language(waveform[first:last])
    return language, float(probability)


def _decode(
    whisper: Whisper, audio: np.ndarray, language: str, offset: float, end: float
) -> Iterator[Segment]:
    """The segments Whisper hears in one window of speech, timed from the recording's start."""
    pieces, _ = whisper.model.transcribe(
        audio,
        language=language,
        beam_size=5,
        temperature=list(TEMPERATURES),
        condition_on_previous_text=False,  # one bad window must not derail the next
        word_timestamps=True,
        vad_filter=False,  # done once for the whole file
    )
    for piece in pieces:  # a generator: each segment is decoded as it is asked for
        text = piece.text.strip()
        if not text:
            continue
        words = tuple(
            Word(
                min(offset + float(w.start), end),
                min(offset + float(w.end), end),
                w.word,
                float(w.probability),
            )
            for w in piece.words or ()
        )
        yield Segment(
            min(offset + float(piece.start), end), min(offset + float(piece.end), end), text, words
        )
