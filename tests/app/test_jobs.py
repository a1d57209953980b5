"""ui.jobs: identical work computed once, one person's Stop never stops another's job."""

from __future__ import annotations

import threading

import pytest

from ui.jobs import Job, JobBoard, Kind, Progress

TIMEOUT_S = 30


@pytest.fixture
def jobs():
    board = JobBoard({"work": Kind(threads=2, keep=2)})
    yield board
    board.shutdown()


def blocked(release: threading.Event, calls: list[int], started: threading.Event | None = None):
    """A computation that counts its runs in ``calls``, reports progress, sets ``started``,
    then waits for ``release`` (or a stop) and returns 42."""

    def compute(progress: Progress) -> int:
        calls.append(1)
        progress(1, 3)
        if started is not None:
            started.set()
        while not release.wait(0.01):  # polls the stop flag, as a computation does
            progress.check()
        return 42

    return compute


def finished(job: Job) -> Job:
    job.future.result(TIMEOUT_S)
    return job


def test_identical_work_is_computed_once_for_every_session(jobs) -> None:
    release, calls = threading.Event(), []
    first = jobs.start(
        ("file", 1), "work", "Working", "steps", blocked(release, calls), session="a"
    )
    second = jobs.start(
        ("file", 1), "work", "Working", "steps", blocked(release, calls), session="b"
    )
    assert second is first and first.watchers == {"a", "b"}
    release.set()
    assert finished(first).result == 42 and calls == [1]
    # Done: asking again gives the result, nothing runs again.
    assert (
        jobs.start(("file", 1), "work", "Working", "steps", blocked(release, calls), session="c")
        is first
    )
    assert calls == [1]


def test_one_sessions_stop_leaves_the_job_running_for_another(jobs) -> None:
    release, calls = threading.Event(), []
    job = jobs.start(("file", 1), "work", "Working", "steps", blocked(release, calls), session="a")
    jobs.start(("file", 1), "work", "Working", "steps", blocked(release, calls), session="b")
    jobs.stop(job, "a")
    assert job.running and not job.progress.stop.is_set() and job.watchers == {"b"}
    release.set()
    assert finished(job).result == 42


def test_the_last_watchers_stop_ends_the_job_and_a_new_request_starts_it_again(jobs) -> None:
    release, calls = threading.Event(), []
    job = jobs.start(("file", 1), "work", "Working", "steps", blocked(release, calls), session="a")
    jobs.stop(job, "a")
    assert finished(job).result is None and job.stopped
    again = jobs.start(
        ("file", 1), "work", "Working", "steps", blocked(release, calls), session="a"
    )
    assert again is not job and again.running
    release.set()
    assert finished(again).result == 42 and len(calls) == 2


def test_a_failure_is_kept_with_its_job(jobs) -> None:
    def fail(progress: Progress) -> None:
        raise ValueError("broken")

    job = finished(jobs.start(("file", 2), "work", "Working", "steps", fail, session="a"))
    assert isinstance(job.failure, ValueError) and not job.stopped
    assert jobs.start(("file", 2), "work", "Working", "steps", fail, session="b") is job


def test_status_reads_the_progress(jobs) -> None:
    release, started = threading.Event(), threading.Event()
    compute = blocked(release, [], started)
    job = jobs.start(("file", 1), "work", "Working", "steps", compute, session="a")
    assert started.wait(TIMEOUT_S)
    assert job.status() == (pytest.approx(1 / 3), "Working… 1 of 3 steps")
    release.set()


def test_only_the_latest_finished_jobs_of_a_kind_are_kept(jobs) -> None:
    for n in range(4):
        finished(jobs.start(("file", n), "work", "Working", "steps", lambda p, n=n: n, session="a"))
    jobs.start(("file", 9), "work", "Working", "steps", lambda p: 9, session="a")
    kept = [job.key for job in jobs.find(lambda key: True) if not job.running]
    assert len(kept) <= 2 and ("file", 0) not in kept


def test_a_job_asked_for_again_before_it_noticed_its_stop_goes_on(jobs) -> None:
    release, calls = threading.Event(), []

    def unheeding(progress: Progress) -> int:  # never looks at the stop flag
        calls.append(1)
        assert release.wait(TIMEOUT_S)
        return 42

    job = jobs.start(("file", 1), "work", "Working", "steps", unheeding, session="a")
    jobs.stop(job, "a")
    assert job.progress.stop.is_set()
    again = jobs.start(("file", 1), "work", "Working", "steps", unheeding, session="b")
    assert again is job and not job.progress.stop.is_set() and job.watchers == {"b"}
    release.set()
    assert finished(job).result == 42 and calls == [1]


def test_stopping_a_finished_job_keeps_its_result(jobs) -> None:
    job = finished(jobs.start(("file", 1), "work", "Working", "steps", lambda p: 7, session="a"))
    jobs.stop(job, "a")
    assert not job.progress.stop.is_set()
    assert jobs.start(("file", 1), "work", "Working", "steps", lambda p: 8, session="a") is job
    assert job.result == 7


def test_who_stopped_a_job_is_remembered_when_another_session_starts_it_again(jobs) -> None:
    release, calls = threading.Event(), []
    job = jobs.start(("file", 1), "work", "Working", "steps", blocked(release, calls), session="a")
    jobs.stop(job, "a")
    assert finished(job).stopped and job.left == {"a"}
    again = jobs.start(
        ("file", 1), "work", "Working", "steps", blocked(release, calls), session="b"
    )
    assert again is not job and again.watchers == {"b"} and again.left == {"a"}
    # a's own request makes it a watcher again.
    jobs.start(("file", 1), "work", "Working", "steps", blocked(release, calls), session="a")
    assert again.watchers == {"a", "b"} and not again.left
    release.set()
    assert finished(again).result == 42


def test_step_reports_then_stops_the_job_once_nobody_watches(jobs) -> None:
    release, started = threading.Event(), threading.Event()

    def stepping(progress: Progress) -> int:
        progress.step(1, 2)
        started.set()
        assert release.wait(TIMEOUT_S)
        progress.step(2, 2)  # raises Stopped: the job ends with no result
        return 42

    job = jobs.start(("file", 1), "work", "Working", "steps", stepping, session="a")
    assert started.wait(TIMEOUT_S)
    assert (job.progress.done, job.progress.total) == (1, 2)
    jobs.stop(job, "a")
    release.set()
    assert finished(job).stopped and job.failure is None and job.progress.done == 1


def test_a_job_waiting_for_its_turn_says_how_many_run_at_once() -> None:
    board = JobBoard({"one": Kind(threads=1, keep=2), "two": Kind(threads=2, keep=2)})
    release = threading.Event()
    try:
        for kind, at_once in (("one", "one"), ("two", "2")):
            for n in range(board.kinds[kind].threads):  # every thread of the kind busy
                board.start((kind, n), kind, "Working", "steps", blocked(release, []), session="a")
            waiting = board.start(
                (kind, "last"), kind, "Working", "steps", lambda p: 0, session="a"
            )
            assert waiting.status() == (
                0.0,
                f"Working: waiting for its turn ({at_once} at a time on this server)…",
            )
    finally:
        release.set()
        board.shutdown()


def test_a_waiting_job_stopped_by_its_only_watcher_never_runs(jobs) -> None:
    release, calls = threading.Event(), []
    for n in range(2):  # both threads busy
        jobs.start(("busy", n), "work", "Working", "steps", blocked(release, calls), session="a")
    waiting = jobs.start(
        ("file", 1), "work", "Working", "steps", lambda p: calls.append(9), session="b"
    )
    jobs.stop(waiting, "b")
    release.set()
    assert waiting.future.cancelled() and waiting.stopped and 9 not in calls


def test_a_job_told_to_stop_says_it_is_stopping(jobs) -> None:
    release, started = threading.Event(), threading.Event()

    def unheeding(progress: Progress) -> int:
        progress(1, 4)
        started.set()
        assert release.wait(TIMEOUT_S)
        return 1

    job = jobs.start(("file", 1), "work", "Working", "steps", unheeding, session="a")
    assert started.wait(TIMEOUT_S)
    jobs.stop(job, "a")
    assert job.status() == (0.25, "Working: stopping…")
    release.set()
    assert finished(job).result == 1  # it kept what it had done
