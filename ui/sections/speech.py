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
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from analysis.errors import InputError
from analysis.speech.voice import Voice, VoiceSettings, analyse_voice, voice_report
from analysis.speech.whisper import (
    DEFAULT_MODEL,
    WHISPER_MODELS,
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


@st.cache_resource(show_spinner=False)
def _whisper_models() -> dict[str, Whisper]:
    """Whisper models loaded so far, by name: filled on the Whisper jobs' one thread, so that
    loading a model never blocks a page."""
    return {}


def _part(clip, start_s: float, end_s: float) -> np.ndarray:
    """The samples between two times (s): a view, no copy."""
    return clip.samples[:, round(start_s * clip.sample_rate) : round(end_s * clip.sample_rate)]


def _start_transcription(clip, file_key: str, model: str, start_s: float, end_s: float) -> Job:
    samples, loaded = _part(clip, start_s, end_s), _whisper_models()

    def compute(progress: jobs.Progress) -> Transcript:
        if model not in loaded:
            loaded[model] = load_whisper(model)
        transcript = transcribe_audio(
            samples, clip.sample_rate, loaded[model], progress=progress.step
        )
        return transcript.shifted(start_s, clip.duration)

    key = (file_key, "transcript", model, start_s, end_s)
    return jobs.start(key, "whisper", "Transcribing", "s of speech", compute)


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


def _covering(head: tuple, start_s: float, end_s: float) -> Job | None:
    """The job keyed ``(*head, start, end)`` whose range covers ``[start_s, end_s]`` that
    this session should see: one with a result first (a range of a transcribed file needs
    no new job), then one it watches, one that failed, one it stopped, one that runs for
    another session; None if there is none (a job others stopped is not this session's)."""
    found = jobs.board().find(
        lambda key: key[:-2] == head and key[-2] <= start_s + 1e-3 and key[-1] >= end_s - 1e-3
    )
    for wanted in (
        lambda job: job.result is not None,
        lambda job: job.running and jobs.watching(job),
        lambda job: job.failure is not None,
        jobs.stopped_here,
        lambda job: job.running,
    ):
        matching = [job for job in found if wanted(job)]
        if matching:
            return matching[-1]
    return None


def finished_transcript(file_key: str, start_s: float, end_s: float) -> Transcript | None:
    """The transcript already made of ``file_key`` covering ``[start_s, end_s]`` with the
    chosen model, for other views of the page (lanes, subtitles); None if there is none yet.
    Starts nothing."""
    model = st.session_state.get("speech_model", DEFAULT_MODEL)
    job = _covering((file_key, "transcript", model), start_s, end_s)
    return None if job is None else job.result


def finished_voice(file_key: str, start_s: float, end_s: float) -> Voice | None:
    """The pitch and formant tracks already measured of ``file_key`` covering
    ``[start_s, end_s]``, for other views of the page; None if there are none yet."""
    job = _covering((file_key, "voice"), start_s, end_s)
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


def show_speech(
    clip, start_s: float, end_s: float, file_key: str, range_key: str | None = None
) -> None:
    """Render what is said in ``clip`` (an ``AudioClip``) between two times (s).

    ``file_key`` identifies the decoded file (e.g. its content hash): results are kept once
    per file, model and analysed range, and reused for every range inside it.
    ``range_key`` is the session-state key of the page's time-range slider; when given,
    selecting a phrase in the table sets the range to that phrase.
    """
    st.subheader("What is said")
    model = st.selectbox(
        "Speech model",
        WHISPER_MODELS,
        format_func=_model_label,
        key=remember("speech_model", DEFAULT_MODEL),
    )
    start_s, end_s = round(start_s, 3), round(end_s, 3)
    missing = _missing_model(model)
    transcribing = None if missing else _covering((file_key, "transcript", model), start_s, end_s)
    measuring = _covering((file_key, "voice"), start_s, end_s)
    if clip.duration <= AUTO_S:  # short: analyse the whole clip at once, unless stopped here
        whole = (0.0, round(clip.duration, 3))
        if missing is None and _pending(transcribing) and not _stopped(transcribing):
            transcribing = _start_transcription(clip, file_key, model, *_range(transcribing, whole))
        if _pending(measuring) and not _stopped(measuring):
            measuring = _start_voice(clip, file_key, *_range(measuring, whole))
    voice = None if measuring is None else measuring.result
    report = None
    if voice is not None and end_s - start_s <= MAX_REPORT_S:
        report = _start_report(clip, file_key, start_s, end_s)

    if missing:
        st.info(f"Transcription is off. {missing}", icon=":material/download:")
    asked = (transcribing, measuring, report)
    running = [job for job in asked if job is not None and job.running and jobs.watching(job)]
    if running:
        jobs.show_progress(running, key="speech_stop")
    needs_transcript = not missing and _pending(transcribing)
    if (needs_transcript or _pending(measuring)) and not running:
        _start_button(clip, file_key, model, start_s, end_s, transcribing, measuring, missing)
    for job in asked:
        if job is not None and job.failure is not None:
            _say_failure(job)
    if _stopped(transcribing):
        st.caption("Transcription stopped.")

    transcript = None if transcribing is None else transcribing.result
    if transcript is not None:
        table_key = f"speech_segments_{file_key}_{transcript.model}"
        show_transcript(transcript, clip.duration, start_s, end_s, table_key, range_key)
    if transcript is not None or voice is not None:
        show_timeline(transcribing, measuring, start_s, end_s)
    if voice is not None:
        show_voice(voice, None if report is None else report.result, start_s, end_s)
    show_downloads(transcribing, measuring)


def _stopped(job: Job | None) -> bool:
    return job is not None and jobs.stopped_here(job)


def _start_button(
    clip,
    file_key: str,
    model: str,
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
            _start_transcription(clip, file_key, model, *_range(transcribing, selected))
        if _pending(measuring):
            _start_voice(clip, file_key, *_range(measuring, selected))
        st.rerun()  # redraw with the progress
    if clip.duration > AUTO_S:
        st.caption(
            f"Analyses {named}: a minute of speech takes Whisper a few seconds here. "
            "Choose a shorter range above for a quicker look."
        )
