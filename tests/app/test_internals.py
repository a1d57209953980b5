"""ui.internals uses Streamlit's private APIs: check each still means what we rely on."""

import base64
from types import SimpleNamespace

from streamlit import runtime
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests
from streamlit.testing.v1 import AppTest

import ui.internals


def test_a_queued_fragment_rerun_is_seen_and_consumed_runs_are_not(monkeypatch):
    requests = ScriptRequests()
    context = SimpleNamespace(script_requests=requests)
    monkeypatch.setattr(ui.internals, "get_script_run_ctx", lambda **_: context)
    assert not ui.internals.newer_run_waiting()
    # A slider inside a fragment moved while the fragment runs: queued, not preempting.
    requests.request_rerun(RerunData(fragment_id="spectrogram"))
    assert requests.on_scriptrunner_yield() is None  # Streamlit lets the old run go on...
    assert ui.internals.newer_run_waiting()  # ...so we must notice it ourselves
    requests.on_scriptrunner_ready()  # the run ended: the queued one starts
    assert not ui.internals.newer_run_waiting()


def test_another_fragments_timer_is_not_a_newer_change(monkeypatch):
    requests = ScriptRequests()
    context = SimpleNamespace(script_requests=requests)
    monkeypatch.setattr(ui.internals, "get_script_run_ctx", lambda **_: context)
    # The speech section's progress poll (run_every) ticks while the spectrogram is computed.
    requests.request_rerun(RerunData(fragment_id="speech progress", is_auto_rerun=True))
    assert not ui.internals.newer_run_waiting()
    requests.request_rerun(RerunData(fragment_id="spectrogram"))  # a person moved a slider
    assert ui.internals.newer_run_waiting()


def test_outside_a_script_run_nothing_is_waiting(monkeypatch):
    monkeypatch.setattr(ui.internals, "get_script_run_ctx", lambda **_: None)
    assert not ui.internals.newer_run_waiting()


def test_without_a_server_media_goes_inline_as_a_data_url():
    assert not runtime.exists()  # a bare script, as here
    url = ui.internals.media_url(b"RIFF....WAVE", "audio/wav", "view.audio")
    assert url.startswith("data:audio/wav;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == b"RIFF....WAVE"


def _show_media_urls():
    import streamlit as st

    import ui.internals

    st.text(ui.internals.media_url(b"\x00" * 1000, "audio/wav", "view.audio"))
    st.text(ui.internals.media_url(b"\xff\xd8\xff", "image/jpeg", "view.picture"))


def test_under_a_server_media_goes_through_its_media_file_manager():
    """A run has Streamlit's runtime, whose media file manager hands out URLs it serves."""
    app = AppTest.from_function(_show_media_urls).run()
    assert not app.exception
    audio, picture = (text.value for text in app.text)
    assert audio.startswith("/") and audio.endswith(".wav") and picture.endswith(".jpg")
    again = AppTest.from_function(_show_media_urls).run()
    assert again.text[0].value == audio  # the URL names the content: same bytes, same URL
