"""What is said, and when: Whisper transcription over Silero voice-activity regions.

:func:`transcribe_audio` resamples a recording once to mono 16 kHz, finds where speech is
with Silero VAD (the model ships inside the ``faster-whisper`` wheel) ten minutes at a time,
groups those regions into windows of at most 30 s (Whisper's input length) and transcribes
each window with faster-whisper (CTranslate2, int8 on the CPU), so a long recording's first
phrases come while the rest is read. Each window is a view of the one 16 kHz array, and
silence is never decoded, which is where Whisper invents text. The language is told from up
to 30 s of the first speech (or given); Whisper can also translate it to English. Decoding
avoids Whisper's known loops on the CPU: no conditioning on the previous window's text, and
a temperature fallback when a window's text repeats itself or is unlikely; what still looks
invented is dropped by :mod:`analysis.speech.trust`.

Example
-------
>>> whisper = load_whisper("whisper-base")  # doctest: +SKIP
>>> transcript = transcribe_audio(samples, sample_rate, whisper)  # doctest: +SKIP
>>> transcript.text  # doctest: +SKIP
'Hello, and welcome to the demonstration.'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from analysis.audio.resample import mono_at
from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.speech.languages import language_name
from analysis.speech.transcript import Segment, Transcript, Word
from analysis.speech.trust import COMPRESSION_RATIO, LOW_LOGPROB, NO_SPEECH_PROB, believable
from models.catalog import CATALOG, get_spec
from models.locate import MissingModelError, MissingRuntimeError, resolve_files

SAMPLE_RATE = 16_000  # Hz, Whisper's and Silero VAD's input rate
WINDOW_S = 30.0  # Whisper reads 30 s of audio at a time
DEFAULT_MODEL = "whisper-base"  # multilingual: detects the language, and translates
VAD_PART_S = 600.0  # s of sound the voice-activity detector reads at once (about 40 MB)
TASKS = ("transcribe", "translate")  # Whisper's: the language spoken, or English
WHISPER_MODELS = tuple(name for name, spec in CATALOG.items() if spec.runtime == "faster-whisper")
# Whisper's own fallback schedule: decode greedily, resample hotter when the text loops.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
BEAM_SIZE = 5  # beams searched at temperature 0

Progress = Callable[[float, float], None]
"""Called as ``progress(seconds_done, seconds_total)`` of the recording while transcribing."""


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
        self._lock = threading.RLock()  # transcribe_audio holds it while it detects


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


def load_detector() -> Whisper | None:
    """The default multilingual model, to tell the language spoken for an English-only one;
    None when its files are missing (then English-only models take speech to be English)."""
    try:
        return load_whisper(DEFAULT_MODEL)
    except MissingModelError:
        return None


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


def speech_in_parts(
    waveform: np.ndarray, settings: VadSettings = VadSettings(), part_s: float = VAD_PART_S
) -> Iterator[tuple[np.ndarray, float]]:
    """:func:`speech_regions` of mono 16 kHz audio, ``part_s`` seconds at a time: each part's
    regions (s from the start of ``waveform``) and the time (s) up to which they are final.

    The voice-activity model's memory stays that of one part, and a long recording's first
    phrases can be transcribed before the rest is read. A region that runs into a part's end
    is left to the next part, which starts with it, so that no phrase is cut in two.
    """
    size, first = round(part_s * SAMPLE_RATE), 0
    while first < len(waveform):
        last = min(first + size, len(waveform))
        regions = speech_regions(waveform[first:last], settings) + first / SAMPLE_RATE
        cut = last < len(waveform) and len(regions) and regions[-1, 1] >= last / SAMPLE_RATE - 0.1
        if cut and regions[-1, 0] > first / SAMPLE_RATE:
            last, regions = round(regions[-1, 0] * SAMPLE_RATE), regions[:-1]
        yield regions, last / SAMPLE_RATE
        first = last


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


class WrongLanguageError(InputError):
    """An English-only model was given speech in another language; the message says which
    language it seems to be and which model transcribes it."""


def transcribe_audio(
    samples: np.ndarray,
    sample_rate: int,
    whisper: Whisper,
    *,
    language: str | None = None,
    task: str = "transcribe",
    detector: Whisper | None = None,
    vad: VadSettings = VadSettings(),
    progress: Progress | None = None,
    heard: Callable[[Segment], None] | None = None,
) -> Transcript:
    """Transcribe (or translate to English) a recording's speech, with segment and word times.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D (frames,) or 2-D (channels, frames), any sample rate.
    sample_rate : int
        Sampling rate of ``samples`` in Hz.
    whisper : Whisper
        The loaded model (:func:`load_whisper`).
    language : str, optional
        Whisper's language code (ISO 639-1 for all but three, see ``languages``). Default:
        detected from up to 30 s of the speech.
    task : {"transcribe", "translate"}
        The text in the language spoken, or Whisper's English translation of it.
    detector : Whisper, optional
        A multilingual model that tells the language when ``whisper`` is English-only, so it
        never writes English guesses over another language (without one: English is taken).
    vad : VadSettings
        Voice-activity detection parameters.
    progress : callable, optional
        ``progress(seconds_done, duration_s)`` of the recording, after each phrase.
    heard : callable, optional
        Called with each phrase kept, as soon as it is decoded (a long file fills in).

    Returns
    -------
    Transcript
        With no segments when no speech was found.

    Raises
    ------
    WrongLanguageError
        If ``whisper`` is English-only and the speech is in another language.
    """
    if task not in TASKS:
        raise InputError(f"The task must be one of {', '.join(TASKS)}, not “{task}”.")
    began = time.perf_counter()
    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="transcribe")
    parts, segments, decided, duration = [], [], False, len(waveform) / SAMPLE_RATE
    with whisper._lock:  # one decoding at a time: CTranslate2 uses every core for it
        for regions, part_end in speech_in_parts(waveform, vad, VAD_PART_S):
            parts.append(regions)
            spans = windows(regions)
            if spans and not decided:  # the first speech tells the language
                spoken = _spoken(waveform, spans, whisper, language, task, detector)
                (language, confidence, told), decided = spoken, True
            for segment in _phrases(whisper, waveform, spans, language, task, segments):
                segments.append(segment)
                if heard is not None:
                    heard(segment)
                if progress is not None:
                    progress(segment.end, duration)
            if progress is not None:
                progress(part_end, duration)
    if not decided:  # no speech: the language given, or none heard
        language, confidence, told = _spoken(waveform, [], whisper, language, task, detector)
    return Transcript(
        whisper.name,
        language,
        confidence,
        duration,
        tuple(segments),
        np.concatenate(parts) if parts else np.zeros((0, 2)),
        time.perf_counter() - began,
        task,
        told,
    )


def detect_language(
    waveform: np.ndarray, spans: list[tuple[float, float]], whisper: Whisper
) -> tuple[str, float]:
    """The language heard in up to 30 s of speech and its probability.

    The speech of the first ``spans`` (seconds) is joined without the pauses between, so
    that a short first phrase does not decide alone. English with probability 0 when there
    is no speech (nothing was heard to tell).
    """
    if not whisper.multilingual:
        raise InputError(f"{whisper.name} understands English only: it cannot tell languages.")
    if not spans:
        return "en", 0.0
    pieces, length = [], 0
    for start, end in spans:
        piece = waveform[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
        pieces.append(piece[: round(WINDOW_S * SAMPLE_RATE) - length])
        length += len(pieces[-1])
        if length >= WINDOW_S * SAMPLE_RATE:
            break
    with whisper._lock:
        language, probability, _ = whisper.model.detect_language(np.concatenate(pieces))
    return language, float(probability)


def _spoken(
    waveform: np.ndarray,
    spans: list[tuple[float, float]],
    whisper: Whisper,
    language: str | None,
    task: str,
    detector: Whisper | None,
) -> tuple[str, float, float | None]:
    """The language to decode, how sure it is (1 when given) and the seconds of speech it
    was told from (None when given); raises WrongLanguageError rather than let an
    English-only model guess English words over another language."""
    told = None
    if language is not None:
        confidence = 1.0
    elif whisper.multilingual or detector is not None:
        language, confidence = detect_language(waveform, spans, detector or whisper)
        told = min(WINDOW_S, sum(end - start for start, end in spans))
    else:
        language, confidence = "en", 1.0
    if not whisper.multilingual and (language != "en" or task == "translate"):
        _refuse_english_only(whisper, language, confidence, task)
    return language, confidence, told


def _refuse_english_only(whisper: Whisper, language: str, confidence: float, task: str) -> None:
    """Raise the sentence that says why an English-only model does not do this."""
    model = get_spec(whisper.name).title.split(" (")[0]
    other = get_spec(DEFAULT_MODEL).title
    if task == "translate":
        raise WrongLanguageError(
            f"{model} understands English only and does not translate: choose {other}."
        )
    seems = "is" if confidence >= 1.0 else f"seems to be ({confidence:.0%} sure)"
    raise WrongLanguageError(
        f"This recording {seems} in {language_name(language)}, and {model} understands "
        f"English only: choose {other} to transcribe it."
    )


def _phrases(
    whisper: Whisper,
    waveform: np.ndarray,
    spans: list[tuple[float, float]],
    language: str,
    task: str,
    kept: list[Segment],
) -> Iterator[Segment]:
    """The believable phrases of each window of ``spans`` (s), in order; ``kept`` is the list
    the caller keeps them in (a phrase that repeats the last one is dropped)."""
    for start, end in spans:
        first, last = round(start * SAMPLE_RATE), round(end * SAMPLE_RATE)
        decoded = _decode(whisper, waveform[first:last], language, task, start, end)
        yield from believable(decoded, kept[-1:])


def _decode(
    whisper: Whisper, audio: np.ndarray, language: str, task: str, offset: float, end: float
) -> Iterator[Segment]:
    """The segments Whisper hears in one window of speech, timed from the recording's start.

    Whisper's own guards against invented text are on: a window it finds silent (no-speech
    probability above 0.6 with a mean log probability below -1) gives nothing; text that
    compresses too well (a loop) or is unlikely is decoded again hotter; no conditioning on
    the previous window's text (one bad window must not derail the next); and a hallucination
    over more than 2 s of silence inside the window is skipped.
    """
    pieces, _ = whisper.model.transcribe(
        audio,
        language=language,
        task=task,
        beam_size=BEAM_SIZE,
        temperature=list(TEMPERATURES),
        compression_ratio_threshold=COMPRESSION_RATIO,
        log_prob_threshold=LOW_LOGPROB,
        no_speech_threshold=NO_SPEECH_PROB,
        condition_on_previous_text=False,
        hallucination_silence_threshold=2.0,  # s
        word_timestamps=True,  # also needed by the silence threshold above
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
            min(offset + float(piece.start), end),
            min(offset + float(piece.end), end),
            text,
            words,
            float(piece.avg_logprob),
            float(piece.no_speech_prob),
        )
