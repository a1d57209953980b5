"""The Live page under AppTest (no browser, no stream) and its ICE server configuration."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.errors import InputError
from tests.support.webrtc_apptest import webrtc_without_server
from ui.sections.live import ICE_ENV, ice_servers, parse_ice_servers

TURN = '[{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}]'


@pytest.fixture
def live_page(monkeypatch) -> AppTest:
    webrtc_without_server(monkeypatch)
    monkeypatch.delenv(ICE_ENV, raising=False)
    return AppTest.from_file("../../app_pages/live.py", default_timeout=60)


def test_the_camera_side_draws_its_controls_and_waits_for_start(live_page):
    at = live_page.run()
    assert not at.exception and not at.error
    assert at.radio[0].value == "Camera"
    assert [s.label for s in at.slider] == [
        "Confidence threshold",
        "Overlap (IoU) for merging boxes",
    ]
    assert "Press Start to stream from the camera." in [c.value for c in at.caption]
    video = at.session_state["live_video"]
    assert video.settings.params.confidence == 0.5


def test_a_slider_move_reaches_the_session_stream_without_a_new_holder(live_page):
    at = live_page.run()
    video = at.session_state["live_video"]
    at.slider[0].set_value(0.8).run()
    assert at.session_state["live_video"] is video
    assert video.settings.params.confidence == 0.8
    at.toggle[0].set_value(True).run()  # follow objects
    assert video.settings.track


def test_recording_switched_off_before_any_frame_says_so(live_page):
    at = live_page.run()
    record = next(t for t in at.toggle if t.label == "Record the annotated stream")
    record.set_value(True).run()
    record = next(t for t in at.toggle if t.label == "Record the annotated stream")
    record.set_value(False).run()
    assert not at.exception
    assert [i.value for i in at.info] == [
        "Nothing was recorded: start the camera, then switch recording on."
    ]


def test_the_microphone_side_waits_for_start(live_page):
    at = live_page.run()
    at.radio[0].set_value("Microphone").run()
    assert not at.exception and not at.error
    assert "Press Start to listen to the microphone." in [c.value for c in at.caption]
    assert not at.slider


def test_by_default_no_ice_server_is_used(monkeypatch):
    # No public STUN server: nothing waits on one offline.
    monkeypatch.delenv(ICE_ENV, raising=False)
    assert ice_servers() == []


def test_ice_servers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(ICE_ENV, TURN)
    assert ice_servers() == [
        {"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}
    ]


@pytest.mark.parametrize("text", ["stun:x", "{}", '[{"url": "stun:x"}]', "[1]"])
def test_malformed_ice_servers_are_refused_in_one_sentence(text):
    with pytest.raises(InputError, match="must be a list of ICE servers"):
        parse_ice_servers(text)


def test_the_page_says_when_the_ice_servers_are_malformed(live_page, monkeypatch):
    monkeypatch.setenv(ICE_ENV, "not json")
    at = live_page.run()
    assert not at.exception
    assert len(at.error) == 1 and ICE_ENV in at.error[0].value


def test_ice_servers_from_secrets_are_checked_too(live_page):
    live_page.secrets["ice_servers"] = [{"urls": "turn:turn.example.org:3478"}]
    assert not live_page.run().error
    live_page.secrets["ice_servers"] = [{"server": "turn:turn.example.org:3478"}]
    at = live_page.run()
    assert len(at.error) == 1 and "secrets.toml must be a list of ICE servers" in at.error[0].value
