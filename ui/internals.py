"""Let a slow computation give way to a newer change of the same person's controls."""

from __future__ import annotations

from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def newer_run_waiting() -> bool:
    """True when this session has asked for another run since the current one started.

    Streamlit queues a fragment's rerun behind the run under way instead of interrupting it,
    so a newer slider move would wait for an older, now useless, picture. A computation that
    checks this between its steps can stop, and the newer request starts at once. There is
    no public API for it: this reads ``ScriptRequests``' state (tests/test_reruns.py checks
    that it still means what it does).
    """
    context = get_script_run_ctx(suppress_warning=True)
    requests = getattr(context, "script_requests", None)
    if getattr(requests, "_state", None) is not ScriptRequestType.RERUN:
        return False
    # A fragment's timer (``run_every``: a progress poll) is no newer change of the controls:
    # giving way to it would leave the old picture's place empty.
    return not getattr(getattr(requests, "_rerun_data", None), "is_auto_rerun", False)
