"""The Audio page's speech section in a real browser: the page keeps working while Whisper runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import drop_file, require_model, require_tool, screenshot
from tests.support.prompts import french_prompt

SPECTROGRAM = '[data-testid="stImage"] img'
SENTENCES = (  # Harvard sentences, all different: repeated text would trip Whisper's loop check
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It's easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage. "
    "Four hours of steady work faced us. A large size in stockings is hard to sell. "
    "The boy was there when the sun rose. A rod is used to catch pink salmon. "
    "The source of the huge river is the clear spring. Kick the ball straight and follow "
    "through. Help the woman get back to her feet. A pot of tea helps to pass the evening. "
    "Smoky fires lack flame and heat. The soft cushion broke the man's fall. "
    "The salt breeze came across from the sea. The girl at the booth sold fifty bonds. "
    "The small pup gnawed a hole in the sock. The fish twisted and turned on the bent hook. "
    "Press the pants and sew a button on the vest. The swan dive was far short of perfect. "
    "The beauty of the view stunned the young boy. Two blue fish swam in the tank. "
    "Her purse was full of useless trash. The colt reared and threw the tall rider. "
    "It snowed, rained, and hailed the same morning. Read verse out loud for pleasure. "
    "Hoist the load to your left shoulder. Take the winding path to reach the lake. "
    "Note closely the size of the gas tank. Wipe the grease off his dirty face. "
    "Mend the coat before you go out. The stray cat gave birth to kittens. "
)


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 85 s of espeak-ng speech: over a minute, so it waits for "Transcribe"."""
    espeak = require_tool("espeak-ng")
    path = tmp_path_factory.mktemp("speech") / "sentences.wav"
    subprocess.run([espeak, "-w", str(path), SENTENCES], check=True, capture_output=True)
    return path


@pytest.mark.browser
@pytest.mark.slow
def test_controls_answer_while_whisper_runs_and_the_transcript_follows(page, app_url, long_speech):
    require_model("whisper-base")
    page.goto(f"{app_url}/audio")
    drop_file(page, long_speech, "audio/wav")
    start = page.get_by_role("button", name="Transcribe")
    start.wait_for(timeout=120_000)  # after decoding and the sound-event tags
    assert not page.get_by_test_id("stProgress").count()  # nothing started unasked
    start.click()
    progress = page.get_by_test_id("stProgress").filter(has_text="Transcribing")
    progress.wait_for()
    page.get_by_text("frames of 2048 samples").wait_for()  # the spectrogram's caption

    slider = page.get_by_role("slider", name=re.compile(r"\(FFT size\)"))
    slider.focus()
    slider.press("ArrowRight")
    # A loaded 2-core machine; about a second when idle.
    page.get_by_text("frames of 4096 samples").wait_for(timeout=60_000)
    page.locator(SPECTROGRAM).first.wait_for()
    assert progress.count() == 1  # the spectrogram was redrawn while Whisper still ran
    progress.scroll_into_view_if_needed()
    screenshot(page, "audio-speech-transcribing")

    main = page.get_by_test_id("stMain")
    page.get_by_text(re.compile(r"Whisper heard \d+ words?")).wait_for(timeout=300_000)
    text = main.inner_text().lower()
    for words in ("pink salmon", "left shoulder", "kittens"):
        assert words in text
    page.get_by_text("Transcript (TXT)", exact=True).wait_for()  # the run has drawn it all
    assert not page.get_by_test_id("stProgress").count()
    assert not page.get_by_test_id("stException").count()
    page.get_by_text("frames of 4096 samples").wait_for(timeout=10_000)  # still drawn
    page.get_by_role("heading", name="What is said").scroll_into_view_if_needed()
    screenshot(page, "audio-speech-transcript")


@pytest.mark.browser
@pytest.mark.slow
def test_french_speech_says_its_language_and_is_translated_beside(page, app_url):
    require_model("whisper-base")
    path, _ = french_prompt("conf-onlyone")  # "Il n'y a qu'un seul participant dans cette…"
    page.goto(f"{app_url}/audio")
    drop_file(page, path, "audio/wav")
    main = page.get_by_test_id("stMain")
    page.get_by_text(re.compile(r"Language: French, \d+% sure")).wait_for(timeout=300_000)
    assert "participant" in main.inner_text().lower()
    page.get_by_text("English translation").click()
    page.get_by_text("In English (Whisper's translation)").wait_for(timeout=300_000)
    page.get_by_text("English subtitles (SRT)").wait_for(timeout=60_000)
    assert not page.get_by_test_id("stException").count()
    page.get_by_role("heading", name="What is said").scroll_into_view_if_needed()
    screenshot(page, "audio-speech-french")
