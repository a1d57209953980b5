"""What the speech section shows once its jobs are done: the transcript and its phrases, the
words-and-pitch timeline, Praat's measures and the downloads (see ``ui/sections/speech.py``)."""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import streamlit as st

from analysis.speech.languages import language_name
from analysis.speech.plot import render_speech_timeline
from analysis.speech.subtitles import to_srt, to_textgrid, to_txt, to_vtt, voice_csv, words_csv
from analysis.speech.transcript import heard_language, nothing_heard
from analysis.speech.trust import DOUBTFUL_WORD
from analysis.speech.voice import Voice, VoiceReport, VoiceSettings
from analysis.speech.whisper import Transcript
from analysis.wording import plural
from ui import device
from ui.jobs import Job

MAX_REPORT_S = 60.0  # Praat's voice report takes about 4 s per minute of sound here
PHONE_ROW_PX = 80  # above 4 rem Streamlit's table wraps text: three lines of a phrase
TRANSCRIPT_FILES = {  # download: (label, file name after the source's stem, MIME type)
    "txt": ("Transcript (TXT)", "transcript.txt", "text/plain"),
    "srt": ("Subtitles (SRT)", "transcript.srt", "application/x-subrip"),
    "vtt": ("Subtitles (WebVTT)", "transcript.vtt", "text/vtt"),
    "csv": ("Words (CSV)", "words.csv", "text/csv"),
    "TextGrid": ("Praat TextGrid", "transcript.TextGrid", "text/plain"),
}
# Every ASCII punctuation mark: backslash-escaped, none can start markup (CommonMark).
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")


def escaped(text: str) -> str:
    """``text`` shown as written by ``st.markdown``: no markup, link, colour or formula."""
    return _MARKUP.sub(r"\\\1", text)


def marked_words(transcript: Transcript) -> str:
    """The transcript as markdown, each word Whisper is less than :data:`DOUBTFUL_WORD` sure
    of in orange (a phrase with no word times as it is)."""
    phrases = []
    for segment in transcript.segments:
        if not segment.words:
            phrases.append(escaped(segment.text))
            continue
        phrases.append(
            "".join(
                f" :orange[{escaped(w.word.strip())}]"
                if w.probability < DOUBTFUL_WORD
                else escaped(w.word)
                for w in segment.words
            ).strip()
        )
    return " ".join(phrases)


def where(duration_s: float, start_s: float, end_s: float) -> tuple[bool, str]:
    """Whether ``[start_s, end_s]`` is the whole recording, and how to name it in a sentence."""
    whole_file = start_s <= 0 and end_s >= duration_s - 1e-3  # the slider rounds to ms
    return whole_file, "the whole file" if whole_file else f"{start_s:.2f} s to {end_s:.2f} s"


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


def show_transcript(
    transcript: Transcript,
    duration_s: float,
    start_s: float,
    end_s: float,
    table_key: str,
    range_key: str | None,
    translation: Transcript | None = None,
) -> None:
    """What Whisper heard in the range (beside its English ``translation``, if given), and
    every phrase of the recording in a table with Whisper's confidence; with ``range_key``
    (the page's range slider), selecting a phrase sets the range to it."""
    in_range = transcript.between(start_s, end_s)
    whole_file, named = where(duration_s, start_s, end_s)
    if not in_range.segments:
        st.info(nothing_heard(transcript, start_s, end_s, "" if whole_file else named))
        return
    speaking = in_range.speaking_time(start_s, end_s)
    st.markdown(
        f"Whisper heard **{plural(in_range.word_count, 'word')}** in {named}, with "
        f"**{speaking:.1f} s of speech** out of {end_s - start_s:.1f} s."
    )
    say_language(transcript)
    if translation is None:
        show_words(in_range)
    else:
        original, english = st.columns(2)
        with original:
            st.caption(f"Said, in {language_name(transcript.language)}")
            show_words(in_range)
        with english:
            st.caption("In English (Whisper's translation)")
            st.text(translation.between(start_s, end_s).text or "–")
    rows = {
        "Start (s)": [round(s.start, 2) for s in transcript.segments],
        "End (s)": [round(s.end, 2) for s in transcript.segments],
        "Said": [s.text for s in transcript.segments],
        "Sure": [round(100 * s.confidence) for s in transcript.segments],
    }
    table, said_width = {"hide_index": True}, "large"
    if device.is_phone():  # no room for a cut phrase beside four columns: wrap it instead
        del rows["End (s)"]
        table["row_height"] = PHONE_ROW_PX
        said_width = "medium"  # the screen's width, so the phrase wraps and Sure stays in view
    config = {
        "Said": st.column_config.TextColumn("Said", width=said_width),
        "Sure": st.column_config.ProgressColumn(
            "Sure",
            help="Whisper's mean confidence in the phrase's words",
            format="%d %%",
            min_value=0,
            max_value=100,
        ),
    }
    if range_key is None:
        st.dataframe(rows, column_config=config, **table)
        return
    st.dataframe(
        rows,
        column_config=config,
        **table,
        key=table_key,
        on_select=functools.partial(select_segment, transcript, table_key, range_key, duration_s),
        selection_mode="single-row",
    )
    st.caption("Select a phrase to look at and play just that part.")


def say_language(transcript: Transcript) -> None:
    """The language heard and how sure; a warning when the detection is a guess."""
    if transcript.unsure_language:
        st.warning(heard_language(transcript), icon=":material/translate:")
    else:
        st.caption(heard_language(transcript))


def show_words(transcript: Transcript) -> None:
    """The words, those Whisper doubts in orange (explained when there are any)."""
    st.markdown(marked_words(transcript))
    if any(w.probability < DOUBTFUL_WORD for w in transcript.words):
        st.caption(
            f"Words in orange: Whisper is less than {DOUBTFUL_WORD:.0%} sure of them; "
            "listen before you quote them."
        )


def select_segment(
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


def show_timeline(
    transcribing: Job | None, measuring: Job | None, start_s: float, end_s: float
) -> None:
    """The words over the pitch and intensity of the range, from whichever job has a result."""
    transcript = None if transcribing is None else transcribing.result
    voice = None if measuring is None else measuring.result
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


def show_voice(voice: Voice, report: VoiceReport | None, start_s: float, end_s: float) -> None:
    """Praat's pitch, formants and (for at most a minute) voice report of the range's voiced
    speech; one sentence instead when there is none."""
    part = voice.between(start_s, end_s)
    summary = part.summary()
    if summary["median_hz"] is None:
        st.caption(_no_voice(part))
        return
    voiced = np.isfinite(part.f0_hz)
    formants = np.nanmedian(part.formants_hz[voiced], axis=0)
    measures = {
        "Median pitch": f"{summary['median_hz']:.0f} Hz",
        "Pitch range (5th–95th percentile)": f"{summary['p5_hz']:.0f}–{summary['p95_hz']:.0f} Hz",
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
    st.caption(_how_measured(part, summary, end_s - start_s))


def _no_voice(part: Voice) -> str:
    """Why a range has no voice measures, in one sentence."""
    if not part.has_speech:
        return (
            "No voice found: pitch, formants and the voice report are measured on speech "
            "only, and the speech detector hears none here."
        )
    return "No voiced speech here (whispered or too short): no pitch or formants to show."


def _how_measured(part: Voice, summary: dict, range_s: float) -> str:
    """The caption under the measures: on what, and over which pitch range, Praat measured."""
    first = VoiceSettings()  # the first pass's range
    note = (
        f"Measured by Praat on the {summary['speech_s']:.1f} s of speech in the range only. "
        f"Pitch by autocorrelation, searched between {part.pitch_floor_hz:.0f} and "
        f"{part.pitch_ceiling_hz:.0f} Hz: this speaker's range, found in a first pass over "
        f"{first.pitch_floor_hz:.0f}–{first.pitch_ceiling_hz:.0f} Hz, so octave errors stay "
        "out. Formants by Burg's method."
    )
    if range_s > MAX_REPORT_S:
        note += " Select at most a minute to see jitter, shimmer and harmonics-to-noise."
    return note


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f} %"


def show_downloads(
    transcribing: Job | None,
    measuring: Job | None,
    stem: str = "recording",
    translating: Job | None = None,
) -> None:
    """The transcript as text, subtitles, words and a TextGrid, its English translation as
    subtitles, and the pitch track as CSV; files named after ``stem`` (the source's name),
    e.g. ``interview-transcript.srt``."""
    transcript = None if transcribing is None else transcribing.result
    translation = None if translating is None else translating.result
    voice = None if measuring is None else measuring.result
    # A row of buttons as wide as their labels, wrapping: in seven equal columns "Subtitles
    # (WebVTT)" and "Pitch & formants (CSV)" were cut short.
    row = st.container(horizontal=True)
    if transcript is not None and transcript.segments:
        files = _downloads(transcribing.key, transcript)
        for kind, (label, name, mime) in TRANSCRIPT_FILES.items():
            row.download_button(
                label,
                files[kind],
                file_name=f"{stem}-{name}",
                mime=mime,
                key=f"speech_download_{kind}",
            )
    if translation is not None and translation.segments:
        row.download_button(
            "English subtitles (SRT)",
            _downloads(translating.key, translation)["srt"],
            file_name=f"{stem}-translation-en.srt",
            mime="application/x-subrip",
            key="speech_download_translation",
        )
    if voice is not None:
        row.download_button(
            "Pitch & formants (CSV)",
            _voice_csv(measuring.key, voice),
            file_name=f"{stem}-pitch.csv",
            mime="text/csv",
            key="speech_download_pitch",
        )
