"""Background jobs: the one mechanism for every computation that outlives a script run.

Whisper, Praat, a video's analysis and a batch run take seconds to minutes, so they run on
threads of the server while the page's run ends at once and its controls never wait. A job
is keyed by what it computes (a file's content hash, a model, a range, the settings): asking
for a job that is running or done gives that same job, so identical work is computed once
for every session that asks.

Each session that asks for a job *watches* it. Stop ends this session's watch only; the job
itself is told to stop once nobody watches it any more, so one person's Stop never stops
another person's work. A finished job keeps its result (the latest few of each kind), so
the result survives moving to another page and back.

A computation is a function of a :class:`Progress`: it reports ``progress(done, total)``
and either calls ``progress.check()`` or reports with ``progress.step(done, total)`` (both
raise :class:`Stopped`, and the job ends with no result), or reads ``progress.stop`` to end
early with what it has. A page shows running jobs with :func:`show_progress`, a fragment
that polls them every second, offers Stop, and reruns the whole page once one of them ends.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from analysis.errors import InputError
from models.locate import MissingModelError

LOG = logging.getLogger(__name__)
POLL_S = 1.0  # s between progress updates on the page
_SESSION = "_jobs_session"  # session-state key of this browser session's id


class Stopped(Exception):
    """Raised by :meth:`Progress.check` once nobody watches the job any more."""


class Progress:
    """What a running computation reports, and how it learns that it should stop.

    ``detail`` is what the computation reported last beside its counts, as labelled values
    (e.g. a batch's files per second and errors) that :func:`show_progress` shows as metrics.
    """

    def __init__(self) -> None:
        self.done = 0.0
        self.total = 0.0
        self.detail: Mapping[str, Any] | None = None
        self.stop = threading.Event()

    def __call__(self, done: float, total: float, detail: Mapping[str, Any] | None = None) -> None:
        self.done, self.total = done, total
        if detail is not None:
            self.detail = detail

    def check(self) -> None:
        """Raise :class:`Stopped` when the job should stop (between steps of the work)."""
        if self.stop.is_set():
            raise Stopped

    def step(self, done: float, total: float) -> None:
        """Report, then end the job here if it should stop: for a computation that reports
        between its steps but knows nothing of stopping (Whisper, Praat)."""
        self.check()
        self(done, total)


@dataclass(frozen=True)
class Kind:
    """A kind of job: its own threads, and how many finished jobs of it are kept."""

    threads: int
    keep: int


KINDS = {
    "whisper": Kind(threads=1, keep=24),  # transcripts are small; one model run at a time
    "praat": Kind(threads=1, keep=24),  # a 30-minute Voice is ~9 MB
    "video": Kind(threads=1, keep=2),  # a video pass uses every core; its MP4 is large
    "batch": Kind(threads=2, keep=32),  # the thread only waits on Dask; tables are on disk
    "music": Kind(threads=1, keep=16),  # librosa's features: ~4 MB for 10 minutes
    "hpss": Kind(threads=1, keep=2),  # two WAVs of the separated parts: ~50 MB for 10 minutes
    "decode": Kind(threads=1, keep=4),  # a long file's whole decode: its clip is in a cache
}


@dataclass(eq=False)
class Job:
    """One background computation: its progress, and its result or why there is none.

    ``watchers`` are the sessions that asked for it and still wait for it; ``left`` those
    whose Stop ended their watch (they see it as stopped even while it runs for others).
    """

    key: tuple
    kind: str
    what: str  # "Transcribing": shown with the progress and in a failure's sentence
    unit: str  # what the progress counts, e.g. "s of speech"
    threads: int = 1  # jobs of its kind that run at once on this server
    progress: Progress = field(default_factory=Progress)
    future: Future = field(default_factory=Future)
    failure: Exception | None = None
    watchers: set[Hashable] = field(default_factory=set)
    left: set[Hashable] = field(default_factory=set)

    def _run(self, compute: Callable[[Progress], object]) -> object:
        try:
            return compute(self.progress)
        except Stopped:
            return None
        except Exception as error:  # shown on the page as one sentence
            if not isinstance(error, MissingModelError | InputError):
                LOG.exception("%s failed", self.what)
            self.failure = error
            return None

    @property
    def running(self) -> bool:
        return not self.future.done()

    @property
    def result(self) -> Any:
        """The computation's result; None while it runs, or if it failed or was stopped."""
        if not self.future.done() or self.future.cancelled():
            return None
        return self.future.result()

    @property
    def stopped(self) -> bool:
        """Ended with no result and no failure: stopped, or cancelled before it began."""
        return not self.running and self.result is None and self.failure is None

    def status(self) -> tuple[float, str]:
        """Fraction done and the sentence to show beside it."""
        if not self.future.running():
            at_once = "one" if self.threads == 1 else str(self.threads)
            return 0.0, f"{self.what}: waiting for its turn ({at_once} at a time on this server)…"
        done, total = self.progress.done, self.progress.total
        fraction = min(done / total, 1.0) if total > 0 else 0.0
        if self.progress.stop.is_set():
            return fraction, f"{self.what}: stopping…"
        if total <= 0:
            return 0.0, f"{self.what}…"
        return fraction, f"{self.what}… {done:.0f} of {total:.0f} {self.unit}"


class JobBoard:
    """Every background job of the server, by key; safe to use from any thread."""

    def __init__(self, kinds: dict[str, Kind] = KINDS) -> None:
        self.kinds = kinds
        self._pools = {
            name: ThreadPoolExecutor(kind.threads, thread_name_prefix=f"percept-{name}")
            for name, kind in kinds.items()
        }
        self._jobs: OrderedDict[tuple, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(
        self,
        key: tuple,
        kind: str,
        what: str,
        unit: str,
        compute: Callable[[Progress], object],
        *,
        session: Hashable,
    ) -> Job:
        """The job under ``key``, watched by ``session``: the one running, done or failed if
        there is one, else ``compute`` started now (also in place of one that ended stopped).

        A job told to stop that has not ended yet goes on: it is asked for again.
        """
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.stopped:
                left = set() if job is None else job.left
                job = Job(key, kind, what, unit, self.kinds[kind].threads, left=left)
                job.future = self._pools[kind].submit(job._run, compute)
                self._jobs[key] = job
            elif job.running:
                job.progress.stop.clear()
            job.watchers.add(session)
            job.left.discard(session)
            self._jobs.move_to_end(key)
            self._forget_finished(kind)
        return job

    def get(self, key: tuple) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def find(self, matches: Callable[[tuple], bool]) -> list[Job]:
        """The jobs whose keys ``matches``, oldest first."""
        with self._lock:
            return [job for key, job in self._jobs.items() if matches(key)]

    def stop(self, job: Job, session: Hashable) -> None:
        """End ``session``'s watch of ``job``; with no watcher left, a running job is told to
        stop (and never starts if it is still waiting for its turn)."""
        with self._lock:
            job.watchers.discard(session)
            job.left.add(session)
            if not job.watchers and job.running:
                job.progress.stop.set()
                job.future.cancel()

    def shutdown(self) -> None:
        """Stop every job and wait for the threads (for tests and the cache's release)."""
        with self._lock:
            for job in self._jobs.values():
                job.progress.stop.set()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    def _forget_finished(self, kind: str) -> None:
        finished = [k for k, j in self._jobs.items() if j.kind == kind and not j.running]
        for key in finished[: max(0, len(finished) - self.kinds[kind].keep)]:
            del self._jobs[key]


# -- In a page --------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, on_release=JobBoard.shutdown)
def board() -> JobBoard:
    """The server's job board, shared by every session."""
    return JobBoard()


def session_id() -> str:
    """This browser session's id, for watching jobs."""
    return st.session_state.setdefault(_SESSION, uuid.uuid4().hex)


def start(key: tuple, kind: str, what: str, unit: str, compute: Callable) -> Job:
    """:meth:`JobBoard.start` for this session."""
    return board().start(key, kind, what, unit, compute, session=session_id())


def watching(job: Job) -> bool:
    """Whether this session asked for ``job`` and has not stopped it."""
    return session_id() in job.watchers


def stopped_here(job: Job) -> bool:
    """Whether this session's Stop ended its watch of ``job`` and no result came since (it
    may still run for another session)."""
    return session_id() in job.left and job.result is None and job.failure is None


def covering(head: tuple, start_s: float, end_s: float) -> Job | None:
    """The job keyed ``(*head, start, end)`` whose range covers ``[start_s, end_s]`` (s) that
    this session should see: one with a result first (a range of an analysed file needs no
    new job), then one it watches, one that failed, one it stopped, one that runs for
    another session; None if there is none (a job others stopped is not this session's)."""
    found = board().find(
        lambda key: key[:-2] == head and key[-2] <= start_s + 1e-3 and key[-1] >= end_s - 1e-3
    )
    for wanted in (
        lambda job: job.result is not None,
        lambda job: job.running and watching(job),
        lambda job: job.failure is not None,
        stopped_here,
        lambda job: job.running,
    ):
        matching = [job for job in found if wanted(job)]
        if matching:
            return matching[-1]
    return None


def stop(jobs: Sequence[Job]) -> None:
    """Stop ``jobs`` for this session (they go on for any other session that watches them)."""
    for job in jobs:
        board().stop(job, session_id())


def _stop_and_redraw(jobs: Sequence[Job]) -> None:
    stop(jobs)
    st.rerun()  # from a callback: one full run, which no longer shows these jobs' progress


@st.fragment(run_every=POLL_S)
def show_progress(jobs: Sequence[Job], key: str, stop_help: str | None = None) -> None:
    """Progress bars of running ``jobs`` (with their details as metrics) and, while this
    session watches one of them, a Stop button; redrawn every :data:`POLL_S`, and the whole
    page reruns as soon as one of them ends (it shows the result).

    A job this session no longer watches shows without Stop, and as stopping once nobody
    watches it (a batch that keeps what is done, say).
    """
    if not all(job.running for job in jobs):
        st.rerun()
    place = st  # where the Stop button goes: beside the last job's metrics, if it has any
    for job in jobs:
        fraction, text = job.status()
        st.progress(fraction, text=text)
        detail, place = job.progress.detail, st
        if detail:
            *columns, place = st.columns(len(detail) + 1, vertical_alignment="bottom")
            for column, (label, value) in zip(columns, detail.items(), strict=True):
                column.metric(label, value)
    if not any(watching(job) for job in jobs):
        return
    place.button(
        "Stop",
        key=key,
        icon=":material/stop:",
        on_click=_stop_and_redraw,
        args=(jobs,),
        help=stop_help,
    )
