"""ui.internals reads Streamlit's private rerun state: check it still means what we rely on."""

from types import SimpleNamespace

from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

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
