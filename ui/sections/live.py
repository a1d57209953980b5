"""What the Live page shares with nothing else: ICE servers, cached models, WebRTC wording."""

from __future__ import annotations

import json
import os

import streamlit as st

from analysis.audio.tagging import YamNet, load_yamnet
from analysis.errors import InputError
from analysis.video.pipeline import video_detector
from analysis.vision.detectors import Detector
from analysis.vision.timings import warm_up
from ui.state import hand_over_file

ICE_ENV = "PERCEPT_ICE_SERVERS"
"""Environment variable holding the ICE servers as JSON (wins over ``secrets.toml``)."""

# streamlit-webrtc's own messages, said in one sentence each, in the app's words.
TRANSLATIONS = {
    "start": "Start",
    "stop": "Stop",
    "select_device": "Select device",
    "media_api_not_available": (
        "This browser gives no access to cameras or microphones here: open the app on "
        "localhost or over HTTPS."
    ),
    "device_ask_permission": "Allow the browser to use the camera or microphone.",
    "device_not_available": "No camera or microphone was found: connect one and press Start.",
    "device_access_denied": (
        "The browser refused access to the camera or microphone: allow it in the address "
        "bar's site settings and press Start again."
    ),
}


def parse_ice_servers(text: str, source: str = ICE_ENV) -> list[dict]:
    """ICE servers from JSON: a list of ``{"urls": ..., "username": ..., "credential": ...}``.

    ``source`` names where ``text`` came from, for the error message.

    Raises
    ------
    InputError
        If ``text`` is not such a list.
    """
    try:
        servers = json.loads(text)
    except json.JSONDecodeError:
        servers = None
    if not isinstance(servers, list) or not all(
        isinstance(server, dict) and "urls" in server for server in servers
    ):
        raise InputError(
            f"{source} must be a list of ICE servers, e.g. "
            '[{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}].'
        )
    return servers


def ice_servers() -> list[dict]:
    """The ICE servers to use: from $PERCEPT_ICE_SERVERS, else ``secrets.toml``'s
    ``ice_servers``, else none (host candidates only: enough on localhost and a LAN, and
    nothing waits on an unreachable public STUN server)."""
    text = os.environ.get(ICE_ENV)
    if text:
        return parse_ice_servers(text)
    try:
        servers = st.secrets.get("ice_servers")
    except FileNotFoundError:  # no secrets.toml at all
        servers = None
    if servers is None:
        return []
    try:
        text = json.dumps([dict(server) for server in servers])
    except (TypeError, ValueError):
        text = ""
    return parse_ice_servers(text, "ice_servers in .streamlit/secrets.toml")


@st.cache_resource(show_spinner="Loading the model…")
def live_detector(name: str) -> Detector:
    """One adapter per model for every live session; adapters guard their own threads.

    Inference leaves a core to the stream's VP8 decoding and encoding, as on the Video page.
    """
    detector = video_detector(name)
    warm_up(detector.detect)  # not in the stream's first frame
    return detector


@st.cache_resource(show_spinner="Loading the YAMNet sound-event model…")
def live_yamnet() -> YamNet:
    return load_yamnet()


def send_to_audio_page(name: str, wav: bytes) -> None:
    """Open the Audio page with ``wav`` loaded as if it had been dropped on its uploader."""
    hand_over_file("audio_upload", name, wav, source=("audio_source", "Upload a file"))
    st.switch_page("app_pages/audio.py")


def just_started(stream: str, playing: bool) -> bool:
    """Whether ``stream`` ("camera", "microphone") began playing since this session's last run."""
    key = f"live_{stream}_was_playing"
    started = playing and not st.session_state.get(key)
    st.session_state[key] = playing
    return started
