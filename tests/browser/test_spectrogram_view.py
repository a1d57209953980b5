"""The interactive spectrogram in Chromium: play, seek, zoom, hover, and its JavaScript's maths.

The component runs in a harness app (tests/support/apps/spectrogram_view_app.py) showing a 4-second
1 kHz tone; its frequency scale comes from the URL (``?scale=linear``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from analysis.audio.axes import PlotAxes
from tests.conftest import screenshot
from tests.support.live_app import PROJECT_ROOT, running_app
from ui.spectrogram_view import browser_axes

expect = pytest.importorskip("playwright.sync_api").expect

HARNESS = "tests/support/apps/spectrogram_view_app.py"
SECONDS = 4.0  # the harness's tone
PLOT = (84, 16, 996, 406)  # its picture's plot area (SPECTROGRAM_LAYOUT), picture pixels
IMAGE = (1200, 480)
VIEW_JS = PROJECT_ROOT / "ui" / "spectrogram_view" / "view.js"
# Imports view.js as the module Streamlit loads, for its exported helpers.
IMPORT_VIEW_JS = """async (source) => {
    const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
    window.view = await import(url);
}"""


@pytest.fixture(scope="module")
def harness_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run`` of the harness on a free loopback port; yields its base URL."""
    log_path = tmp_path_factory.mktemp("spectrogram_view") / "server.log"
    with running_app(log_path, script=HARNESS) as url:
        yield url


@pytest.fixture
def tab(browser, harness_url: str):
    """A fresh tab (its own session) on the harness, the picture loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(harness_url)
    wait_for_picture(page)
    yield page
    context.close()


def wait_for_picture(page) -> None:
    page.locator(".sv-picture").wait_for()
    page.locator(".sv-picture").evaluate(
        "img => img.complete && img.naturalWidth ? 0 : new Promise(r => img.onload = r)"
    )


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of picture pixel (x, y)."""
    box = page.locator(".sv-picture").bounding_box()
    return box["x"] + x * box["width"] / IMAGE[0], box["y"] + y * box["height"] / IMAGE[1]


def audio_time(page) -> float:
    return page.locator(".sv-audio").evaluate("audio => audio.currentTime")


def wait_for_audio(page, condition: str, timeout_s: float = 15) -> None:
    """Until ``condition``, JavaScript about ``audio`` (the component's element), holds."""
    page.locator(".sv-audio").evaluate(
        f"""(audio) => new Promise((done, fail) => {{
            const start = performance.now();
            const check = () => {{
                if ({condition}) return done();
                if (performance.now() - start > {timeout_s * 1000}) {{
                    return fail(new Error("Timed out waiting for {condition}"));
                }}
                setTimeout(check, 20);
            }};
            check();
        }})"""
    )


def playhead_x(page) -> float:
    """The playhead's position in picture pixels (NaN while hidden)."""
    return page.locator(".sv-playhead").evaluate(
        f"e => e.hidden ? NaN : parseFloat(e.style.left) / 100 * {IMAGE[0]}"
    )


def expect_runs(page, whole: int, spectrogram: int) -> None:
    """Until the harness has counted that many runs of its whole script and of the
    spectrogram's fragment (the fragment runs in each run of the whole script too)."""
    expect(page.get_by_text(re.compile("^Runs: "))).to_have_text(
        f"Runs: {whole} of the page, {spectrogram} of the spectrogram", timeout=30_000
    )


def run_the_fragment(page) -> None:
    """One run of the spectrogram's fragment alone: a run asked for before it comes first,
    so once the counts show this one, they hold every run there was."""
    page.get_by_role("button", name="Run the spectrogram").click()


def readout(page) -> tuple[float, float, float]:
    """(Hz, dB, seconds) from the hover readout "t = 1.234 s · 440 Hz · A4 · −12 dB"."""
    text = page.locator(".sv-readout").inner_text()
    found = re.fullmatch(r"t = ([\d.]+) s · (\d+) Hz · [A-G]♯?\d · (−?\d+) dB", text)
    assert found, text
    seconds, hz, db = found.groups()
    return float(hz), float(db.replace("−", "-")), float(seconds)


@pytest.mark.browser
@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_the_javascript_maps_pixels_as_python_does(browser, scale):
    page = browser.new_page()
    page.evaluate(IMPORT_VIEW_JS, VIEW_JS.read_text())
    view = PlotAxes(1.5, 5.5, 0 if scale != "log" else 20, 11025, scale, PLOT, IMAGE)
    points = [[100.0, 30.0], [500.5, 200.0], [1000.0, 410.0], [300.0, 321.37]]
    mapped = page.evaluate(
        """([axes, points]) => points.map(([x, y]) => {
            const t = view.timeAt(axes, x);
            return [t, view.freqAt(axes, y), view.xOf(axes, t)];
        })""",
        [browser_axes(view), points],
    )
    for (x, y), (t, hz, x_back) in zip(points, mapped, strict=True):
        assert t == pytest.approx(float(view.time_at(x)))
        assert x_back == pytest.approx(x)
        # Python's frequencies at the pixel rows' edges, a straight line between them.
        assert float(view.y_of(hz)) == pytest.approx(y, abs=0.01)
        if y == round(y):
            assert hz == pytest.approx(float(view.freq_at(y)))
    page.close()


@pytest.mark.browser
def test_note_names_count_from_a4_at_440_hz(browser):
    page = browser.new_page()
    page.evaluate(IMPORT_VIEW_JS, VIEW_JS.read_text())
    names = page.evaluate("hz => hz.map(view.noteName)", [440, 261.6, 1000, 466.2, 27.5, 10])
    assert names == ["A4", "C4", "B5", "A♯4", "A0", ""]
    page.close()


@pytest.mark.browser
def test_play_moves_the_playhead_and_the_keys_drive_it(tab):
    assert playhead_x(tab) == pytest.approx(PLOT[0])  # at the start
    tab.locator(".sv-play").click()  # a user gesture: the browser lets it play
    wait_for_audio(tab, "audio.currentTime > 0.5")
    assert tab.locator(".sv-play").inner_text() == "▮▮ Pause"
    first = playhead_x(tab)
    assert first > PLOT[0] + 0.4 / SECONDS * PLOT[2]
    wait_for_audio(tab, f"audio.currentTime > {audio_time(tab) + 0.3}")
    assert playhead_x(tab) > first + 0.25 / SECONDS * PLOT[2]  # it moves while playing

    tab.locator(".sv").press(" ")  # space pauses...
    tab.locator(".sv-play", has_text="▶ Play").wait_for()
    paused_at = audio_time(tab)
    tab.locator(".sv").press("ArrowRight")  # ...and the arrows move by a twentieth of the view
    assert audio_time(tab) == pytest.approx(paused_at + SECONDS / 20, abs=0.01)
    assert playhead_x(tab) == pytest.approx(PLOT[0] + audio_time(tab) / SECONDS * PLOT[2], abs=1)


@pytest.mark.browser
def test_a_click_at_a_quarter_of_the_plot_seeks_a_quarter_of_the_way(tab):
    tab.mouse.click(*to_screen(tab, PLOT[0] + PLOT[2] / 4, PLOT[1] + PLOT[3] / 2))
    assert audio_time(tab) == pytest.approx(SECONDS / 4, abs=0.02)
    assert playhead_x(tab) == pytest.approx(PLOT[0] + PLOT[2] / 4, abs=1)
    assert "1.000 s" in tab.locator(".sv-clock").inner_text()


@pytest.mark.browser
def test_dragging_a_box_sends_its_range_and_python_draws_that_view(tab):
    old_picture = tab.locator(".sv-picture").get_attribute("src")
    x0, x1 = PLOT[0] + PLOT[2] / 4, PLOT[0] + PLOT[2] / 2  # 1 s to 2 s
    tab.mouse.move(*to_screen(tab, x0, PLOT[1] + 50))
    tab.mouse.down()
    tab.mouse.move(*to_screen(tab, (x0 + x1) / 2, PLOT[1] + 150), steps=5)
    screenshot(tab, "spectrogram-view-dragging")
    tab.mouse.move(*to_screen(tab, x1, PLOT[1] + 300), steps=5)
    tab.mouse.up()
    received = tab.get_by_text(re.compile(r"^Received zoom"))
    received.wait_for()
    start, end, low, high = map(float, re.findall(r"[\d.]+", received.inner_text()))
    assert (start, end) == pytest.approx((1.0, 2.0), abs=0.01)
    assert 0 < low < 1000 < high < 11025
    tab.get_by_text(re.compile(r"^View: 1\.0\d\d–2\.0\d\d s")).wait_for()
    tab.locator(".sv-clock", has_text=re.compile(r"view 1\.0\d\d–2\.0\d\d s")).wait_for()
    assert tab.locator(".sv-picture").get_attribute("src") != old_picture
    assert tab.locator(".sv-box").is_hidden()  # the new view replaced the box
    wait_for_picture(tab)
    screenshot(tab, "spectrogram-view-zoomed")

    tab.locator(".sv-reset").click()
    tab.get_by_text("Received reset").wait_for()
    tab.locator(".sv-clock", has_text="view 0.000–4.000 s").wait_for()


@pytest.mark.browser
def test_a_box_zoom_and_a_reset_are_one_script_run_each(tab):
    """The callback asks for the full run that draws the new view (st.rerun() in a callback):
    no fragment run before it."""
    expect_runs(tab, 1, 1)  # the first
    x0, x1 = PLOT[0] + PLOT[2] / 4, PLOT[0] + PLOT[2] / 2  # 1 s to 2 s
    tab.mouse.move(*to_screen(tab, x0, PLOT[1] + 50))
    tab.mouse.down()
    tab.mouse.move(*to_screen(tab, x1, PLOT[1] + 300), steps=5)
    tab.mouse.up()
    tab.get_by_text(re.compile(r"^View: 1\.0\d\d–2\.0\d\d s")).wait_for()
    run_the_fragment(tab)
    expect_runs(tab, 2, 3)  # the zoom's one run of the page (with its fragment), the button's
    tab.locator(".sv-reset").click()
    tab.get_by_text("View: 0.000–4.000 s").wait_for()
    run_the_fragment(tab)
    expect_runs(tab, 3, 5)


@pytest.mark.browser
def test_seeking_playing_and_the_keys_run_nothing(tab):
    """The browser owns the sound: a click on the picture, playback, the keys and the hover
    readout never reach the server."""
    expect_runs(tab, 1, 1)
    tab.mouse.click(*to_screen(tab, PLOT[0] + PLOT[2] / 4, PLOT[1] + PLOT[3] / 2))  # a seek
    assert audio_time(tab) == pytest.approx(SECONDS / 4, abs=0.02)
    tab.locator(".sv-play").click()
    wait_for_audio(tab, f"audio.currentTime > {SECONDS / 4 + 0.5}")
    tab.locator(".sv").press(" ")  # pause
    tab.locator(".sv").press("ArrowRight")
    tab.mouse.move(*to_screen(tab, PLOT[0] + PLOT[2] / 2, PLOT[1] + PLOT[3] / 2))
    assert tab.locator(".sv-readout").inner_text().startswith("t = 2.0")
    run_the_fragment(tab)
    expect_runs(tab, 1, 2)  # the button's run, and nothing before it


@pytest.mark.browser
def test_escape_gives_up_a_box(tab):
    tab.mouse.move(*to_screen(tab, PLOT[0] + PLOT[2] / 4, PLOT[1] + 50))
    tab.mouse.down()
    tab.mouse.move(*to_screen(tab, PLOT[0] + PLOT[2] / 2, PLOT[1] + 300), steps=5)
    assert tab.locator(".sv-box").is_visible()
    tab.keyboard.press("Escape")
    assert tab.locator(".sv-box").is_hidden()
    tab.mouse.up()
    assert audio_time(tab) == 0  # nor a click: the playhead stays
    assert tab.get_by_text(re.compile("^Received")).count() == 0


@pytest.mark.browser
def test_a_zoom_while_playing_plays_on_in_the_new_view(tab):
    tab.locator(".sv-play").click()
    wait_for_audio(tab, "audio.currentTime > 0.2")
    x0, x1 = PLOT[0] + PLOT[2] * 0.75, PLOT[0] + PLOT[2]  # 3 s to 4 s: ahead of the playhead
    tab.mouse.move(*to_screen(tab, x0, PLOT[1] + 50))
    tab.mouse.down()
    tab.mouse.move(*to_screen(tab, x1, PLOT[1] + 300), steps=5)
    tab.mouse.up()
    tab.locator(".sv-clock", has_text=re.compile(r"view 3\.0\d\d–4\.000 s")).wait_for()
    wait_for_audio(tab, "audio.currentTime > 0.2")  # the new selection's sound, from its start
    assert tab.locator(".sv-play").inner_text() == "▮▮ Pause"
    assert PLOT[0] < playhead_x(tab) < PLOT[0] + PLOT[2]


@pytest.mark.browser
def test_ctrl_and_the_wheel_zoom_time_around_the_pointer(tab):
    tab.mouse.move(*to_screen(tab, PLOT[0] + PLOT[2] / 2, PLOT[1] + PLOT[3] / 2))  # at 2 s
    tab.keyboard.down("Control")
    tab.mouse.wheel(0, -250)  # in: the range shrinks by e^-0.5 around 2 s
    tab.keyboard.up("Control")
    received = tab.get_by_text(re.compile(r"^Received zoom"))
    received.wait_for()
    start, end, _low, _high = map(float, re.findall(r"[\d.]+", received.inner_text()))
    half = 2.0 * np.exp(-0.5)
    assert (start, end) == pytest.approx((2.0 - half, 2.0 + half), abs=0.01)
    clock = tab.locator(".sv-clock", has_text=re.compile(r"view 0\.7\d\d–3\.2\d\d s"))
    view = re.search(r"view ([\d.]+)–([\d.]+) s", clock.inner_text())
    assert tuple(map(float, view.groups())) == pytest.approx((2.0 - half, 2.0 + half), abs=0.002)


@pytest.mark.browser
def test_loop_plays_the_view_again_from_its_start(tab):
    tab.locator(".sv-loop").check()
    tab.mouse.click(*to_screen(tab, PLOT[0] + PLOT[2] * 0.95, PLOT[1] + 10))  # seek to 3.8 s
    tab.locator(".sv-play").click()
    wait_for_audio(tab, "audio.currentTime > 3.9")
    wait_for_audio(tab, "audio.currentTime < 1 && !audio.paused")  # round, not stopped
    assert tab.locator(".sv-play").inner_text() == "▮▮ Pause"


@pytest.mark.browser
def test_a_tap_on_a_touch_screen_seeks(browser, harness_url):
    context = browser.new_context(viewport={"width": 900, "height": 900}, has_touch=True)
    page = context.new_page()
    page.goto(harness_url)
    wait_for_picture(page)
    page.locator(".sv-clock", has_text="view").wait_for()
    page.touchscreen.tap(*to_screen(page, PLOT[0] + PLOT[2] * 0.75, PLOT[1] + PLOT[3] / 2))
    assert audio_time(page) == pytest.approx(SECONDS * 0.75, abs=0.03)
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("scale", ["log", "linear", "mel"])
def test_hovering_the_tone_reads_about_1000_hz(browser, harness_url, scale):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{harness_url}/?scale={scale}")
    wait_for_picture(page)
    page.locator(".sv-clock", has_text="view").wait_for()
    # Point where the picture shows the tone: its brightest pixel down the middle column.
    picture = page.locator(".sv-picture")
    box = picture.bounding_box()
    shown = np.asarray(Image.open(io.BytesIO(picture.screenshot())).convert("L"), dtype=float)
    column = round((PLOT[0] + PLOT[2] / 2) * box["width"] / IMAGE[0])
    top, bottom = (round(y * box["height"] / IMAGE[1]) for y in (PLOT[1], PLOT[1] + PLOT[3]))
    line = top + int(np.argmax(shown[top:bottom, column]))
    readings = []
    for y in (line - 1, line, line + 1):  # the line is two or three pixels thick
        page.mouse.move(box["x"] + column + 0.5, box["y"] + y + 0.5)
        readings.append(readout(page))
    hz, db, seconds = max(readings, key=lambda reading: reading[1])
    assert hz == pytest.approx(1000, rel=0.03)
    assert db == pytest.approx(-6, abs=1.5)  # a half-scale sine: −6 dB re full scale
    assert seconds == pytest.approx(SECONDS / 2, abs=0.01)
    screenshot(page, f"spectrogram-view-hover-{scale}")
    page.close()


# --- layers, lanes, measure, slice, follow-along (the harness with ?layers=1) ---------------

PAIR = "?tones=1000,1500&layers=1"  # 1 kHz and 1.5 kHz, a perfect fifth apart


@pytest.fixture
def layered(browser, harness_url: str):
    """A fresh tab on the harness with the tone pair and its layers."""
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(harness_url + PAIR)
    wait_for_picture(page)
    page.locator(".sv-lane[data-lane='words']").wait_for()
    yield page
    context.close()


def y_of(hz: float) -> float:
    """Picture y of a frequency on the harness's log scale (20 Hz to 11025 Hz)."""
    view = PlotAxes(0.0, SECONDS, 20.0, RATE_HZ / 2, "log", PLOT, IMAGE)
    return float(view.y_of(hz))


RATE_HZ = 22050


def overlay_pixel(page, x: float, y: float) -> list[int]:
    """RGBA of the layers' canvas at picture pixel (x, y)."""
    return page.locator(".sv-overlay").evaluate(
        f"c => Array.from(c.getContext('2d').getImageData({round(x)}, {round(y)}, 1, 1).data)"
    )


@pytest.mark.browser
def test_the_measure_tool_reads_a_fifth_as_702_cents(layered):
    layered.locator(".sv-measure").click()
    x0, x1 = PLOT[0] + PLOT[2] / 4, PLOT[0] + PLOT[2] / 2  # 1 s to 2 s
    layered.mouse.move(*to_screen(layered, x0, y_of(1000) + 2))  # a little off the lines:
    layered.mouse.down()  # the edges snap to the peaks
    layered.mouse.move(*to_screen(layered, x1, y_of(1500) - 2), steps=6)
    layered.mouse.up()
    text = layered.locator(".sv-measured").inner_text()
    screenshot(layered, "spectrogram-view-measure")
    assert "Δt 1.000 s (1000.0 ms)" in text and "1/Δt 1.00 Hz = 60.0 BPM" in text
    assert "f1 1000 Hz B5 (peak)" in text and "f2 1500 Hz F♯6 (peak)" in text
    assert "Δf 500 Hz" in text and "7.02 semitones = 702 cents: a perfect fifth" in text
    assert not layered.get_by_text(re.compile(r"^Received zoom")).count()  # nothing was sent
    assert layered.locator(".sv-box").is_visible()  # the measured box stays
    layered.locator(".sv").press("Escape")
    assert layered.locator(".sv-measured").is_hidden()


@pytest.mark.browser
def test_the_pitch_layer_is_drawn_and_toggles_in_the_browser(layered):
    x = PLOT[0] + PLOT[2] / 8  # 0.5 s, on the pitch track at 1 kHz
    on = overlay_pixel(layered, x, y_of(1000))
    assert on[3] > 200 and on[1] > 200 and on[2] < 100  # lime green, opaque
    screenshot(layered, "spectrogram-view-pitch-on")
    toggle = layered.locator("input[data-layer='Pitch (F0)']")
    toggle.uncheck()
    assert overlay_pixel(layered, x, y_of(1000))[3] == 0  # gone, no server run
    screenshot(layered, "spectrogram-view-pitch-off")
    formants = layered.locator("input[data-layer='Formants']")
    assert not formants.is_checked()  # off at first
    formants.check()
    assert overlay_pixel(layered, x, y_of(2000))[3] > 200  # F1 drawn at twice the pitch
    layered.reload()  # the choice is remembered in the browser
    wait_for_picture(layered)
    layered.locator("input[data-layer='Pitch (F0)']").wait_for()
    assert not layered.locator("input[data-layer='Pitch (F0)']").is_checked()
    expect_runs(layered, 1, 1)


@pytest.mark.browser
def test_the_slice_names_the_peaks_under_the_pointer(layered):
    layered.locator(".sv-slice-toggle").click()
    assert "(playhead)" in layered.locator(".sv-peaks").inner_text()
    layered.mouse.move(*to_screen(layered, PLOT[0] + PLOT[2] * 0.6, PLOT[1] + 100))
    text = layered.locator(".sv-peaks").inner_text()
    screenshot(layered, "spectrogram-view-slice")
    assert text.startswith("Spectrum at 2.4") and "(pointer)" in text
    assert "1000 Hz B5 (−10 dB)" in text and "1500 Hz F♯6 (−10 dB)" in text
    drawn = layered.locator(".sv-slice").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v > 0)"
    )
    assert drawn


@pytest.mark.browser
def test_the_word_said_is_highlighted_as_it_plays_and_a_word_plays_from_it(layered):
    layered.locator(".sv-play").click()
    now = layered.locator(".sv-words .sv-now")
    lane_now = layered.locator(".sv-lane[data-lane='words'] .sv-now")
    words = ("one", "two", "three", "four")  # each said from i to i + 0.9 s
    for after in (1.2, 2.2):
        wait_for_audio(layered, f"audio.currentTime > {after}")
        layered.locator(".sv").press(" ")  # pause, and read the word said at that moment
        layered.locator(".sv-play", has_text="▶ Play").wait_for()
        said = audio_time(layered)
        if said % 1 < 0.9:
            expect(now).to_have_text(words[int(said)])
            assert lane_now.inner_text() == words[int(said)]
        else:  # between two words: none is highlighted
            expect(now).to_have_count(0)
        layered.locator(".sv").press(" ")  # play on
    wait_for_audio(layered, "audio.currentTime > 2.3")
    screenshot(layered, "spectrogram-view-follow-along")
    layered.locator(".sv").press(" ")  # pause
    layered.locator(".sv-words span", has_text="four").click()  # plays from "four"
    wait_for_audio(layered, "!audio.paused && audio.currentTime >= 3.0")
    expect(now).to_have_text("four")
    # The playhead crosses the lanes: at the same x as over the picture.
    # Both read in one call: while it plays, two calls would see two display frames.
    lane_left, picture_left = layered.locator(".sv").evaluate(
        """root => ['.sv-lanehead', '.sv-playhead'].map(
            s => parseFloat(root.querySelector(s).style.left))"""
    )
    assert lane_left == pytest.approx(picture_left, abs=0.5)


@pytest.mark.browser
def test_a_click_on_a_lane_seeks_and_hover_names_the_word(layered):
    lane = layered.locator(".sv-lane[data-lane='words'] .sv-track")
    box = lane.bounding_box()
    layered.mouse.move(box["x"] + box["width"] * 0.625, box["y"] + box["height"] / 2)
    assert "word “three”" in layered.locator(".sv-readout").inner_text()
    layered.mouse.click(box["x"] + box["width"] * 0.625, box["y"] + box["height"] / 2)
    assert audio_time(layered) == pytest.approx(2.5, abs=0.02)
    tags = layered.locator(".sv-lane[data-lane='tags'] .sv-track")
    tags_box = tags.bounding_box()
    layered.mouse.move(tags_box["x"] + 10, tags_box["y"] + tags_box["height"] / 2)
    assert "sound “Sine wave”" in layered.locator(".sv-readout").inner_text()
    chords = layered.locator(".sv-lane[data-lane='chords'] .sv-track").bounding_box()
    layered.mouse.move(chords["x"] + chords["width"] * 0.75, chords["y"] + 5)
    assert "chord “G”" in layered.locator(".sv-readout").inner_text()
    chroma = layered.locator(".sv-lane[data-lane='chroma'] .sv-track").bounding_box()
    layered.mouse.move(chroma["x"] + 20, chroma["y"] + chroma["height"] - 1)  # the lowest row
    assert "note C 100%" in layered.locator(".sv-readout").inner_text()
    beat = overlay_pixel(layered, PLOT[0] + PLOT[2] / 8, PLOT[1] + 5)  # a beat at 0.5 s
    assert beat[3] > 200 and beat[2] > 200  # cyan, at the top of the plot
    screenshot(layered, "spectrogram-view-lanes")
    expect_runs(layered, 1, 1)  # none of it ran the script
