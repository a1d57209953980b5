"""ui.internals uses Streamlit's private APIs: check each still means what we rely on."""

import base64
import threading
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


def test_closed_sessions_past_their_reconnect_time_are_shut_down_and_their_uploads_dropped(
    monkeypatch,
):
    from streamlit.runtime.memory_session_storage import MemorySessionStorage
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.session_manager import SessionInfo
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    class Session:
        def __init__(self, session_id: str) -> None:
            self.id, self.closed = session_id, False

        def shutdown(self) -> None:  # what AppSession.shutdown does to its uploads
            self.closed = True
            uploads.remove_session_files(self.id)

    uploads = MemoryUploadedFileManager("/upload")
    for session_id in ("open", "closed now", "closed long ago", "gone"):
        uploads.add_file(session_id, UploadedFileRec("f", "a.wav", "audio/wav", b"x" * 1000))
    clock = [0.0]
    kept = MemorySessionStorage(ttl_seconds=120)
    kept._cache._timer = lambda: clock[0]  # Streamlit's TTL cache, on a clock of our own
    old, recent = Session("closed long ago"), Session("closed now")
    kept.save(SessionInfo(client=None, session=old))
    clock[0] = 100.0
    kept.save(SessionInfo(client=None, session=recent))
    clock[0] = 150.0  # the first closed 150 s ago: past Streamlit's 120 s; the other 50 s
    manager = SimpleNamespace(
        _session_storage=kept,
        _storage_lock=threading.Lock(),
        is_active_session=lambda session_id: session_id == "open",
    )
    instance = SimpleNamespace(_session_mgr=manager, uploaded_file_mgr=uploads)
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: instance)
    assert ui.internals.release_closed_sessions() == 2  # the old session, the gone one's files
    assert old.closed and not recent.closed
    assert sorted(uploads.file_storage) == ["closed now", "open"]
    assert ui.internals.release_closed_sessions() == 0
