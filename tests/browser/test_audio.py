"""The Audio page in a real browser: drop a recording of speech, get the spectrogram."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf
from streamlit.proto.BackMsg_pb2 import BackMsg

from analysis.figures import SPECTROGRAM_LAYOUT
from tests.browser.test_spectrogram_view import audio_time, wait_for_audio
from tests.conftest import drop_file, screenshot

expect = pytest.importorskip("playwright.sync_api").expect

SPECTROGRAM = ".sv-picture"  # the interactive spectrogram's picture (ui/spectrogram_view)
WAVEFORM = ".sv-lane[data-lane='waveform'] canvas"  # the waveform lane under the spectrogram
LAYOUT = SPECTROGRAM_LAYOUT
PLOT = (LAYOUT.left, LAYOUT.top, *LAYOUT.plot_size)


def wait_for_spectrogram(page, old_src: str | None = None) -> None:
    """Until the spectrogram's picture (another one than ``old_src``) has loaded: within a
    minute, as a minutes-long file's first picture can take a while on a loaded machine."""
    picture = page.locator(SPECTROGRAM)
    if old_src is None:
        expect(picture).to_have_attribute("src", re.compile("."), timeout=60_000)
    else:
        expect(picture).not_to_have_attribute("src", old_src, timeout=60_000)
    picture.evaluate(
        "img => img.complete && img.naturalWidth ? 0 : new Promise(r => img.onload = r)"
    )


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of spectrogram picture pixel (x, y)."""
    box = page.locator(SPECTROGRAM).bounding_box()
    return box["x"] + x * box["width"] / LAYOUT.width, box["y"] + y * box["height"] / LAYOUT.height


def drag_box(page, x0: float, y0: float, x1: float, y1: float) -> None:
    """Drag a box on the spectrogram between two picture pixels."""
    page.locator(SPECTROGRAM).scroll_into_view_if_needed()
    page.mouse.move(*to_screen(page, x0, y0))
    page.mouse.down()
    page.mouse.move(*to_screen(page, (x0 + x1) / 2, (y0 + y1) / 2), steps=5)
    page.mouse.move(*to_screen(page, x1, y1), steps=5)
    page.mouse.up()


def time_range(page) -> tuple[float, float]:
    """The time range slider's two values, seconds."""
    thumbs = page.get_by_role("slider", name=re.compile(r"Time range"))
    return tuple(float(thumbs.nth(i).get_attribute("aria-valuetext")) for i in range(2))


def shown_view(page) -> tuple[float, float]:
    """The time range the spectrogram shows, from its clock "… · view 1.000–2.000 s"."""
    clock = page.locator(".sv-clock").inner_text()
    return tuple(map(float, re.search(r"view ([\d.]+)–([\d.]+) s", clock).groups()))


def runs_asked(page) -> list[BackMsg]:
    """The runs the page's browser asks the server for from now on (call before ``goto``),
    but the timers' (the progress polls of the sections under the spectrogram): a list that
    grows as they are sent."""
    asked: list[BackMsg] = []

    def sent(payload: str | bytes) -> None:
        if isinstance(payload, str):
            return
        message = BackMsg()
        message.ParseFromString(payload)
        if message.WhichOneof("type") == "rerun_script" and not message.rerun_script.is_auto_rerun:
            asked.append(message)

    page.on("websocket", lambda socket: socket.on("framesent", sent))
    return asked


@pytest.fixture
def fresh_speech(speech_wav, tmp_path):
    """The speech with a few samples of its own at the end: no cache of the app knows it, so
    the tags and speech sections work in the background as after a cold start."""
    samples, rate = sf.read(speech_wav, dtype="float32")
    tail = np.random.default_rng().uniform(-1e-3, 1e-3, 64).astype(np.float32)
    path = tmp_path / "fresh speech.wav"
    sf.write(path, np.concatenate([samples, tail]), rate)
    return path


@pytest.mark.browser
def test_dropping_speech_shows_spectrogram_waveform_and_facts(page, app_url, speech_wav):
    page.goto(f"{app_url}/audio")
    page.get_by_role("heading", name="Audio").wait_for()
    drop_file(page, speech_wav, "audio/wav")
    page.locator(WAVEFORM).first.wait_for()
    wait_for_spectrogram(page)
    main = page.get_by_test_id("stMain")
    assert "22,050 Hz" in main.inner_text()  # espeak-ng's native rate, not resampled
    first = page.locator(SPECTROGRAM).get_attribute("src")
    box = page.locator(SPECTROGRAM).bounding_box()
    assert box["width"] > 900  # drawn wide, not cramped
    assert page.locator(".sv-audio").get_attribute("src")  # it plays the sound...
    assert not page.get_by_test_id("stAudio").count()  # ...no other player does
    page.set_viewport_size({"width": 1024, "height": 800})  # a small laptop, the sidebar open
    whole = "e => [e, ...e.querySelectorAll('*')].every(x => x.scrollWidth <= x.clientWidth)"
    for fact in ("Duration", "Sample rate", "Channels", "Format", "Encoding"):
        tile = page.get_by_test_id("stMetric").filter(has_text=fact).first
        value = tile.get_by_test_id("stMetricValue")  # whole: the tiles wrap, none is cut
        assert value.evaluate(whole), value.inner_text()
    page.set_viewport_size({"width": 1400, "height": 2000})  # the whole page in the picture
    screenshot(page, "audio-speech-spectrogram")

    # Changing the FFT size redraws the picture.
    slider = page.get_by_role("slider", name=re.compile(r"\(FFT size\)"))
    slider.focus()
    slider.press("ArrowRight")
    wait_for_spectrogram(page, first)
    page.get_by_text("frames of 4096 samples").wait_for()  # its caption, drawn under it
    assert not page.get_by_test_id("stException").count()


@pytest.mark.browser
def test_a_box_on_the_spectrogram_zooms_the_page_and_reset_returns(page, app_url, fresh_speech):
    page.goto(f"{app_url}/audio")
    drop_file(page, fresh_speech, "audio/wav")
    wait_for_spectrogram(page)
    page.locator(".sv-clock", has_text="view").wait_for()
    whole = time_range(page)
    assert shown_view(page) == pytest.approx(whole, abs=1e-3)
    main = page.get_by_test_id("stMain")
    # Straight away, while the tags and the speech are worked out (a cold start).
    old = page.locator(SPECTROGRAM).get_attribute("src")
    left, top, width, height = PLOT
    drag_box(page, left + width / 4, top + height / 4, left + width / 2, top + height * 3 / 4)
    showing = page.get_by_text(re.compile(r"showing [\d.]+ Hz – [\d.]+ kHz"))
    low, high = map(
        float, re.search(r"showing ([\d.]+) Hz – ([\d.]+)", showing.inner_text()).groups()
    )
    nyquist = 22050 / 2  # the log scale shows 20 Hz to it: the box spans its middle half
    assert (low, high * 1000) == pytest.approx(
        (20 * (nyquist / 20) ** 0.25, 20 * (nyquist / 20) ** 0.75), rel=0.02
    )
    wait_for_spectrogram(page, old)
    expected = (whole[1] / 4, whole[1] / 2)
    assert time_range(page) == pytest.approx(expected, abs=0.01)  # the slider follows...
    assert shown_view(page) == pytest.approx(time_range(page), abs=1e-3)  # ...the picture
    over = re.search(r"over ([\d.]+) s", showing.inner_text()).group(1)  # the caption
    assert float(over) == pytest.approx(expected[1] - expected[0], abs=0.01)

    # Once the sections under it have drawn their results (or, without the model files, said
    # how to get them), the page still shows that view.
    said = re.compile(r"Whisper heard \d+ words?|Transcription is off")
    page.get_by_text(said).first.wait_for(timeout=120_000)
    said = re.compile(r"YAMNet hears mostly|Sound-event tags are off")
    page.get_by_text(said).first.wait_for(timeout=120_000)
    assert time_range(page) == pytest.approx(expected, abs=0.01)
    assert shown_view(page) == pytest.approx(time_range(page), abs=1e-3)
    page.locator(SPECTROGRAM).scroll_into_view_if_needed()
    screenshot(page, "audio-spectrogram-zoomed")

    old = page.locator(SPECTROGRAM).get_attribute("src")
    page.locator(".sv-reset").click()
    wait_for_spectrogram(page, old)
    page.locator(".sv-clock", has_text=f"view 0.000–{whole[1]:.3f} s").wait_for()
    assert time_range(page) == pytest.approx(whole, abs=1e-3)
    assert "showing" not in main.inner_text()
    assert not page.get_by_test_id("stException").count()


@pytest.mark.browser
def test_seeking_and_playing_run_nothing_and_a_zoom_runs_once(page, app_url, speech_wav):
    """The browser owns the sound: a click on the spectrogram (a seek), playback and its keys
    never ask the server for a run; a box asks for one."""
    asked = runs_asked(page)
    page.goto(f"{app_url}/audio")
    drop_file(page, speech_wav, "audio/wav")
    wait_for_spectrogram(page)
    page.locator(".sv-clock", has_text="view").wait_for()
    before = len(asked)
    assert before  # the drop asked for a run: the count sees them
    left, top, width, height = PLOT
    page.locator(SPECTROGRAM).scroll_into_view_if_needed()
    wait_for_audio(page, "audio.readyState >= 1")  # its length known: it can seek
    page.mouse.click(*to_screen(page, left + width / 4, top + height / 2))  # a seek
    seek_s = time_range(page)[1] / 4
    assert audio_time(page) == pytest.approx(seek_s, abs=0.05)
    page.locator(".sv-play").click()
    page.locator(".sv-play", has_text="Pause").wait_for()
    wait_for_audio(page, f"audio.currentTime > {seek_s + 0.5}")
    page.locator(".sv").press(" ")  # pause
    page.locator(".sv").press("ArrowLeft")
    assert len(asked) == before
    old = page.locator(SPECTROGRAM).get_attribute("src")
    drag_box(page, left + width / 4, top + height / 4, left + width / 2, top + height * 3 / 4)
    wait_for_spectrogram(page, old)
    assert len(asked) == before + 1


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
    wait_for_spectrogram(page)
    page.locator(WAVEFORM).first.wait_for()
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
    assert not page.locator(SPECTROGRAM).count()


COUNT_DOWNLOAD_ROWS = """() => {
    window.mostRows = 0;
    window.rowCounter = setInterval(() => {
        const rows = [...document.querySelectorAll('button')]
            .filter(b => b.innerText.includes('Spectrogram (PNG)')).length;
        window.mostRows = Math.max(window.mostRows, rows);
    }, 20);
}"""


@pytest.mark.browser
def test_a_zoom_never_shows_a_second_row_of_downloads(page, app_url, tmp_path):
    # Four minutes at 44.1 kHz: every frame of the whole file is too much to export, and of a
    # quarter of it is not, so the zoom changes what the row offers (and the notes around it).
    noise = np.random.default_rng().uniform(-0.3, 0.3, 240 * 44100).astype(np.float32)
    path = tmp_path / "four minutes.wav"
    sf.write(path, noise, 44100)
    page.goto(f"{app_url}/audio")
    drop_file(page, path, "audio/wav")
    wait_for_spectrogram(page)
    page.get_by_text("to export every frame at these settings").wait_for()
    page.evaluate(COUNT_DOWNLOAD_ROWS)
    old = page.locator(SPECTROGRAM).get_attribute("src")
    left, top, width, height = PLOT
    drag_box(page, left + width / 4, top + height / 4, left + width / 2, top + height * 3 / 4)
    wait_for_spectrogram(page, old)
    said = re.compile(r"YAMNet hears mostly|Sound-event tags are off")
    page.get_by_text(said).first.wait_for(timeout=120_000)  # the sections below have run
    expect(page.get_by_text("to export every frame at these settings")).to_have_count(0)
    assert page.evaluate("window.mostRows") == 1
    screenshot(page, "audio-zoom-downloads")
