"""The audio page's "What is said" section, driven through AppTest.

Transcription and Praat run in background threads: a test waits for the jobs (with a
timeout, never a sleep) and reruns the script, as the section's polling fragment does.
"""

from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import wait
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile
import streamlit as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import models.locate
import ui.device
import ui.jobs
import ui.sections.speech
import ui.sections.speech_results
import ui.sections.tags
from analysis.speech.whisper import Segment, Transcript, Word
from models.catalog import get_spec
from tests.analysis.speech.test_whisper import make_transcript
from tests.conftest import require_model
from tests.support.prompts import french_prompt
from tests.support.voices import syllables

TIMEOUT = 120
QUICK_S = 20  # far less than a blocked job would take: a run that waited for one times out


def section_script(path: str) -> None:
    """A stand-in for the audio page: decode a file, an STFT control, a range, the section."""
    import hashlib

    import streamlit as st

    from analysis.audio.decode import load_audio
    from ui.sections.speech import show_speech

    data = open(path, "rb").read()  # noqa: SIM115 - a one-shot read in a test script
    clip = load_audio(data, name=path)
    st.select_slider("FFT size", options=[512, 1024, 2048], value=1024)
    end = round(clip.duration, 3)
    start_s, end_s = st.slider("Range (s)", 0.0, end, (0.0, end), key="range")
    key = hashlib.sha256(data).hexdigest()
    show_speech(clip, start_s, end_s, key, range_key="range", source_name=path.split("/")[-1])


pytestmark = pytest.mark.usefixtures("fresh_caches")


@pytest.fixture
def transcriptions(monkeypatch) -> list[int]:
    """Counts transcriptions run by the section."""
    calls: list[int] = []
    transcribe = ui.sections.speech.transcribe_audio

    def counting(samples, sample_rate, whisper, **kwargs):
        calls.append(samples.shape[-1])
        return transcribe(samples, sample_rate, whisper, **kwargs)

    monkeypatch.setattr(ui.sections.speech, "transcribe_audio", counting)
    return calls


@pytest.fixture
def fake_whisper(monkeypatch) -> SimpleNamespace:
    """A transcriber that needs no model: it reports progress, then waits for ``release``.

    It returns ``make_transcript()`` ("Hello there." at 0.5 s, "Good morning." at 4 s), or
    raises ``fail`` when that is set; ``calls`` counts its runs.
    """
    fake = SimpleNamespace(
        started=threading.Event(),
        release=threading.Event(),
        fail=None,
        calls=[],
        asked=[],  # (language, task) of each call
        heard=None,  # the transcript to return instead of make_transcript()'s
        probability=1.0,  # of the language, when it is detected
    )

    def transcribe(
        samples, sample_rate, whisper, progress, language=None, task="transcribe", heard=None, **_
    ):
        fake.calls.append(samples.shape[-1])
        fake.asked.append((language, task))
        if heard is not None:  # the first phrase, before the rest is done
            heard(make_transcript().segments[0])
        progress(0.0, 3.0)
        fake.started.set()
        assert fake.release.wait(TIMEOUT), "the test never released the transcription"
        progress(3.0, 3.0)
        if fake.fail is not None:
            raise fake.fail
        if fake.heard is None:
            return make_transcript()
        heard, probability = fake.heard, 1.0 if language else fake.probability
        if task == "translate":
            heard = make_transcript()
        return replace(
            heard, language=language or heard.language, language_probability=probability, task=task
        )

    monkeypatch.setattr(ui.sections.speech, "resolve_files", lambda spec: {})
    monkeypatch.setattr(
        ui.sections.speech,
        "load_whisper",
        lambda name: SimpleNamespace(name=name, multilingual=not name.endswith(".en")),
    )
    monkeypatch.setattr(ui.sections.speech, "transcribe_audio", transcribe)
    yield fake
    fake.release.set()  # never leave a job thread waiting


@pytest.fixture
def voiced_wav(tmp_path) -> Path:
    """6 s of a synthesized voice: speech for Praat's measures, no model needed."""
    path = tmp_path / "voiced.wav"
    soundfile.write(path, syllables(6.0), 16_000)
    return path


def run_section(path: Path) -> AppTest:
    return AppTest.from_function(section_script, args=(str(path),), default_timeout=TIMEOUT).run()


def all_jobs() -> list:
    return ui.jobs.board().find(lambda key: True)


def running_jobs() -> list:
    return [job for job in all_jobs() if job.running]


def finish(kind: str) -> None:
    """Wait for the running jobs of one kind ("transcript", "voice", "report")."""
    futures = [job.future for job in all_jobs() if job.key[1] == kind]
    assert not wait(futures, timeout=TIMEOUT).not_done


def settle(at: AppTest) -> AppTest:
    """Wait for the background jobs and rerun, until a run shows no job under way."""
    for _ in range(5):
        jobs = running_jobs()
        if not jobs and not at.get("progress"):
            return at
        assert not wait([job.future for job in jobs], timeout=TIMEOUT).not_done
        at.run()
        assert not at.exception
    raise AssertionError("the section kept starting jobs")


def shown(at: AppTest) -> str:
    """The page's markdown (its escapes undone) and text, joined."""
    markdown = [re.sub(r"\\(.)", r"\1", m.value) for m in at.markdown]
    return " ".join(markdown + [t.value for t in at.text])


def progress_texts(at: AppTest) -> list[str]:
    return [bar.proto.text for bar in at.get("progress")]


def test_the_transcript_is_on_the_page_and_controls_do_not_rerun_it(speech_wav, transcriptions):
    require_model("whisper-base")
    at = run_section(speech_wav)
    assert not at.exception and not at.error
    assert any(text.startswith("Transcribing") for text in progress_texts(at))
    at = settle(at)
    assert not at.error
    text = shown(at).lower()
    for word in ("welcome", "demonstration", "fox", "lazy"):
        assert word in text
    assert "words" in text and "of speech" in text
    assert len(at.get("image")) == 1  # the words-and-pitch timeline
    assert len(at.get("progress")) == 0  # the bars are gone once the work is done
    measures = at.dataframe[1].value
    assert {"Median pitch", "Jitter (local)"} <= set(measures["Measure"])
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == [
        "Transcript (TXT)",
        "Subtitles (SRT)",
        "Subtitles (WebVTT)",
        "Words (CSV)",
        "Praat TextGrid",
        "Pitch & formants (CSV)",
    ]
    assert len(transcriptions) == 1

    at.select_slider[0].set_value(2048).run()
    at = settle(at.slider[0].set_value((1.0, 3.0)).run())
    assert not at.exception
    assert len(transcriptions) == 1  # a range of the transcribed file is a slice of it
    assert "1.00 s to 3.00 s" in shown(at)


def test_a_control_change_while_transcribing_does_not_wait(voiced_wav, fake_whisper):
    at = run_section(voiced_wav)
    assert fake_whisper.started.wait(QUICK_S)
    at.select_slider[0].set_value(2048).run(timeout=QUICK_S)  # times out if it waits
    assert not at.exception
    assert "Transcribing… 0 of 3 s" in progress_texts(at)
    assert at.button(key="speech_stop").label == "Stop"
    assert "Hello there." in [t.value for t in at.text]  # heard so far, while it runs
    assert "Heard so far, up to 2 s:" in [c.value for c in at.caption]

    fake_whisper.release.set()
    at = settle(at)
    assert "Hello there. Good morning." in shown(at)
    assert not at.get("progress")
    assert not at.button  # no Stop, no Transcribe: all is done


def test_stop_ends_the_transcription_and_offers_to_start_again(voiced_wav, fake_whisper):
    at = run_section(voiced_wav)
    assert fake_whisper.started.wait(QUICK_S)
    finish("voice")  # Praat is quick: let Stop find only the transcription running
    at.run()
    at.button(key="speech_stop").click().run(timeout=QUICK_S)
    fake_whisper.release.set()  # the job stops at its next progress report
    at = settle(at)
    assert not at.error
    assert "Transcription stopped." in [c.value for c in at.caption]
    assert at.button(key="speech_start").label == "Transcribe"
    assert "Hello there." not in shown(at)
    assert "Median pitch" in list(at.dataframe[0].value["Measure"])  # Praat had finished


def test_one_sessions_stop_leaves_anothers_transcription_running(voiced_wav, fake_whisper):
    first = run_section(voiced_wav)
    assert fake_whisper.started.wait(QUICK_S)
    finish("voice")
    second = run_section(voiced_wav)  # another person opens the same file
    assert "Transcribing… 0 of 3 s" in progress_texts(second)
    second.button(key="speech_stop").click().run(timeout=QUICK_S)
    assert "Transcription stopped." in [c.value for c in second.caption]
    assert second.button(key="speech_start").label == "Transcribe"
    assert not second.get("progress")

    first.run(timeout=QUICK_S)  # the first person's transcription goes on
    assert "Transcribing… 0 of 3 s" in progress_texts(first)
    assert "Transcription stopped." not in [c.value for c in first.caption]
    fake_whisper.release.set()
    first = settle(first)
    assert "Hello there. Good morning." in shown(first)
    assert len(fake_whisper.calls) == 1


def test_two_sessions_on_the_same_file_transcribe_it_once(voiced_wav, fake_whisper):
    first = run_section(voiced_wav)
    assert fake_whisper.started.wait(QUICK_S)
    second = run_section(voiced_wav)
    assert "Transcribing… 0 of 3 s" in progress_texts(second)
    fake_whisper.release.set()
    first, second = settle(first), settle(second)
    for at in (first, second):
        assert "Hello there. Good morning." in shown(at)
        assert "Median pitch" in list(at.dataframe[1].value["Measure"])
    assert len(fake_whisper.calls) == 1
    voice_jobs = [job for job in all_jobs() if job.key[1] == "voice"]
    assert len(voice_jobs) == 1  # Praat too measured the file once


def test_a_stop_then_transcribe_joins_the_run_another_session_still_watches(
    voiced_wav, fake_whisper
):
    first = run_section(voiced_wav)
    assert fake_whisper.started.wait(QUICK_S)
    finish("voice")
    second = run_section(voiced_wav)
    second.button(key="speech_stop").click().run(timeout=QUICK_S)
    second.button(key="speech_start").click().run(timeout=QUICK_S)
    assert "Transcribing… 0 of 3 s" in progress_texts(second)
    fake_whisper.release.set()
    first, second = settle(first), settle(second)
    assert "Hello there. Good morning." in shown(second)
    assert len(fake_whisper.calls) == 1  # joined, not started again


def test_a_failing_transcription_is_one_sentence(voiced_wav, fake_whisper):
    fake_whisper.fail = RuntimeError("CTranslate2 ran out of memory")
    fake_whisper.release.set()
    at = settle(run_section(voiced_wav))
    assert [e.value for e in at.error] == [
        "Transcribing failed on this file; the rest of the page still works."
    ]
    assert "Median pitch" in list(at.dataframe[0].value["Measure"])


def test_a_long_recording_waits_for_the_transcribe_button(voiced_wav, fake_whisper, monkeypatch):
    monkeypatch.setattr(ui.sections.speech, "AUTO_S", 5.0)  # the 6 s file counts as long
    at = run_section(voiced_wav)
    assert not running_jobs() and not at.get("progress")
    at.slider[0].set_value((1.0, 5.0)).run()
    assert at.button(key="speech_start").proto.help.startswith("Analyse 1.00 s to 5.00 s")
    at.button(key="speech_start").click().run()
    assert fake_whisper.started.wait(QUICK_S)
    assert any(text.startswith("Transcribing") for text in progress_texts(at))
    fake_whisper.release.set()
    at = settle(at)
    assert "Hello there." in shown(at)
    # The times of a range's transcript count from the file's start: 0.5 s and 4 s, plus 1 s.
    assert list(at.dataframe[0].value["Start (s)"]) == [1.5, 5.0]


def test_a_missing_model_turns_off_only_the_transcript(speech_wav, tmp_path, monkeypatch):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    at = settle(run_section(speech_wav))
    assert not at.exception and not at.error
    (info,) = at.info
    assert info.value.startswith("Transcription is off.")
    assert "python -m models fetch whisper-base" in info.value
    assert "Median pitch" in list(at.dataframe[0].value["Measure"])  # pitch still works
    assert [b.proto.label for b in at.get("download_button")] == ["Pitch & formants (CSV)"]
    at.selectbox(key="speech_model").set_value("whisper-tiny.en").run()
    assert "python -m models fetch whisper-tiny.en" in at.info[0].value


def test_silence_says_no_speech_found(tmp_path):
    require_model("whisper-base")
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(32_000, np.float32), 16_000)
    at = settle(run_section(path))
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == ["No speech found."]
    assert "No voice found" in " ".join(c.value for c in at.caption)


def test_a_clip_too_short_for_praat_says_so_in_one_sentence(tmp_path, fake_whisper):
    fake_whisper.release.set()
    path = tmp_path / "blip.wav"
    soundfile.write(path, np.full(320, 0.1, np.float32), 16_000)  # 20 ms
    at = settle(run_section(path))
    assert not at.exception and not at.error
    assert any("too short to measure its pitch" in i.value for i in at.info)


def test_selecting_a_phrase_sets_the_time_range(monkeypatch):
    transcript = make_transcript()
    state = {"table": SimpleNamespace(selection=SimpleNamespace(rows=[1]))}
    monkeypatch.setattr(st, "session_state", state)
    ui.sections.speech_results.select_segment(transcript, "table", "range", 5.0)
    assert state["range"] == (4.0, 5.0)  # the phrase ends at 5.2 s, past the recording's end


def test_the_page_shows_the_section_and_its_controls_never_wait(
    voiced_wav, fake_whisper, monkeypatch
):
    monkeypatch.setattr(ui.sections.tags, "show_tags", lambda *args: None)
    at = AppTest.from_file("../../app_pages/audio.py", default_timeout=TIMEOUT).run()
    data = voiced_wav.read_bytes()
    at.file_uploader[0].set_value(("voiced.wav", data, "audio/wav")).run()
    assert not at.exception
    assert any(h.value == "What is said" for h in at.subheader)
    assert fake_whisper.started.wait(QUICK_S)
    fft = next(w for w in at.select_slider if "FFT size" in w.label)
    fft.set_value(512).run(timeout=QUICK_S)  # the spectrogram fragment does not wait
    assert not at.exception
    assert any("frames of 512 samples" in c.value for c in at.caption)  # the spectrogram's
    fake_whisper.release.set()
    at = settle(at)
    assert "Hello there. Good morning." in shown(at)
    digest = hashlib.sha256(data).hexdigest()[:24]  # ui.state's key of an uploaded file
    key = (digest, "transcript", "whisper-base", "auto", 0.0, 6.0)
    assert ui.jobs.board().get(key) is not None


@pytest.mark.parametrize("name", ["whisper-base", "whisper-tiny.en"])
def test_the_catalog_checks_the_whisper_files(name):
    paths = require_model(name)
    for model_file in get_spec(name).files:
        data = paths[model_file.role].read_bytes()
        assert len(data) == model_file.size
        assert hashlib.sha256(data).hexdigest() == model_file.sha256


def french_transcript():
    """What a fake Whisper hears in French: two phrases, the second one doubtful."""
    sure = (Word(0.5, 0.9, " Bonjour", 0.95), Word(1.0, 1.5, " madame.", 0.9))
    doubtful = (Word(4.0, 4.5, " Au", 0.9), Word(4.6, 5.2, " revoir.", 0.3))
    return Transcript(
        "whisper-base",
        "fr",
        1.0,
        6.0,
        (
            Segment(0.5, 1.5, "Bonjour madame.", sure, -0.1, 0.01),
            Segment(4.0, 5.2, "Au revoir.", doubtful, -0.9, 0.02),
        ),
        np.array([[0.3, 1.7], [3.8, 5.4]]),
    )


@pytest.fixture
def saved_files(monkeypatch) -> list[str]:
    """The file names of the downloads the page offers."""
    names: list[str] = []
    store = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        names.append(filename)
        return store(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return names


def test_the_language_is_shown_with_its_probability_and_doubtful_words_stand_out(
    voiced_wav, fake_whisper, saved_files
):
    fake_whisper.heard, fake_whisper.probability = french_transcript(), 0.97
    fake_whisper.release.set()
    at = settle(run_section(voiced_wav))
    assert not at.exception and not at.error
    assert "Language: French, 97% sure." in [c.value for c in at.caption]
    assert "Bonjour madame. Au :orange[revoir.]" in shown(at)
    assert any(c.value.startswith("Words in orange") for c in at.caption)
    assert list(at.dataframe[0].value["Sure"]) == [90, 41]  # exp(-0.1), exp(-0.9)
    assert "voiced-transcript.srt" in saved_files and "voiced-pitch.csv" in saved_files
    assert "transcript.srt" not in saved_files


def test_on_a_phone_the_phrases_wrap_instead_of_being_cut(voiced_wav, fake_whisper, monkeypatch):
    monkeypatch.setattr(ui.device, "is_phone", lambda: True)
    fake_whisper.heard, fake_whisper.probability = french_transcript(), 0.97
    fake_whisper.release.set()
    at = settle(run_section(voiced_wav))
    phrases = at.dataframe[0]
    assert list(phrases.value.columns) == ["Start (s)", "Said", "Sure"]
    assert phrases.proto.row_height > 64  # Streamlit wraps a cell's text above 4 rem
    assert list(phrases.value["Said"]) == ["Bonjour madame.", "Au revoir."]


def test_an_unsure_language_is_said_and_can_be_chosen(voiced_wav, fake_whisper):
    fake_whisper.heard, fake_whisper.probability = french_transcript(), 0.31
    fake_whisper.release.set()
    at = settle(run_section(voiced_wav))
    (warning,) = at.warning
    assert warning.value.startswith("Language: perhaps French, but only 31% sure")
    assert at.selectbox(key="speech_language").value == "auto"
    assert "French" in at.selectbox(key="speech_language").options  # by name, not code

    at = settle(at.selectbox(key="speech_language").set_value("fr").run())
    assert fake_whisper.asked == [(None, "transcribe"), ("fr", "transcribe")]
    assert not at.warning
    assert "Language: French (chosen)." in [c.value for c in at.caption]


def test_the_english_translation_is_shown_beside_the_original(
    voiced_wav, fake_whisper, saved_files
):
    fake_whisper.heard, fake_whisper.probability = french_transcript(), 0.97
    fake_whisper.release.set()
    at = settle(run_section(voiced_wav))
    assert "Hello there." not in shown(at)
    at = settle(at.toggle(key="speech_translate").set_value(True).run())
    assert not at.exception and not at.error
    assert fake_whisper.asked[-1] == ("fr", "translate")
    captions = [c.value for c in at.caption]
    assert "Said, in French" in captions and "In English (Whisper's translation)" in captions
    assert "Hello there. Good morning." in shown(at) and "Bonjour madame." in shown(at)
    assert "voiced-translation-en.srt" in saved_files


def test_a_stopped_translation_waits_for_a_click_to_start_again(voiced_wav, fake_whisper):
    fake_whisper.heard, fake_whisper.probability = french_transcript(), 0.97
    fake_whisper.release.set()
    at = settle(run_section(voiced_wav))
    fake_whisper.release.clear()
    fake_whisper.started.clear()
    at.toggle(key="speech_translate").set_value(True).run()
    assert fake_whisper.started.wait(QUICK_S)
    assert any(text.startswith("Translating to English") for text in progress_texts(at))
    at.button(key="speech_stop").click().run(timeout=QUICK_S)
    fake_whisper.release.set()
    at = settle(at)
    assert "Translation stopped." in [c.value for c in at.caption]
    assert len(fake_whisper.asked) == 2  # not started again by the runs since

    at = settle(at.button(key="speech_translate_again").click().run())
    assert fake_whisper.asked[-1] == ("fr", "translate") and len(fake_whisper.asked) == 3
    assert "Hello there. Good morning." in shown(at)


@pytest.mark.slow
def test_an_english_only_model_on_french_names_the_language_and_writes_nothing():
    require_model("whisper-tiny.en")
    require_model("whisper-base")  # tells the language for the English-only model
    path, _ = french_prompt("conf-onlyone")
    at = run_section(path)
    at = settle(at.selectbox(key="speech_model").set_value("whisper-tiny.en").run())
    assert not at.exception and not at.error
    sentences = [i.value for i in at.info]
    assert any("seems to be" in s and "in French" in s and "Whisper base" in s for s in sentences)
    assert "Whisper heard" not in shown(at)  # no English guess on the page
    assert not at.dataframe or "Said" not in at.dataframe[0].value
