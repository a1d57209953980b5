"""Run pages that use streamlit-webrtc under ``AppTest``, which has no real Streamlit server."""

from __future__ import annotations

import pytest


def webrtc_without_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``webrtc_streamer`` draw under AppTest.

    streamlit-webrtc looks its session up in the server's session manager and returns
    None ("no session") when there is no server, but AppTest's mock runtime raises an
    AttributeError it does not catch. Answer None, as it would.
    """
    import streamlit_webrtc.component
    import streamlit_webrtc.shutdown

    for module in (streamlit_webrtc.component, streamlit_webrtc.shutdown):
        monkeypatch.setattr(module, "get_this_session_info", lambda: None)
