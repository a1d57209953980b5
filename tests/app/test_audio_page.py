"""The Audio page under AppTest: upload, record, sample; controls; every bad input's outcome."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
import streamlit as st
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

import ui.device
import ui.internals
import ui.sections.sound
import ui.sections.spectrogram_layers
import ui.sections.speech
import ui.sections.tags
from analysis.figures import PHONE_SPECTROGRAM_LAYOUT, SPECTROGRAM_LAYOUT
from tests.support.defaults import own_default, started_elsewhere

PAGE = "../../app_pages/audio.py"
TIMEOUT = 60


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """Label -> the data (a callable: generated on click) of each download button drawn."""
    drawn = {}
    original = DeltaGenerator.download_button

    def recording(self, label, data, *args, **kwargs):
        drawn[label] = data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    return drawn


@pytest.fixture
def tags_calls(monkeypatch):
    """Replace the tags section (tested by its owner) with a recorder: faster, and isolates us."""
    calls = []
    monkeypatch.setattr(ui.sections.tags, "show_tags", lambda *args: calls.append(args))
    return calls


@pytest.fixture(autouse=True)
def speech_calls(monkeypatch):
    """Replace the speech section (tests/app/test_speech_section.py tests it under this page)."""
    calls = []
    monkeypatch.setattr(ui.sections.speech, "show_speech", lambda *args, **kw: calls.append(args))
    return calls


def wav(samples: np.ndarray, sr: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def tone(sr: int = 16000, seconds: float = 2.0, hz: float = 1000.0, channels: int = 1):
    t = np.arange(int(sr * seconds)) / sr
    wave = (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, content: bytes, mime: str = "audio/wav") -> AppTest:
    at.file_uploader[0].set_value((name, content, mime)).run()
    assert not at.exception, at.exception
    return at


def facts(at: AppTest) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}


def images(at: AppTest) -> list:
    """The pictures shown: the interactive spectrogram (its waveform a lane in it), then
    st.image's."""
    return [*at.get("bidi_component"), *at.get("image")]


def spectrogram(at: AppTest) -> dict:
    """What the page sent the interactive spectrogram: picture and audio URLs, axes, levels."""
    (component,) = at.get("bidi_component")
    return json.loads(component.proto.json)


def shown_band(axes: dict) -> tuple[float, float]:
    """The frequency band (Hz) of the axes sent to the browser: its lowest and highest edge."""
    return axes["row_edges_hz"][0], axes["row_edges_hz"][-1]


def spectrogram_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if " frames of " in c.value)


def send_view_change(at: AppTest, value: dict) -> AppTest:
    """Run the page as the browser does when a box is dragged on the spectrogram or its reset
    pressed (``value`` as view.js sends it). AppTest has no browser: the component's trigger
    goes with the other widgets' states, as Streamlit's frontend sends it."""
    states = at._tree.get_widget_states()
    trigger = states.widgets.add()
    trigger.id = _make_trigger_id(at.get("bidi_component")[0].proto.id, "events")
    trigger.json_trigger_value = json.dumps([{"event": "change", "value": value}])
    at._run(states)
    assert not at.exception, at.exception
    return at


def control(at: AppTest, kind: str, label: str):
    return next(w for w in getattr(at, kind) if label in w.label)


def shows_result(at: AppTest) -> bool:
    return not at.exception and not at.error and len(images(at)) == 1  # the spectrogram


def test_empty_page_invites_a_file(tags_calls):
    at = open_page()
    assert at.file_uploader[0].label.startswith("Drop an audio file here: WAV, FLAC")
    assert not at.file_uploader[0].allowed_type  # any file reaches the decoder, which explains
    assert "Drop a file above" in at.info[0].value
    assert not images(at) and not tags_calls


def test_sample_works_offline_and_calls_the_tags_section(tags_calls):
    at = open_page()
    at.radio[0].set_value("Try a sample").run()
    assert shows_result(at)
    assert facts(at) == {
        "Duration": "8.0 s",
        "Sample rate": "22,050 Hz",
        "Channels": "1",
        "Format": "WAV",
        "Encoding": "32-bit float",
    }
    clip, start_s, end_s, key = tags_calls[-1]
    assert (clip.sample_rate, start_s, end_s, key) == (22050, 0.0, 8.0, "sample")
    view = spectrogram(at)  # the spectrogram plays the sound: no other player
    assert view["audio"].endswith(".wav") and view["audio_start_s"] == 0.0
    assert not at.get("audio")


def test_upload_shows_facts_image_player_and_downloads(tags_calls):
    at = upload(open_page(), "Tone <b>A</b>.WAV", wav(tone(48000, 3.0, channels=2), 48000))
    assert shows_result(at)
    assert facts(at) == {
        "Duration": "3.0 s",
        "Sample rate": "48,000 Hz",
        "Channels": "2",
        "Format": "WAV",
        "Encoding": "16-bit PCM",
    }
    assert "frames of 2048 samples" in spectrogram_caption(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "Spectrogram (PNG)",
        "Every frame (CSV)",
        "Every frame (NPZ)",
        "Picture grid (CSV)",
    ]
    assert spectrogram(at)["audio"] and not at.get("audio")
    assert "<b>" not in " ".join(m.value for m in at.markdown)  # names are never HTML


def test_fft_size_and_other_controls_change_the_picture(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(16000, 4.0), 16000))
    first = spectrogram(at)["picture"]
    control(at, "select_slider", "FFT size").set_value(512).run()
    assert "frames of 512 samples" in spectrogram_caption(at)
    assert "hop 64" in spectrogram_caption(at) and "31.2 Hz per bin" in spectrogram_caption(at)
    assert spectrogram(at)["picture"] != first
    control(at, "select_slider", "Hop length").set_value(32).run()
    assert "hop 32" in spectrogram_caption(at) and "fitted" not in spectrogram_caption(at)
    control(at, "select_slider", "Window length").set_value(256).run()
    assert "window of 256" in spectrogram_caption(at)
    control(at, "selectbox", "Window shape").set_value("blackman").run()
    assert "blackman window" in spectrogram_caption(at)
    control(at, "radio", "Frequency scale").set_value("mel").run()
    control(at, "slider", "Mel bands").set_value(40).run()
    assert "× 40 rows" in spectrogram_caption(at)
    control(at, "slider", "Loudness range").set_value(60).run()
    control(at, "selectbox", "Colours").set_value("viridis").run()
    control(at, "selectbox", "0 dB means").set_value("peak").run()
    assert shows_result(at)


def own_step(widget) -> str:
    """What the browser would show for a select slider knowing only its element."""
    return widget.options[int(widget.proto.default[0])]


def test_every_control_starts_at_its_stated_default_whatever_the_timing_of_the_first_click(
    tags_calls,
):
    # A click during the first run can make the browser draw a control before it hears the
    # remembered value: it then shows the control's own default and sends that back.
    at = upload(open_page(), "stereo.wav", wav(tone(seconds=1.0, channels=2), 16000))
    assert started_elsewhere(at) == []
    assert [own_step(s) for s in at.select_slider] == ["2048", "auto", "= FFT size"]
    assert [s.format_func(s.value) for s in at.select_slider] == ["2048", "auto", "= FFT size"]
    shown, caption = spectrogram(at)["picture"], spectrogram_caption(at)
    for slider in at.slider:  # what such a browser sends back
        if not slider.disabled:
            slider.set_value(own_default(slider))
    control(at, "select_slider", "FFT size").set_value(int(own_step(at.select_slider[0])))
    at.run()
    assert control(at, "slider", "Loudness range").value == 80
    assert control(at, "slider", "Mel bands").value == 128
    assert control(at, "radio", "Frequency scale").value == "log"
    assert spectrogram_caption(at) == caption and spectrogram(at)["picture"] == shown


def test_window_longer_than_the_fft_is_capped_with_a_note(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(), 16000))
    control(at, "select_slider", "FFT size").set_value(256).run()
    control(at, "select_slider", "Window length").set_value(1024).run()
    assert shows_result(at)
    assert "window of 256" in spectrogram_caption(at)
    assert any("capped at the FFT size" in c.value for c in at.caption)


def test_time_range_reaches_the_picture_and_the_tags(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=10.0), 16000))
    control(at, "slider", "Time range").set_value((2.0, 5.0)).run()
    assert "over 3.00 s" in spectrogram_caption(at)
    assert tags_calls[-1][1:3] == (2.0, 5.0)


def test_a_sub_second_selection_plays_exactly_itself(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    whole = spectrogram(at)
    control(at, "slider", "Time range").set_value((2.1, 2.9)).run()
    selection = spectrogram(at)
    assert selection["audio"] != whole["audio"]  # a WAV of the selection, not the file
    assert selection["audio_start_s"] == 2.1  # its first sample is 2.1 s into the file
    assert (selection["axes"]["start_s"], selection["axes"]["end_s"]) == pytest.approx((2.1, 2.9))


def test_a_long_selection_plays_from_the_whole_file(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(sr=8000, seconds=70.0), 8000))
    whole = spectrogram(at)
    control(at, "slider", "Time range").set_value((1.0, 66.0)).run()
    selection = spectrogram(at)  # over a minute: no WAV of its own, the file from 1 s on
    assert selection["audio"] == whole["audio"] and selection["audio_start_s"] == 0.0
    assert selection["axes"]["start_s"] == 1.0


def test_both_range_handles_together_keep_a_step_of_sound(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    control(at, "slider", "Time range").set_value((4.0, 4.0)).run()
    assert shows_result(at)
    assert spectrogram_caption(at).endswith("over 0.00 s")  # the last 2 ms (one slider step)


def test_a_clip_of_ten_samples_is_shown(tags_calls):
    at = upload(open_page(), "blip.wav", wav(np.full((10, 1), 0.1, np.float32), 16000))
    assert shows_result(at)


def test_eight_channels_offer_a_channel_choice(tags_calls):
    at = upload(open_page(), "eight.wav", wav(tone(channels=8), 16000))
    assert facts(at)["Channels"] == "8"
    channel = control(at, "selectbox", "Channel")
    assert len(channel.options) == 9
    channel.set_value(7).run()
    assert shows_result(at)


@pytest.mark.parametrize(
    ("name", "sr", "subtype", "fmt", "shown"),
    [
        ("low.wav", 8000, "PCM_16", "WAV", "8,000 Hz"),
        ("high.wav", 192000, "PCM_24", "WAV", "192,000 Hz"),
        ("float.wav", 44100, "FLOAT", "WAV", "44,100 Hz"),
        ("song.FLAC", 44100, "PCM_16", "FLAC", "44,100 Hz"),
        ("speech.opus", 48000, "OPUS", "OGG", "48,000 Hz"),
        ("voice.MP3", 44100, "MPEG_LAYER_III", "MP3", "44,100 Hz"),
        ("old.aif", 22050, "PCM_16", "AIFF", "22,050 Hz"),
    ],
)
def test_formats_and_rates_show_their_native_rate(tags_calls, name, sr, subtype, fmt, shown):
    at = upload(open_page(), name, wav(tone(sr), sr, subtype, fmt))
    assert shows_result(at)
    assert facts(at)["Sample rate"] == shown


def test_silence_shows_a_flat_picture_and_a_note(tags_calls):
    at = upload(open_page(), "silence.wav", wav(np.zeros((16000, 1), np.float32), 16000))
    assert shows_result(at)
    assert "silent" in at.info[0].value


def test_a_20_ms_clip_is_padded_and_says_so(tags_calls):
    at = upload(open_page(), "blip.wav", wav(tone(seconds=0.02), 16000))
    assert shows_result(at)
    assert facts(at)["Duration"] == "0.02 s"
    assert any("shorter than the FFT size" in c.value for c in at.caption)


def test_nan_samples_are_replaced_and_the_user_told(tags_calls):
    samples = tone()
    samples[100:110] = np.nan
    at = upload(open_page(), "nan.wav", wav(samples, 16000, "FLOAT"))
    assert shows_result(at)
    assert at.warning[0].value == "10 invalid samples (NaN or infinity) were replaced by silence."


def test_truncated_files_show_what_decodes(tags_calls):
    whole = wav(tone(seconds=2.0), 16000)
    at = upload(open_page(), "cut.wav", whole[: len(whole) // 2])
    assert (
        shows_result(at) and facts(at)["Duration"] == "0.999 s"
    )  # half the bytes, header included
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (88200, 1)).astype(np.float32)
    flac = wav(noise, 44100, "PCM_16", "FLAC")
    upload(at, "cut.flac", flac[: len(flac) // 2])
    assert shows_result(at) and "truncated" in at.warning[0].value


def _png_bytes() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.wav", b"", "“empty.wav” is empty."),
        (
            "noise.mp3",
            np.random.default_rng(2).bytes(9000),
            "“noise.mp3” could not be read as audio",
        ),
        ("notes.wav", b"These are my meeting notes.\n" * 50, "“notes.wav” could not be read"),
        ("photo.wav", None, "“photo.wav” is a picture, not a sound: open it on the Vision page."),
    ],
)
def test_bad_files_give_one_error_then_the_next_file_works(tags_calls, name, content, message):
    at = upload(open_page(), name, _png_bytes() if content is None else content)
    assert len(at.error) == 1 and at.error[0].value.startswith(message)
    assert not images(at) and not tags_calls
    upload(at, "good.wav", wav(tone(), 16000))
    assert shows_result(at) and facts(at)["Duration"] == "2.0 s"


def test_recording_from_the_microphone(tags_calls):
    at = open_page()
    at.radio[0].set_value("Record").run()
    at.audio_input[0].set_value(("recording.wav", wav(tone(48000), 48000), "audio/wav")).run()
    assert shows_result(at) and facts(at)["Sample rate"] == "48,000 Hz"


def test_the_real_tags_section_runs_under_the_page():
    at = open_page()
    at.radio[0].set_value("Try a sample").run()
    assert not at.exception
    assert any(h.value == "What's in this sound" for h in at.subheader)


def test_file_names_are_shown_literally_never_as_markup(tags_calls):
    at = upload(open_page(), "[click](https://example.com) **now**.wav", b"not audio at all" * 10)
    message = at.error[0].value
    assert message.startswith(r"“\[click\](https\://example.com) \*\*now\*\*.wav” could not")
    assert "[click](" not in message and "**now**" not in message


def test_the_decoder_gets_the_plain_file_name(tags_calls, monkeypatch):
    """Markdown escaping is the page's, where it shows the name (show_input_error)."""
    names = []
    load = ui.sections.sound.load_media
    monkeypatch.setattr(
        ui.sections.sound,
        "load_media",
        lambda data, name, progress: names.append(name) or load(data, name=name),
    )
    at = upload(open_page(), "[a]_b*.wav", wav(tone(hz=1234.5), 16000))  # in no cache yet
    assert names == ["[a]_b*.wav"] and at.text[0].value == "[a]_b*.wav"


def test_switching_source_and_back_keeps_the_file_and_settings(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    control(at, "select_slider", "FFT size").set_value(512).run()
    control(at, "slider", "Time range").set_value((1.0, 3.0)).run()
    at.radio[0].set_value("Try a sample").run()
    assert facts(at)["Duration"] == "8.0 s"
    at.radio[0].set_value("Upload a file").run()
    assert shows_result(at)
    assert at.text[0].value == "Still loaded: tone.wav"  # the uploader itself is empty now
    assert facts(at)["Duration"] == "4.0 s"
    assert "frames of 512 samples" in spectrogram_caption(at)
    assert "over 2.00 s" in spectrogram_caption(at)


def test_remove_forgets_a_kept_file_and_the_uploaders_own_x_too(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(), 16000))
    at.radio[0].set_value("Try a sample").run()
    at.radio[0].set_value("Upload a file").run()
    assert shows_result(at)
    at.button(key="audio_upload_remove").click().run()
    assert not images(at) and "Drop a file above" in at.info[0].value
    upload(at, "tone.wav", wav(tone(), 16000))
    at.file_uploader[0].clear().run()  # the uploader's own ✕
    assert not images(at) and "Drop a file above" in at.info[0].value


def test_file_and_settings_survive_a_visit_to_another_page(tags_calls):
    at = AppTest.from_file("../../app.py", default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/audio.py").run()
    upload(at, "tone.wav", wav(tone(seconds=3.0), 16000))
    control(at, "radio", "Frequency scale").set_value("mel").run()
    at.switch_page("app_pages/vision.py").run()
    assert not at.exception and at.title[0].value == "Vision"
    at.switch_page("app_pages/audio.py").run()
    assert shows_result(at)
    assert facts(at)["Duration"] == "3.0 s"
    assert control(at, "radio", "Frequency scale").value == "mel"


def test_every_frame_exports_hold_the_selection_at_the_chosen_settings(tags_calls, downloads):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0, hz=1000.0), 16000))
    control(at, "select_slider", "FFT size").set_value(1024).run()  # 1 kHz is bin 64 exactly
    control(at, "select_slider", "Hop length").set_value(128).run()
    control(at, "slider", "Time range").set_value((1.0, 2.0)).run()
    assert shows_result(at)
    lines = downloads["Every frame (CSV)"]().splitlines()
    freqs = np.array([float(v) for v in lines[0].split(",")[1:]])
    assert lines[0].startswith("time_s,") and np.allclose(freqs, np.arange(513) * 16000 / 1024)
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert len(rows) == 1 + 16000 // 128  # every frame of the second, not the picture's columns
    assert rows[0, 0] == 1.0 and np.allclose(np.diff(rows[:, 0]), 128 / 16000)
    assert (freqs[rows[:, 1:].argmax(axis=1)] == 1000.0).all()
    with np.load(io.BytesIO(downloads["Every frame (NPZ)"]()), allow_pickle=False) as npz:
        assert npz["db"].shape == (len(rows), 513)
        assert (int(npz["n_fft"]), int(npz["hop_length"]), str(npz["source"])) == (
            1024,
            128,
            "tone.wav",
        )
        assert (float(npz["start_s"]), float(npz["end_s"])) == (1.0, 2.0)
    grid = downloads["Picture grid (CSV)"]().splitlines()
    assert grid[0].startswith("frequency_hz,1.0000,")  # the picture's columns, named apart


def test_a_long_range_at_a_tiny_hop_is_bounded_and_says_so(tags_calls):
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, (60 * 16000, 1)).astype(np.float32)
    at = upload(open_page(), "minute.wav", wav(noise, 16000))
    control(at, "select_slider", "FFT size").set_value(16384).run()
    control(at, "select_slider", "Hop length").set_value(32).run()
    assert shows_result(at)
    assert spectrogram_caption(at).endswith(
        "Long range: 1 frame in 4 computed for the picture; zoom in or export for every frame."
    )
    assert offered(at) == {
        "Spectrogram (PNG)": True,
        "Every frame (CSV)": False,
        "Every frame (NPZ)": False,
        "Picture grid (CSV)": True,
    }
    assert any(
        c.value == "Select at most 1.95 s to export every frame at these settings."
        for c in at.caption
    )
    control(at, "slider", "Time range").set_value((10.0, 11.0)).run()
    assert "Long range" not in spectrogram_caption(at)
    assert all(offered(at).values())


def offered(at: AppTest) -> dict[str, bool]:
    """Each download button's label, and whether it can be clicked."""
    return {b.proto.label: not b.proto.disabled for b in at.get("download_button")}


def slots(at: AppTest) -> list:
    """The spectrogram section's element tree, down to its slots' children; the downloads'
    row in full. (The section is a fragment: one block of the page.)"""

    def tree(node):
        kids = getattr(node, "children", None)
        return node.type if kids is None else (node.type, [tree(k) for k in kids.values()])

    section = next(
        b for b in at.main.children.values() if hasattr(b, "children") and b.get("bidi_component")
    )
    _controls, *notes_and_view, downloads = section.children.values()
    return [[k.type for k in slot.children.values()] for slot in notes_and_view] + [tree(downloads)]


def test_the_downloads_keep_their_place_and_row_whatever_the_notes_around_them(tags_calls):
    # A row that moved, or changed its columns, would stay greyed from the previous run,
    # beside the new one, while the sections under the spectrogram run (seconds on a zoom).
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, (60 * 16000, 1)).astype(np.float32)
    at = upload(open_page(), "minute.wav", wav(noise, 16000))
    control(at, "select_slider", "Hop length").set_value(32).run()
    control(at, "select_slider", "FFT size").set_value(16384).run()
    long_range = slots(at)
    assert not offered(at)["Every frame (CSV)"]
    control(at, "slider", "Time range").set_value((10.0, 10.5)).run()
    short = slots(at)  # shorter than a frame: a note under the picture
    assert all(offered(at).values())
    assert any("shorter than the FFT size" in c.value for c in at.caption)
    control(at, "select_slider", "FFT size").set_value(4096).run()
    control(at, "select_slider", "Window length").set_value(8192).run()
    capped = slots(at)  # a note above the picture
    assert any("capped at the FFT size" in c.value for c in at.caption)
    row = ("flex_container", ["download_button"] * 4)  # buttons as wide as their labels
    assert long_range[-1] == ("flex_container", [row, "caption"])
    assert short[-1] == capped[-1] == ("flex_container", [row])
    assert len(long_range) == len(short) == len(capped) == 4
    assert long_range[1] == short[1] == capped[1]  # the picture's slot


def test_a_newer_change_waiting_stops_the_spectrogram_without_an_error(tags_calls, monkeypatch):
    monkeypatch.setattr(ui.internals, "newer_run_waiting", lambda: True)
    # A sound no other test uses: its spectrogram is in no cache yet.
    at = upload(open_page(), "tone.wav", wav(tone(seconds=1.5, hz=777.0), 16000))
    assert not at.exception and not at.error and not images(at)
    assert any(c.value == "Settings changed: drawing the newer ones…" for c in at.caption)
    monkeypatch.setattr(ui.internals, "newer_run_waiting", lambda: False)
    at.run()  # the stopped computation was not cached: the next run draws the picture
    assert shows_result(at)


def test_a_box_on_the_spectrogram_zooms_time_and_band_and_reset_returns(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    whole = spectrogram(at)["axes"]
    box = {"kind": "zoom", "start_s": 1.0004, "end_s": 2.5, "fmin_hz": 200.0, "fmax_hz": 4000.0}
    send_view_change(at, box)
    assert shows_result(at)
    assert control(at, "slider", "Time range").value == (1.0, 2.5)  # the slider follows
    assert tags_calls[-1][1:3] == (1.0, 2.5)  # so does everything under it
    axes = spectrogram(at)["axes"]
    assert (axes["start_s"], axes["end_s"]) == pytest.approx((1.0, 2.5))
    assert shown_band(axes) == pytest.approx((200.0, 4000.0))
    assert spectrogram_caption(at).endswith("over 1.50 s, showing 200 Hz – 4 kHz")
    assert "× 406 rows" in spectrogram_caption(at)  # the band at full resolution

    # A box as tall as the picture (or a wheel zoom) narrows time and keeps the band.
    low, high = shown_band(axes)
    send_view_change(at, {**box, "start_s": 1.5, "fmin_hz": low, "fmax_hz": high})
    assert control(at, "slider", "Time range").value == (1.5, 2.5)
    assert spectrogram_caption(at).endswith("showing 200 Hz – 4 kHz")

    send_view_change(at, {"kind": "reset"})
    assert shows_result(at)
    assert control(at, "slider", "Time range").value == (0.0, 4.0)
    assert spectrogram(at)["axes"] == whole
    assert "showing" not in spectrogram_caption(at)


def test_a_box_zoom_or_a_reset_runs_the_page_once(tags_calls, monkeypatch):
    """The spectrogram's callback asks for the full run that draws the new view itself, so
    no other run comes before or after it."""
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    runs = []
    title = st.title  # the page's first line: once per run
    monkeypatch.setattr(st, "title", lambda *args, **kw: runs.append(1) or title(*args, **kw))
    box = {"kind": "zoom", "start_s": 1.0, "end_s": 2.5, "fmin_hz": 200.0, "fmax_hz": 4000.0}
    send_view_change(at, box)
    assert len(runs) == 1 and control(at, "slider", "Time range").value == (1.0, 2.5)
    send_view_change(at, {"kind": "reset"})
    assert len(runs) == 2 and control(at, "slider", "Time range").value == (0.0, 4.0)


def test_a_tall_box_on_the_whole_band_keeps_every_frequency(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    low, high = shown_band(spectrogram(at)["axes"])
    send_view_change(
        at,
        {"kind": "zoom", "start_s": 1.0, "end_s": 3.0, "fmin_hz": low,
         "fmax_hz": high * (1 + 1e-9)},  # the browser's rounding
    )  # fmt: skip
    assert spectrogram_caption(at).endswith("over 2.00 s")
    assert shown_band(spectrogram(at)["axes"])[0] == low


def test_a_band_the_new_scale_cannot_show_says_so_and_offers_all_frequencies(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=2.0), 16000))
    control(at, "radio", "Frequency scale").set_value("linear").run()
    send_view_change(at, {"kind": "zoom", "start_s": 0.5, "end_s": 1.5, "fmin_hz": 2.0,
                          "fmax_hz": 15.0})  # fmt: skip
    assert shows_result(at) and "showing 2 Hz – 15 Hz" in spectrogram_caption(at)
    control(at, "radio", "Frequency scale").set_value("log").run()  # from 20 Hz up
    assert not at.exception and len(at.error) == 1 and not at.get("bidi_component")
    assert at.error[0].value.startswith("The frequency band lies outside what the log scale")
    at.button[0].click().run()
    assert shows_result(at) and "showing" not in spectrogram_caption(at)
    assert control(at, "slider", "Time range").value == (0.5, 1.5)  # the time range stays


def test_on_a_phone_the_grid_is_the_phone_pictures_plot(tags_calls, monkeypatch):
    monkeypatch.setattr(ui.device, "is_phone", lambda: True)
    at = upload(open_page(), "tone.wav", wav(tone(seconds=2.0), 16000))
    assert shows_result(at)
    layout = PHONE_SPECTROGRAM_LAYOUT
    columns, rows = layout.plot_size
    view = spectrogram(at)
    assert view["axes"]["plot"] == [layout.left, layout.top, columns, rows]
    assert view["axes"]["image"] == [layout.width, layout.height]
    assert f"× {rows} rows" in spectrogram_caption(at) and view["levels"]["rows"] == rows


def test_a_zoom_survives_a_run_the_browser_asked_for_before_it(tags_calls):
    """A progress poll (the speech section's) sent just before a zoom's new range reached the
    browser carries the old range: it must not bring the old view back under the new slider."""
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    stale = at._tree.get_widget_states()  # what the browser knew before the zoom
    send_view_change(at, {"kind": "zoom", "start_s": 1.0, "end_s": 2.0, "fmin_hz": 100.0,
                          "fmax_hz": 3000.0})  # fmt: skip
    at._run(stale)
    assert not at.exception
    at.run()
    assert control(at, "slider", "Time range").value == (1.0, 2.0)
    assert "over 1.00 s, showing 100 Hz – 3 kHz" in spectrogram_caption(at)


def test_the_link_brings_back_the_zoomed_range_and_band(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    send_view_change(at, {"kind": "zoom", "start_s": 1.0, "end_s": 2.0, "fmin_hz": 100.0,
                          "fmax_hz": 3000.0})  # fmt: skip
    link = at.query_params["w"]
    again = AppTest.from_file(PAGE, default_timeout=TIMEOUT)  # a reload: a new session
    again.query_params["w"] = link if isinstance(link, str) else link[-1]
    again.run()
    assert not again.exception and shows_result(again)
    assert control(again, "slider", "Time range").value == (1.0, 2.0)
    assert "over 1.00 s, showing 100 Hz – 3 kHz" in spectrogram_caption(again)
    send_view_change(again, {"kind": "reset"})  # the reset is kept too
    third = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    third.query_params["w"] = again.query_params["w"]
    third.run()
    assert control(third, "slider", "Time range").value == (0.0, 4.0)
    assert "showing" not in spectrogram_caption(third)


def test_on_a_phone_the_facts_are_one_line(tags_calls, monkeypatch):
    monkeypatch.setattr(ui.device, "is_phone", lambda: True)
    at = upload(open_page(), "stereo.wav", wav(tone(seconds=2.0, channels=2), 16000))
    assert shows_result(at) and not at.metric  # no stack of five tiles above the picture
    assert "2.0 s · 16,000 Hz · stereo · WAV, 16-bit PCM" in [c.value for c in at.caption]
    # The controls are folded (their columns would stack above the picture); they still work.
    assert [e.label for e in at.expander] == ["Spectrogram settings"]
    control(at, "select_slider", "FFT size").set_value(4096).run()
    assert shows_result(at) and "frames of 4096 samples" in spectrogram_caption(at)


def test_the_channel_selector_names_the_mix(tags_calls):
    at = upload(open_page(), "stereo.wav", wav(tone(seconds=1.0, channels=2), 16000))
    channel = control(at, "selectbox", "Channel")
    assert channel.value == "mix" and channel.format_func(channel.value) == "mix of all channels"
    channel.set_value(1).run()
    assert shows_result(at)


def test_a_video_is_analysed_by_its_soundtrack_and_says_so(tags_calls):
    from tests.support.corpus import VIDEO_CASES

    case = next(c for c in VIDEO_CASES if c.id == "video-mp4")
    at = upload(open_page(), case.name, case.make(), case.mime)
    assert shows_result(at), [e.value for e in at.error]
    assert any("analyses its soundtrack" in i.value for i in at.info)
    assert facts(at)["Format"] == "MP4" and facts(at)["Encoding"] == "AAC"


def test_a_video_without_sound_is_one_sentence(tags_calls):
    from tests.support.corpus import VIDEO_CASES

    case = next(c for c in VIDEO_CASES if c.id == "video-avi")
    at = upload(open_page(), case.name, case.make(), case.mime)
    assert not images(at) and len(at.error) == 1
    assert at.error[0].value == "“clip.avi” is a video without sound: there is nothing to hear."


def test_the_view_gets_lanes_and_peaks_and_a_zoom_its_own_hop(tags_calls):
    at = upload(open_page(), "tone.wav", wav(tone(seconds=4.0), 16000))
    layers = spectrogram(at)["layers"]
    low, high = layers["waveform"]
    assert len(low) == SPECTROGRAM_LAYOUT.plot_size[0]  # a value a pixel column
    assert max(high) == pytest.approx(0.5, abs=0.01)  # the tone's amplitude
    assert layers["peaks"]["hz"][10][0] == pytest.approx(1000.0, abs=0.5)
    # 4 s at 16 kHz over 996 columns: a hop of 64 samples, not the quarter window's 512.
    assert "hop 64 = 4 ms fitted to this view: a frame per column" in spectrogram_caption(at)
    send_view_change(at, {"kind": "zoom", "start_s": 1.0, "end_s": 1.1, "fmin_hz": 20.0,
                          "fmax_hz": 8000.0})  # fmt: skip
    caption = spectrogram_caption(at)
    assert "hop 1 = 0.062 ms fitted to this view: every sample" in caption  # 1600 samples


def test_finished_speech_work_becomes_layers_and_a_failure_leaves_the_picture(
    tags_calls, monkeypatch
):
    from analysis.speech.voice import Voice
    from analysis.speech.whisper import Segment, Transcript, Word

    times = np.arange(0.0, 2.0, 0.01)
    f0 = np.where(times < 1.0, 220.0, np.nan)
    voice = Voice(times, f0, np.full(times.size, -20.0), np.full((times.size, 3), 700.0))
    words = (Word(0.2, 0.6, " hello", 0.9), Word(0.7, 1.1, " world", 0.8))
    transcript = Transcript(
        "whisper-tiny.en", "en", 1.0, 2.0, (Segment(0.2, 1.1, " hello world", words),),
        np.zeros((0, 2)),
    )  # fmt: skip
    layers_module = ui.sections.spectrogram_layers
    monkeypatch.setattr(layers_module, "finished_voice", lambda *args: voice)
    monkeypatch.setattr(layers_module, "finished_transcript", lambda *args: transcript)
    monkeypatch.setattr(layers_module, "finished_music", lambda *args: None)
    at = upload(open_page(), "tone.wav", wav(tone(seconds=2.0), 16000))
    layers = spectrogram(at)["layers"]
    assert layers["words"] == [[0.2, 0.6, " hello"], [0.7, 1.1, " world"]]
    pitch, *formants = layers["tracks"]
    assert pitch["name"] == "Pitch (F0)" and [t["name"] for t in formants] == ["F1", "F2", "F3"]
    assert pitch["hz"][0] == 220.0 and pitch["hz"][-1] is None  # unvoiced: no value

    monkeypatch.setattr(layers_module, "finished_voice", lambda *args: 1 / 0)
    control(at, "select_slider", "FFT size").set_value(1024).run()
    assert not at.exception and len(images(at)) == 1  # the picture, without layers
    assert any("layers" in c.value and "could not" in c.value for c in at.caption)


def test_finished_music_becomes_beats_chords_chroma_and_notes(tags_calls, monkeypatch):
    from types import SimpleNamespace

    from analysis.audio.harmony import Chord

    times = np.arange(0.0, 2.0, 0.05)
    music = SimpleNamespace(
        beats_s=np.array([0.5, 1.0, 1.5, 2.5]),  # the last one after the view
        onsets_s=np.array([0.5, 1.0]),
        chords=[Chord(0.0, 1.0, "C"), Chord(1.0, 2.0, "G")],
        chroma=np.eye(12, dtype=np.float32)[:, [0] * times.size],
        chroma_times_s=times,
        pitch=SimpleNamespace(times_s=times, f0_hz=np.full(times.size, 440.0)),
    )
    layers_module = ui.sections.spectrogram_layers
    monkeypatch.setattr(layers_module, "finished_music", lambda *args: music)
    at = upload(open_page(), "tone.wav", wav(tone(seconds=2.0), 16000))
    layers = spectrogram(at)["layers"]
    assert layers["beats"] == [0.5, 1.0, 1.5] and layers["onsets"] == [0.5, 1.0]
    assert layers["chords"] == [[0.0, 1.0, "C"], [1.0, 2.0, "G"]]
    assert len(layers["chroma"]["values"]) == 12 and layers["chroma"]["values"][0][0] == 1.0
    notes = next(t for t in layers["tracks"] if t["name"] == "Notes (pYIN)")
    assert set(notes["hz"]) == {440.0}


@pytest.fixture
def held_decode(monkeypatch):
    """The background decode of a long file waits until the test sets the returned event."""
    import threading

    import ui.sections.reading

    release, original = threading.Event(), ui.sections.reading.decode

    def waiting(file_key, data, name, progress=None):
        if progress is not None:  # the job's: the page's own calls never wait
            assert release.wait(TIMEOUT)
            return original(file_key, data, name, progress)
        return original(file_key, data, name)

    monkeypatch.setattr(ui.sections.reading, "decode", waiting)
    return release


def test_a_long_compressed_file_shows_its_first_minute_while_the_rest_decodes(
    tags_calls, held_decode
):
    import hashlib

    import ui.jobs

    minutes = np.tile(tone(8000, 1.0, 440.0), (240, 1))  # 4 minutes
    content = wav(minutes, 8000, "VORBIS", "OGG")
    at = upload(open_page(), "long.ogg", content, "audio/ogg")
    assert facts(at)["Duration"] == "4:00.0 min"  # the file's, not the part's
    assert "over 60.00 s" in spectrogram_caption(at)
    assert any(
        c.value.startswith("Still reading the file: its first 1:00.0 min") for c in at.caption
    )
    assert tags_calls == []  # held back until the whole file is read
    held_decode.set()
    job = ui.jobs.board().get((hashlib.sha256(content).hexdigest()[:24], "decode"))
    assert job.future.result(TIMEOUT) is True
    at.run()
    assert not at.exception and facts(at)["Duration"] == "4:00.0 min"
    assert "over 240.00 s" in spectrogram_caption(at)
    assert not any(c.value.startswith("Still reading") for c in at.caption)
    assert len(tags_calls) == 1


def test_reading_a_long_file_can_be_stopped_and_started_again(tags_calls, held_decode):
    import hashlib

    import ui.jobs

    content = wav(np.tile(tone(8000, 1.0, 440.0), (200, 1)), 8000, "VORBIS", "OGG")
    key = (hashlib.sha256(content).hexdigest()[:24], "decode")
    at = upload(open_page(), "long.ogg", content, "audio/ogg")
    at.button(key="audio_reading_stop").click().run()
    stopped = "Reading was stopped: only the file's first 1:00.0 min is shown, of 3:20.0 min."
    assert stopped in [c.value for c in at.caption] and tags_calls == []
    held_decode.set()
    assert ui.jobs.board().get(key).future.result(TIMEOUT) is None  # it stopped
    at.run()
    assert stopped in [c.value for c in at.caption] and "over 60.00 s" in spectrogram_caption(at)
    next(b for b in at.button if b.label == "Read the whole file").click().run()
    assert ui.jobs.board().get(key).future.result(TIMEOUT) is True
    at.run()
    assert "over 200.00 s" in spectrogram_caption(at) and len(tags_calls) == 1
