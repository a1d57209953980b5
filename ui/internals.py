"""The only module that touches Streamlit's private APIs; tests/app/test_internals.py pins
each use, so a Streamlit upgrade that changes one fails there first."""

from __future__ import annotations

import base64

from streamlit import runtime
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def newer_run_waiting() -> bool:
    """True when this session has asked for another run since the current one started.

    Streamlit queues a fragment's rerun behind the run under way instead of interrupting it,
    so a newer slider move would wait for an older, now useless, picture. A computation that
    checks this between its steps can stop, and the newer request starts at once. There is
    no public API for it: this reads ``ScriptRequests``' state.
    """
    context = get_script_run_ctx(suppress_warning=True)
    requests = getattr(context, "script_requests", None)
    if getattr(requests, "_state", None) is not ScriptRequestType.RERUN:
        return False
    # A fragment's timer (``run_every``: a progress poll) is no newer change of the controls:
    # giving way to it would leave the old picture's place empty.
    return not getattr(getattr(requests, "_rerun_data", None), "is_auto_rerun", False)


def media_url(data: bytes, mime: str, coordinates: str) -> str:
    """A URL the browser fetches ``data`` from, for a custom component (which, unlike
    ``st.image`` or ``st.audio``, gets no media URL of its own).

    Streamlit's media endpoint serves byte ranges, so a long sound seeks without loading it
    all, and the file lives as long as the element showing it (``coordinates``: where it is
    on the page). Without a server (a bare script) the data goes inline, as a data URL.
    """
    if runtime.exists():
        return runtime.get_instance().media_file_mgr.add(data, mime, coordinates)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def open_sessions() -> int:
    """How many browser sessions are connected now (-1 outside a Streamlit server)."""
    # AppTest's runtime is a mock with no session manager.
    manager = getattr(runtime.get_instance(), "_session_mgr", None) if runtime.exists() else None
    if manager is None:
        return -1
    return manager.num_active_sessions()


def release_closed_sessions() -> int:
    """Free what closed browser sessions still hold; returns how many were released.

    Streamlit keeps a closed tab's session two minutes for a reconnect, but reaps that store
    only when another session connects, and never drops the session's uploaded files: on an
    idle server every closed tab's uploads stay in memory. This shuts down the sessions whose
    two minutes are over (which drops their uploads) and drops the uploads of any session
    that is neither open nor kept. There is no public API for either.
    """
    instance = runtime.get_instance() if runtime.exists() else None
    manager = getattr(instance, "_session_mgr", None)
    if manager is None:
        return 0
    storage = getattr(manager, "_session_storage", None)
    cache, lock = getattr(storage, "_cache", None), getattr(manager, "_storage_lock", None)
    released = 0
    if cache is not None and lock is not None and hasattr(cache, "expire"):
        with lock:
            expired = cache.expire()
        for _, info in expired:
            info.session.shutdown()
            released += 1
    files = getattr(instance.uploaded_file_mgr, "file_storage", {})
    for session_id in list(files):
        kept = storage is not None and storage.get(session_id) is not None
        if not manager.is_active_session(session_id) and not kept:
            instance.uploaded_file_mgr.remove_session_files(session_id)
            released += 1
    return released
