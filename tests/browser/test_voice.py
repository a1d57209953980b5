"""The Audio page's voice measures in a real browser: numbers for a man's voice, one
sentence for a door chime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import soundfile

from tests.conftest import drop_file, screenshot, skip_or_fail
from tests.support.voices import RATE, door_chime

MAN = Path("/usr/share/codec2/wav/hts1a.wav")  # codec2-examples: "The navy attacked the big…"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_mans_voice_shows_his_range_and_a_chime_shows_no_numbers(page, app_url, tmp_path):
    if not MAN.is_file():
        skip_or_fail(f"{MAN} is not installed", "PERCEPT_REQUIRE_TOOLS")
    page.goto(f"{app_url}/audio")
    drop_file(page, MAN, "audio/wav")
    main = page.get_by_test_id("stMain")
    page.get_by_text(re.compile("Measured by Praat on the")).wait_for(timeout=180_000)
    page.get_by_test_id("stDataFrame").first.wait_for()  # the measures (and phrases)
    # The table is drawn on a canvas (its numbers are checked in tests/app); the caption
    # says which range Praat searched: a man's, not 75–600 Hz.
    searched = re.search(r"searched between (\d+) and (\d+) Hz", main.inner_text())
    floor, ceiling = (int(hz) for hz in searched.groups())
    assert 55 <= floor <= 75 and ceiling <= 200
    page.get_by_test_id("stProgress").first.wait_for(state="detached", timeout=180_000)
    page.get_by_text(re.compile("Measured by Praat on the")).scroll_into_view_if_needed()
    screenshot(page, "audio-voice-man")

    chime = tmp_path / "chime.wav"
    soundfile.write(chime, door_chime(), RATE)
    page.goto(f"{app_url}/audio")
    drop_file(page, chime, "audio/wav")
    page.get_by_text(re.compile("No voice found: pitch, formants")).wait_for(timeout=180_000)
    text = main.inner_text()
    for number in ("Median pitch", "Jitter", "Pitch range"):
        assert number not in text
    assert not page.get_by_test_id("stException").count()
    screenshot(page, "audio-voice-chime")
