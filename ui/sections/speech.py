"""The audio page's "What is said" section: transcript, voice activity, pitch and voice report.

``pages/audio.py`` calls :func:`show_speech`. Whisper takes minutes on a long recording and
Praat about a second per minute of sound, so both run in background threads of the server
(one Whisper job and one Praat job at a time, shared by every session, keyed by the file's
content, the model and the time range): the page's run ends at once and its controls never
wait. While jobs run, a fragment polls their progress every second and offers Stop;
when they end it reruns the page once, which shows the results and stops the polling.

A clip of up to a minute is analysed as soon as it is opened, like the sound-event tags: that
is a few seconds of work, and what a person who drops in speech expects. A longer recording
waits for a click on "Transcribe" (which analyses the selected range), so that opening an
hour of sound does not occupy the server's cores for minutes unasked. A missing model turns
off the transcript only, with one sentence on how to get it.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import streamlit as st

from analysis.errors import InputError
from analysis.speech.plot import render_speech_timeline
from analysis.speech.subtitles import to_srt, to_textgrid, to_txt, to_vtt, voice_csv, words_csv
from analysis.speech.voice import Voice, VoiceReport, analyse_voice, voice_report
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
from ui.state import remember

LOG = logging.getLogger(__name__)
AUTO_S = 60.0  # clips up to this long are analysed when opened: a few seconds of work
MAX_REPORT_S = 60.0  # Praat's voice report takes about 4 s per minute of sound here
POLL_S = 1.0  # s between progress updates; Whisper reports once per 30 s window anyway
MAX_JOBS = 24  # finished jobs kept (transcripts are small; a 30-minute Voice is ~9 MB)
NO_SPEECH = "No speech found."


class Stopped(Exception):
    """Raised in a job's thread at its next progress report after Stop was pressed."""


@dataclass
class Job:
    """One background computation: its progress, and its result or why there is none."""

    what: str  # "Transcribing", shown with the progress and in a failure's sentence
    unit: str  # what the progress counts, e.g. "s of speech"
    key: tuple = ()  # set when started: (file_key, kind, ..., start_s, end_s)
    future: Future | None = None
    done: float = 0.0
    total: float = 0.0
    failure: Exception | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, compute: Callable[[Callable[[float, float], None]], object]) -> object:
        try:
            return compute(self.progress)
        except Stopped:
            return None
        except Exception as error:  # shown on the page as one sentence
            if not isinstance(error, MissingModelError | InputError):
                LOG.exception("%s failed", self.what)
            self.failure = error
            return None

    def progress(self, done: float, total: float) -> None:
        if self.stop.is_set():
            raise Stopped
        self.done, self.total = done, total

    @property
    def running(self) -> bool:
        return not self.future.done()

    @property
    def result(self):
        """The computation's result; None while running, or if it failed or was stopped."""
        if not self.future.done() or self.future.cancelled():
            return None
        return self.future.result()

    @property
    def stopped(self) -> bool:
        """Ended with no result and no failure: stopped, or cancelled before it began."""
        return not self.running and self.result is None and self.failure is None

    def status(self) -> tuple[float, str]:
        """Fraction done and the sentence to show beside it."""
        if not self.future.running():
            return 0.0, f"{self.what}: waiting for its turn (one at a time on this server)…"
        if self.total <= 0:
            return 0.0, f"{self.what}…"
        return (
            min(self.done / self.total, 1.0),
            f"{self.what}… {self.done:.0f} of {self.total:.0f} {self.unit}",
        )


class Jobs:
    """The server's background jobs: one Whisper and one Praat computation at a time."""

    def __init__(self) -> None:
        self.pools = {
            "whisper": ThreadPoolExecutor(1, thread_name_prefix="percept-whisper"),
            "praat": ThreadPoolExecutor(1, thread_name_prefix="percept-praat"),
        }
        self._jobs: OrderedDict[tuple, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._models: dict[str, Whisper] = {}

    def start(self, key: tuple, pool: str, job: Job, compute: Callable) -> Job:
        """Run ``compute(progress)`` as ``job`` under ``key``, unless it is already running."""
        with self._lock:
            running = self._jobs.get(key)
            if running is not None and running.running:
                return running
            job.key = key
            job.future = self.pools[pool].submit(job.run, compute)
            self._jobs[key] = job
            self._jobs.move_to_end(key)
            finished = [k for k, j in self._jobs.items() if not j.running]
            for old in finished[: max(0, len(self._jobs) - MAX_JOBS)]:
                del self._jobs[old]
        return job

    def get(self, key: tuple) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def find(self, head: tuple, start_s: float, end_s: float) -> Job | None:
        """The job keyed ``(*head, start, end)`` whose range covers ``[start_s, end_s]``.

        A finished one first (a range of a transcribed file needs no new job), then a
        running one, then one that failed or was stopped; None if there is none.
        """
        with self._lock:
            covering = [
                job
                for key, job in self._jobs.items()
                if key[:-2] == head and key[-2] <= start_s + 1e-3 and key[-1] >= end_s - 1e-3
            ]
        for wanted in (lambda j: j.result is not None, lambda j: j.running, lambda j: True):
            found = [job for job in covering if wanted(job)]
            if found:
                return found[-1]
        return None

    def whisper(self, name: str) -> Whisper:
        """The loaded model ``name`` (called in the Whisper thread, so loading never blocks)."""
        with self._lock:
            model = self._models.get(name)
        if model is None:
            model = load_whisper(name)
            with self._lock:
                self._models[name] = model
        return model


@st.cache_resource(show_spinner=False)
def _jobs() -> Jobs:
    return Jobs()


def _shifted_transcript(transcript: Transcript, offset_s: float, duration_s: float) -> Transcript:
    """A range's transcript with its times counted from the recording's start."""

    def move(segment: Segment) -> Segment:
        words = tuple(
            replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in segment.words
        )
        return Segment(segment.start + offset_s, segment.end + offset_s, segment.text, words)

    return replace(
        transcript,
        duration_s=duration_s,
        segments=tuple(move(segment) for segment in transcript.segments),
        speech_regions=transcript.speech_regions + offset_s,
    )


def _part(clip, start_s: float, end_s: float) -> np.ndarray:
    """The samples between two times (s): a view, no copy."""
    return clip.samples[:, round(start_s * clip.sample_rate) : round(end_s * clip.sample_rate)]


def _start_transcription(clip, file_key: str, model: str, start_s: float, end_s: float) -> Job:
    jobs, samples = _jobs(), _part(clip, start_s, end_s)

    def compute(progress) -> Transcript:
        transcript = transcribe_audio(
            samples, clip.sample_rate, jobs.whisper(model), progress=progress
        )
        return _shifted_transcript(transcript, start_s, clip.duration)

    job = Job("Transcribing", "s of speech")
    return jobs.start((file_key, "transcript", model, start_s, end_s), "whisper", job, compute)


def _start_voice(clip, file_key: str, start_s: float, end_s: float) -> Job:
    samples = _part(clip, start_s, end_s)

    def compute(progress) -> Voice:
        voice = analyse_voice(samples, clip.sample_rate, progress=progress)
        return replace(voice, times=voice.times + start_s)

    job = Job("Measuring pitch and formants", "s")
    return _jobs().start((file_key, "voice", start_s, end_s), "praat", job, compute)


def _start_report(clip, file_key: str, start_s: float, end_s: float) -> Job:
    """The voice report of exactly the selected range; this session's previous one is dropped."""
    key = (file_key, "report", start_s, end_s)
    jobs = _jobs()
    job = jobs.get(key)
    if job is not None and not job.stopped:
        return job
    previous = st.session_state.get("_speech_report_job")
    if previous is not None:
        previous.future.cancel()  # only if it has not begun: its range is no longer shown
    samples = _part(clip, start_s, end_s)
    job = jobs.start(
        key,
        "praat",
        Job("Measuring jitter, shimmer and harmonics-to-noise", "s"),
        lambda progress: voice_report(samples, clip.sample_rate),
    )
    st.session_state["_speech_report_job"] = job
    return job


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


@st.cache_data(show_spinner=False, max_entries=32)
def _timeline(keys: tuple, _transcript, _voice, start_s: float, end_s: float) -> bytes:
    """The timeline PNG of a range (``_transcript`` and ``_voice`` are named by their job keys)."""
    return render_speech_timeline(_transcript, _voice, start_s, end_s)


@st.cache_data(show_spinner=False, max_entries=16)
def _downloads(key: tuple, _transcript: Transcript) -> dict[str, str]:
    return {
        "txt": to_txt(_transcript),
        "srt": to_srt(_transcript),
        "vtt": to_vtt(_transcript),
        "csv": words_csv(_transcript),
        "TextGrid": to_textgrid(_transcript),
    }


@st.cache_data(show_spinner=False, max_entries=16)
def _voice_csv(key: tuple, _voice: Voice) -> str:
    return voice_csv(_voice)


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
    jobs = _jobs()
    missing = _missing_model(model)
    transcribing = None if missing else jobs.find((file_key, "transcript", model), start_s, end_s)
    measuring = jobs.find((file_key, "voice"), start_s, end_s)
    if clip.duration <= AUTO_S:  # short: analyse the whole clip at once, unless stopped
        whole = (0.0, round(clip.duration, 3))
        if transcribing is None and missing is None:
            transcribing = _start_transcription(clip, file_key, model, *whole)
        if measuring is None:
            measuring = _start_voice(clip, file_key, *whole)
    voice = None if measuring is None else measuring.result
    report = None
    if voice is not None and end_s - start_s <= MAX_REPORT_S:
        report = _start_report(clip, file_key, start_s, end_s)

    if missing:
        st.info(f"Transcription is off. {missing}", icon=":material/download:")
    running = [job for job in (transcribing, measuring, report) if job and job.running]
    if running:
        _progress(running)
    needs_transcript = not missing and (transcribing is None or transcribing.stopped)
    needs_voice = measuring is None or measuring.stopped
    if (needs_transcript or needs_voice) and not running:
        _start_button(clip, file_key, model, start_s, end_s, needs_transcript, needs_voice)
    for job in (transcribing, measuring, report):
        if job is not None and job.failure is not None:
            _say_failure(job)
    if transcribing is not None and transcribing.stopped:
        st.caption("Transcription stopped.")

    transcript = None if transcribing is None else transcribing.result
    if transcript is not None:
        _show_transcript(transcript, clip, start_s, end_s, file_key, range_key)
    if transcript is not None or voice is not None:
        keys = (
            None if transcript is None else transcribing.key,
            None if voice is None else measuring.key,
        )
        st.image(_timeline(keys, transcript, voice, start_s, end_s))
        st.caption(
            "Words at the time they are spoken over the pitch of the voice (dots, Hz, "
            "log scale) and its intensity (grey line, dB re full scale); the tinted bands "
            "are where the voice-activity detector hears speech."
        )
    if voice is not None:
        _show_voice(voice, None if report is None else report.result, start_s, end_s)
    _show_downloads(transcribing, measuring)


@st.fragment(run_every=POLL_S)
def _progress(jobs: list[Job]) -> None:
    """The running jobs' progress, redrawn every POLL_S s; the page reruns as each one ends."""
    if not all(job.running for job in jobs):
        st.rerun()  # the whole page: it shows the result, and polls only what still runs
    for job in jobs:
        fraction, text = job.status()
        st.progress(fraction, text=text)
    st.button("Stop", key="speech_stop", icon=":material/stop:", on_click=_stop, args=(jobs,))


def _stop(jobs: list[Job]) -> None:
    for job in jobs:
        job.stop.set()
        job.future.cancel()  # a job still waiting for its turn never starts


def _start_button(
    clip,
    file_key: str,
    model: str,
    start_s: float,
    end_s: float,
    transcribe: bool,
    measure: bool,
) -> None:
    whole_file = start_s <= 0 and end_s >= clip.duration - 1e-3
    where = "the whole file" if whole_file else f"{start_s:.2f} s to {end_s:.2f} s"
    if st.button(
        "Transcribe" if transcribe else "Measure pitch and formants",
        key="speech_start",
        icon=":material/play_arrow:",
        help=f"Analyse {where} in the background; the page keeps working meanwhile.",
    ):
        if transcribe:
            _start_transcription(clip, file_key, model, start_s, end_s)
        if measure:
            _start_voice(clip, file_key, start_s, end_s)
        st.rerun()  # redraw with the progress
    if clip.duration > AUTO_S:
        st.caption(
            f"Analyses {where}: a minute of speech takes Whisper a few seconds here. "
            "Choose a shorter range above for a quicker look."
        )


def _show_transcript(
    transcript: Transcript,
    clip,
    start_s: float,
    end_s: float,
    file_key: str,
    range_key: str | None,
) -> None:
    in_range = transcript.between(start_s, end_s)
    whole_file = start_s <= 0 and end_s >= clip.duration - 1e-3  # the slider rounds to ms
    where = "the whole file" if whole_file else f"{start_s:.2f} s to {end_s:.2f} s"
    speaking = in_range.speaking_time(start_s, end_s)
    if not in_range.segments:
        st.info(f"{NO_SPEECH[:-1]} in {where}." if not whole_file else NO_SPEECH)
        return
    language = ""
    if transcript.language_probability < 1.0:  # detected, not given
        language = (
            f" Language detected: **{transcript.language}** "
            f"({transcript.language_probability:.0%} sure)."
        )
    st.markdown(
        f"Whisper heard **{len(in_range.words)} words** in {where}, with "
        f"**{speaking:.1f} s of speech** out of {end_s - start_s:.1f} s.{language}"
    )
    st.text(in_range.text)  # text, not markdown: Whisper's words could contain markup
    rows = {
        "Start (s)": [round(s.start, 2) for s in transcript.segments],
        "End (s)": [round(s.end, 2) for s in transcript.segments],
        "Said": [s.text for s in transcript.segments],
    }
    if range_key is None:
        st.dataframe(rows, hide_index=True)
        return
    table_key = f"speech_segments_{file_key}_{transcript.model}"
    st.dataframe(
        rows,
        hide_index=True,
        key=table_key,
        on_select=functools.partial(
            _select_segment, transcript, table_key, range_key, clip.duration
        ),
        selection_mode="single-row",
    )
    st.caption("Select a phrase to look at and play just that part.")


def _select_segment(
    transcript: Transcript, table_key: str, range_key: str, duration_s: float
) -> None:
    """Set the page's time range to the selected phrase (a table's ``on_select``)."""
    rows = st.session_state[table_key].selection.rows
    if not rows:
        return
    segment = transcript.segments[rows[0]]
    end = round(duration_s, 3)
    st.session_state[range_key] = (
        max(0.0, math.floor(segment.start * 1000) / 1000),
        min(end, math.ceil(segment.end * 1000) / 1000),
    )


def _show_voice(voice: Voice, report: VoiceReport | None, start_s: float, end_s: float) -> None:
    part = voice.between(start_s, end_s)
    summary = part.summary()
    if summary["median_hz"] is None:
        st.caption("No voiced sound in this range: no pitch or formants to show.")
        return
    voiced = np.isfinite(part.f0_hz)
    formants = np.nanmedian(part.formants_hz[voiced], axis=0)
    measures = {
        "Median pitch": f"{summary['median_hz']:.0f} Hz",
        "Pitch range": f"{summary['min_hz']:.0f}–{summary['max_hz']:.0f} Hz",
        "Voiced": f"{summary['voiced_fraction']:.0%} of the range",
        **{
            f"F{k + 1} (median)": "–" if math.isnan(f) else f"{f:.0f} Hz"
            for k, f in enumerate(formants)
        },
    }
    if report is not None:
        measures |= {
            "Jitter (local)": _percent(report.jitter_percent),
            "Shimmer (local)": _percent(report.shimmer_percent),
            "Harmonics-to-noise": "–" if math.isnan(report.hnr_db) else f"{report.hnr_db:.1f} dB",
        }
    st.dataframe(
        {"Measure": list(measures), "Value": list(measures.values())},
        hide_index=True,
    )
    note = "Measured by Praat: pitch by autocorrelation, formants by Burg's method."
    if end_s - start_s > MAX_REPORT_S:
        note += " Select at most a minute to see jitter, shimmer and harmonics-to-noise."
    st.caption(note)


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f} %"


def _show_downloads(transcribing: Job | None, measuring: Job | None) -> None:
    transcript = None if transcribing is None else transcribing.result
    voice = None if measuring is None else measuring.result
    buttons = st.columns(6)
    if transcript is not None and transcript.segments:
        files = _downloads(transcribing.key, transcript)
        labels = {
            "txt": ("Transcript (TXT)", "transcript.txt", "text/plain"),
            "srt": ("Subtitles (SRT)", "transcript.srt", "application/x-subrip"),
            "vtt": ("Subtitles (WebVTT)", "transcript.vtt", "text/vtt"),
            "csv": ("Words (CSV)", "words.csv", "text/csv"),
            "TextGrid": ("Praat TextGrid", "transcript.TextGrid", "text/plain"),
        }
        for column, (kind, (label, name, mime)) in zip(buttons, labels.items(), strict=False):
            column.download_button(
                label, files[kind], file_name=name, mime=mime, key=f"speech_download_{kind}"
            )
    if voice is not None:
        buttons[5].download_button(
            "Pitch & formants (CSV)",
            _voice_csv(measuring.key, voice),
            file_name="pitch.csv",
            mime="text/csv",
            key="speech_download_pitch",
        )
