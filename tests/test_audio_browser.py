"""The Audio page in a real browser: drop a recording of speech, get the spectrogram."""

from __future__ import annotations

import re

import pytest

from tests.conftest import drop_file, screenshot

SPECTROGRAM = '[data-testid="stImage"] img'


@pytest.mark.browser
def test_dropping_speech_shows_spectrogram_waveform_and_facts(page, app_url, speech_wav):
    page.goto(f"{app_url}/audio")
    page.get_by_role("heading", name="Audio").wait_for()
    drop_file(page, speech_wav, "audio/wav")
    page.locator(SPECTROGRAM).nth(1).wait_for()  # spectrogram and waveform
    main = page.get_by_test_id("stMain")
    assert "22,050 Hz" in main.inner_text()  # espeak-ng's native rate, not resampled
    first = page.locator(SPECTROGRAM).first.get_attribute("src")
    box = page.locator(SPECTROGRAM).first.bounding_box()
    assert box["width"] > 900  # drawn wide, not cramped
    page.set_viewport_size({"width": 1400, "height": 2000})  # the whole page in the picture
    screenshot(page, "audio-speech-spectrogram")

    # Changing the FFT size redraws the picture.
    slider = page.get_by_role("slider", name=re.compile(r"\(FFT size\)"))
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel); return i && i.src !== old; }",
        arg=[SPECTROGRAM, first],
    )
    assert "frames of 4096 samples" in main.inner_text()
    assert not page.get_by_test_id("stException").count()


@pytest.mark.browser
def test_a_bad_file_gives_one_message_then_a_good_file_works(page, app_url, tmp_path, speech_wav):
    page.goto(f"{app_url}/audio")
    notes = tmp_path / "notes.wav"
    notes.write_text("These are my meeting notes, not a sound.\n" * 20)
    drop_file(page, notes, "audio/wav")
    alert = page.get_by_test_id("stAlertContentError")
    alert.wait_for()
    assert alert.inner_text().startswith("“notes.wav” could not be read as audio")
    screenshot(page, "audio-bad-file")
    drop_file(page, speech_wav, "audio/wav")  # replaces the bad file
    page.locator(SPECTROGRAM).nth(1).wait_for()
    assert not page.get_by_test_id("stAlertContentError").count()


@pytest.mark.browser
def test_an_image_dropped_on_the_audio_page_gets_one_message(page, app_url, tmp_path):
    from PIL import Image
    from skimage import data

    photo = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(photo)
    page.goto(f"{app_url}/audio")
    drop_file(page, photo, "image/png")
    error = page.get_by_test_id("stAlertContentError")
    error.wait_for()
    screenshot(page, "audio-image-refused")
    assert error.count() == 1
    assert error.inner_text() == "“cat.png” is a picture, not a sound: open it on the Vision page."
    assert not page.get_by_test_id("stException").count()
    assert not page.locator('[data-testid="stImage"] img').count()
