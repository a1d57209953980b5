"""The audio page's "What is said" section: transcript, voice activity, pitch and voice report.

``app_pages/audio.py`` calls :func:`show_speech`. Whisper takes minutes on a long recording
and Praat about a second per minute of sound, so both run as background jobs
(:mod:`ui.jobs`: one Whisper and one Praat computation at a time on the server, keyed by the
file's content, the model and the time range, so identical work is done once for every
session): the page's run ends at once and its controls never wait. While jobs run, a fragment
polls their progress every second and offers Stop, which stops them for this session only;
when they end it reruns the page once, which shows the results and stops the polling.

A clip of up to a minute is analysed as soon as it is opened, like the sound-event tags: that
is a few seconds of work, and what a person who drops in speech expects. A longer recording
waits for a click on "Transcribe" (which analyses the selected range), so that opening an
hour of sound does not occupy the server's cores for minutes unasked. A missing model turns
off the transcript only, with one sentence on how to get it.

The language is detected (or chosen by name); the English translation, when asked for, is a
second Whisper job of the same range. While a long transcription runs, the phrases heard so
far are shown, polled like the progress.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from analysis.errors import InputError
from analysis.filenames import safe_stem
from analysis.speech.languages import by_name, language_name
from analysis.speech.voice import Voice, VoiceSettings, analyse_voice, voice_report
from analysis.speech.whisper import (
    DEFAULT_MODEL,
    WHISPER_MODELS,
    Segment,
    Transcript,
    Whisper,
    load_whisper,
    transcribe_audio,
)
from models.catalog import get_spec
from models.locate import MissingModelError, resolve_files
from ui import jobs
from ui.jobs import Job
from ui.sections.speech_results import (
    MAX_REPORT_S,
    show_downloads,
    show_timeline,
    show_transcript,
    show_voice,
    where,
)
from ui.state import remember

AUTO_S = 60.0  # clips up to this long are analysed when opened: a few seconds of work
REPORT_KEY = "_speech_report_key"  # session state: the key of this session's voice report
AUTO = "auto"  # the language choice that lets the model detect it
SO_FAR = 8  # phrases shown while a long transcription fills in


@st.cache_resource(show_spinner=False)
def _whisper_models() -> dict[str, Whisper]:
    """Whisper models loaded so far, by name: filled on the Whisper jobs' one thread, so that
    loading a model never blocks a page."""
    return {}


@st.cache_resource(show_spinner=False)
def _heard_so_far() -> dict[tuple, list[Segment]]:
    """The phrases each running transcription has decoded so far, by job key."""
    return {}


def _loaded(name: str) -> Whisper:
    """The model ``name``, loaded once per server (call it on a job's thread)."""
    models = _whisper_models()
    if name not in models:
        models[name] = load_whisper(name)
    return models[name]


def _part(clip, start_s: float, end_s: float) -> np.ndarray:
    """The samples between two times (s): a view, no copy."""
    return clip.samples[:, round(start_s * clip.sample_rate) : round(end_s * clip.sample_rate)]


def _transcript_head(file_key: str) -> tuple:
    """The key of this session's transcripts of a file, without their range: the model and
    the language chosen."""
    model = st.session_state.get("speech_model", DEFAULT_MODEL)
    return (file_key, "transcript", model, st.session_state.get("speech_language", AUTO))


def _start_transcription(clip, head: tuple, start_s: float, end_s: float) -> Job:
    samples, (_, _, model, language) = _part(clip, start_s, end_s), head
    key = (*head, start_s, end_s)

    def compute(progress: jobs.Progress) -> Transcript:
        whisper = _loaded(model)
        detector = None
        if not whisper.multilingual and language == AUTO and _missing_model(DEFAULT_MODEL) is None:
            detector = _loaded(DEFAULT_MODEL)  # tells the language, so no English is guessed
        heard = _heard_so_far().setdefault(key, [])
        try:
            transcript = transcribe_audio(
                samples,
                clip.sample_rate,
                whisper,
                language=None if language == AUTO else language,
                detector=detector,
                progress=progress.step,
                heard=heard.append,
            )
        finally:
            _heard_so_far().pop(key, None)
        return transcript.shifted(start_s, clip.duration)

    return jobs.start(key, "whisper", "Transcribing", "s", compute)


def _start_translation(clip, transcript_job: Job) -> Job:
    """Whisper's English translation of what ``transcript_job`` heard, in its language."""
    file_key, _, model, _, start_s, end_s = transcript_job.key
    language = transcript_job.result.language
    samples = _part(clip, start_s, end_s)

    def compute(progress: jobs.Progress) -> Transcript:
        translation = transcribe_audio(
            samples,
            clip.sample_rate,
            _loaded(model),
            language=language,
            task="translate",
            progress=progress.step,
        )
        return translation.shifted(start_s, clip.duration)

    key = (file_key, "translation", model, language, start_s, end_s)
    return jobs.start(key, "whisper", "Translating to English", "s", compute)


def _start_voice(clip, file_key: str, start_s: float, end_s: float) -> Job:
    """Praat's pitch, intensity and formants of the range's speech (none for other sounds),
    with the pitch range adapted to the speaker."""
    samples = _part(clip, start_s, end_s)

    def compute(progress: jobs.Progress) -> Voice:
        return analyse_voice(samples, clip.sample_rate, progress=progress.step).shifted(start_s)

    key = (file_key, "voice", start_s, end_s)
    return jobs.start(key, "praat", "Measuring pitch and formants", "s", compute)


def _start_report(clip, file_key: str, start_s: float, end_s: float) -> Job | None:
    """The voice report of the speech in exactly the selected range, over the speaker's pitch
    range that the pitch measures found; None when the range holds no voiced speech. This
    session's previous report, whose range is no longer shown, is stopped for this session."""
    key = (file_key, "report", start_s, end_s)
    previous = st.session_state.get(REPORT_KEY)
    if previous is not None and previous != key and (job := jobs.board().get(previous)):
        jobs.stop([job])
    voice = finished_voice(file_key, start_s, end_s)
    part = None if voice is None else voice.between(start_s, end_s)
    if part is None or not np.isfinite(part.f0_hz).any():
        st.session_state[REPORT_KEY] = None
        return None
    st.session_state[REPORT_KEY] = key
    samples = _part(clip, start_s, end_s)
    settings = VoiceSettings().with_range(voice.pitch_floor_hz, voice.pitch_ceiling_hz)
    speech_s = part.speech_s - start_s  # the report's times count from the range's start
    return jobs.start(
        key,
        "praat",
        "Measuring jitter, shimmer and harmonics-to-noise",
        "s",
        lambda progress: voice_report(samples, clip.sample_rate, settings, speech_s),
    )


def finished_transcript(file_key: str, start_s: float, end_s: float) -> Transcript | None:
    """The transcript already made of ``file_key`` covering ``[start_s, end_s]`` with the
    chosen model and language, for other views of the page (lanes, subtitles); None if there
    is none yet. Starts nothing."""
    job = jobs.covering(_transcript_head(file_key), start_s, end_s)
    return None if job is None else job.result


def finished_voice(file_key: str, start_s: float, end_s: float) -> Voice | None:
    """The pitch and formant tracks already measured of ``file_key`` covering
    ``[start_s, end_s]``, for other views of the page; None if there are none yet."""
    job = jobs.covering((file_key, "voice"), start_s, end_s)
    return None if job is None else job.result


def _pending(job: Job | None) -> bool:
    """Whether this session has yet to ask for the work: it has no result, no failure, and
    no watched run of it (none, stopped here, or running for another session only)."""
    if job is None:
        return True
    return job.result is None and job.failure is None and not (job.running and jobs.watching(job))


def _range(job: Job | None, default: tuple[float, float]) -> tuple[float, float]:
    """The range to start: that of ``job`` if it still runs (joining it computes nothing
    twice), else ``default``."""
    return job.key[-2:] if job is not None and job.running else default


def _missing_model(name: str) -> str | None:
    """Why the Whisper model ``name`` cannot run, with how to get it; None when it can."""
    try:
        resolve_files(get_spec(name))
    except MissingModelError as error:
        return str(error)
    return None


def _say_failure(job: Job) -> None:
    """One sentence on why ``job`` has no result."""
    error = job.failure
    if isinstance(error, MissingModelError):
        st.info(f"Transcription is off. {error}", icon=":material/download:")
    elif isinstance(error, InputError):
        st.info(str(error))
    else:
        st.error(f"{job.what} failed on this file; the rest of the page still works.")


def _model_label(name: str) -> str:
    return get_spec(name).title


def _language_label(code: str) -> str:
    return "Detect automatically" if code == AUTO else language_name(code)


def _controls() -> tuple[str, bool]:
    """The model, the language and whether to translate, side by side; the model chosen and
    whether an English translation is asked for."""
    model_column, language_column, translate_column = st.columns(
        [3, 2, 2], vertical_alignment="bottom"
    )
    model = model_column.selectbox(
        "Speech model",
        WHISPER_MODELS,
        format_func=_model_label,
        index=WHISPER_MODELS.index(DEFAULT_MODEL),
        key=remember("speech_model", DEFAULT_MODEL),
    )
    language_column.selectbox(
        "Language",
        (AUTO, *by_name()),
        format_func=_language_label,
        key=remember("speech_language", AUTO),
        help="Whisper tells the language from the first 30 s of speech; choose it if the "
        "detection is wrong or unsure.",
    )
    translate = translate_column.toggle(
        "English translation",
        key=remember("speech_translate", False),
        help="Whisper's translation to English, beside the original.",
    )
    return model, translate


def _translation(clip, transcribing: Job | None, translate: bool) -> Job | None:
    """The translation job of a finished transcript, when asked for and possible; else None
    (and a caption says why not)."""
    transcript = None if transcribing is None else transcribing.result
    if not translate or transcript is None or not transcript.segments:
        return None
    if transcript.model.endswith(".en"):
        st.caption("English-only models do not translate: choose a multilingual model.")
        return None
    if transcript.language == "en":
        st.caption("The speech is in English already: nothing to translate.")
        return None
    file_key, _, model, _, start_s, end_s = transcribing.key
    job = jobs.board().get((file_key, "translation", model, transcript.language, start_s, end_s))
    stopped = job is not None and _stopped(job)  # then asked again with a click, not each run
    if stopped and not st.button("Translate to English", key="speech_translate_again"):
        st.caption("Translation stopped.")
        return None
    return _start_translation(clip, transcribing)


def show_speech(
    clip,
    start_s: float,
    end_s: float,
    file_key: str,
    range_key: str | None = None,
    source_name: str | None = None,
) -> Transcript | None:
    """Render what is said in ``clip`` (an ``AudioClip``) between two times (s); return the
    transcript shown (of the whole analysed range), or None.

    ``file_key`` identifies the decoded file (e.g. its content hash): results are kept once
    per file, model, language and analysed range, and reused for every range inside it.
    ``range_key`` is the session-state key of the page's time-range slider; when given,
    selecting a phrase in the table sets the range to that phrase. ``source_name``, the
    uploaded file's name, names the downloads (``interview-transcript.srt``).
    """
    st.subheader("What is said")
    model, translate = _controls()
    head = _transcript_head(file_key)
    start_s, end_s = round(start_s, 3), round(end_s, 3)
    missing = _missing_model(model)
    transcribing = None if missing else jobs.covering(head, start_s, end_s)
    measuring = jobs.covering((file_key, "voice"), start_s, end_s)
    if clip.duration <= AUTO_S:  # short: analyse the whole clip at once, unless stopped here
        whole = (0.0, round(clip.duration, 3))
        if missing is None and _pending(transcribing) and not _stopped(transcribing):
            transcribing = _start_transcription(clip, head, *_range(transcribing, whole))
        if _pending(measuring) and not _stopped(measuring):
            measuring = _start_voice(clip, file_key, *_range(measuring, whole))
    voice = None if measuring is None else measuring.result
    report = None
    if voice is not None and end_s - start_s <= MAX_REPORT_S:
        report = _start_report(clip, file_key, start_s, end_s)
    translating = _translation(clip, transcribing, translate)

    if missing:
        st.info(f"Transcription is off. {missing}", icon=":material/download:")
    asked = (transcribing, translating, measuring, report)
    running = [job for job in asked if job is not None and job.running and jobs.watching(job)]
    if running:
        jobs.show_progress(running, key="speech_stop")
        if transcribing in running:
            _show_so_far(transcribing.key)
    needs_transcript = not missing and _pending(transcribing)
    if (needs_transcript or _pending(measuring)) and not running:
        _start_button(clip, head, start_s, end_s, transcribing, measuring, missing)
    for job in asked:
        if job is not None and job.failure is not None:
            _say_failure(job)
    if _stopped(transcribing):
        st.caption("Transcription stopped.")

    transcript = None if transcribing is None else transcribing.result
    translation = None if translating is None else translating.result
    if transcript is not None:
        table_key = f"speech_segments_{file_key}_{transcript.model}"
        show_transcript(
            transcript, clip.duration, start_s, end_s, table_key, range_key, translation
        )
    if transcript is not None or voice is not None:
        show_timeline(transcribing, measuring, start_s, end_s)
    if voice is not None:
        show_voice(voice, None if report is None else report.result, start_s, end_s)
    stem = safe_stem(source_name or "", default="recording")
    show_downloads(transcribing, measuring, stem, translating)
    return transcript


@st.fragment(run_every=jobs.POLL_S)
def _show_so_far(key: tuple) -> None:
    """The last phrases a running transcription has heard, so that a long file fills in."""
    heard = list(_heard_so_far().get(key, ()))
    if heard:
        st.caption(f"Heard so far, up to {heard[-1].end:.0f} s:")
        st.text(" ".join(segment.text for segment in heard[-SO_FAR:]))


def _stopped(job: Job | None) -> bool:
    return job is not None and jobs.stopped_here(job)


def _start_button(
    clip,
    head: tuple,
    start_s: float,
    end_s: float,
    transcribing: Job | None,
    measuring: Job | None,
    missing: str | None,
) -> None:
    """ "Transcribe" (or "Measure pitch and formants") for the selected range: what is not
    asked for yet starts, or joins the run that covers it for another session."""
    transcribe = not missing and _pending(transcribing)
    _, named = where(clip.duration, start_s, end_s)
    if st.button(
        "Transcribe" if transcribe else "Measure pitch and formants",
        key="speech_start",
        icon=":material/play_arrow:",
        help=f"Analyse {named} in the background; the page keeps working meanwhile.",
    ):
        selected = (start_s, end_s)
        if transcribe:
            _start_transcription(clip, head, *_range(transcribing, selected))
        if _pending(measuring):
            _start_voice(clip, head[0], *_range(measuring, selected))
        st.rerun()  # redraw with the progress
    if clip.duration > AUTO_S:
        st.caption(
            f"Analyses {named}: a minute of speech takes Whisper a few seconds here. "
            "Choose a shorter range above for a quicker look."
        )
