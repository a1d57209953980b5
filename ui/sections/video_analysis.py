"""The Video page's analysis: one background job per video, model and stride.

A pass over a video takes seconds to minutes, so it runs as a :mod:`ui.jobs` job (kind
"video": one at a time on the server), keyed by the file's content, the model, the stride
and the settings the annotated video is drawn with: identical work is computed once for
every session that asks, and the result survives moving to another page and back. Stop
ends this session's watch; the last watcher's Stop ends the pass with the frames done so far
(shown as "Stopped after …", with "Analyse the whole video"). A partial result belongs to
whoever stopped it: others asking for the same work get a run of the whole video.

The page opens the file to start a job (its facts and any error in one sentence show at
once) and hands the open file to the job, so one analysis opens it once.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from analysis.errors import InputError
from analysis.video.io import VideoFile, VideoInfo
from analysis.video.pipeline import analyse_video, video_detector
from analysis.video.results import PassStatus, RenderSettings, VideoAnalysis
from analysis.vision.detections import DetectionFilter
from analysis.vision.detectors import Detector
from models.locate import MissingModelError
from ui import jobs
from ui.jobs import Job
from ui.state import KeptFile

ON_SCREEN = RenderSettings(max_side=1280)  # the page's annotated video; the CLI keeps full size
JOB = "_video_job"  # session state: the job of this session's analysis
INFO = "_video_info"  # session state: (digest, VideoInfo) of the file opened last
LATEST: dict[tuple, PassStatus] = {}  # job key -> its pass's latest drawn frame, while it runs


@dataclass(frozen=True, eq=False)
class Analysed:
    """A finished analysis: the pass, the annotated video it drew (MP4 bytes), and the key
    of its job (what it is the analysis of)."""

    analysis: VideoAnalysis
    video: bytes
    key: tuple


@st.cache_resource(show_spinner="Loading the model…")
def get_detector(name: str) -> Detector:
    return video_detector(name)


def _analyse(
    key: tuple, source: VideoFile | bytes, detector: Detector, model: str
) -> Callable[[jobs.Progress], Analysed]:
    """The job's computation: the pass of ``key`` = ("video", digest, model, stride, params,
    render, attempt) over ``source`` (a file opened for it, or its bytes)."""
    stride, params, render = key[3:6]

    def compute(progress: jobs.Progress) -> Analysed:
        started = time.perf_counter()

        def report(done: int, total: int) -> None:
            spent = time.perf_counter() - started
            progress(
                done,
                total,
                {
                    "Frames per second": f"{done / max(spent, 1e-6):.1f}",
                    "Time left": f"about {spent / done * (total - done):.0f} s",
                },
            )

        def show(status: PassStatus) -> None:
            LATEST[key] = status

        output = io.BytesIO()
        try:
            analysis = analyse_video(
                source,
                detector,
                model,
                params,
                stride=stride,
                output=output,
                render=render,
                soundtrack=True,
                progress=report,
                preview=show,
                stop=progress.stop,
            )
        finally:
            LATEST.pop(key, None)
        return Analysed(analysis, output.getvalue(), key)

    return compute


def _ended_by_stop(job: Job) -> bool:
    return job.result is not None and job.result.analysis.stopped


def _whole_run(head: tuple) -> tuple:
    """The key of the run of ``head`` to ask for: the first not ended by a Stop (a partial
    result is only for the sessions that stopped it)."""
    attempt = 0
    while (job := jobs.board().get((*head, attempt))) is not None and _ended_by_stop(job):
        attempt += 1
    return (*head, attempt)


def _ask(source: KeptFile, model: str, stride: int, params: DetectionFilter) -> Job | None:
    """Start this session's analysis, or join the same one under way or done; None when the
    file or the model cannot be used (said in one sentence)."""
    key = _whole_run(("video", source.digest, model, stride, params, ON_SCREEN))
    existing = jobs.board().get(key)
    try:
        detector = get_detector(model)
        opened: VideoFile | bytes = source.data
        if existing is None or existing.stopped:  # a new pass: open the file here, once
            opened = VideoFile(source.data)
            st.session_state[INFO] = (source.digest, opened.info)
    except (InputError, MissingModelError) as error:
        st.error(str(error))
        return None
    job = jobs.start(key, "video", "Analysing", "frames", _analyse(key, opened, detector, model))
    st.session_state[JOB] = job
    return job


def _info(source: KeptFile, job: Job) -> VideoInfo | None:
    if job.result is not None:
        return job.result.analysis.info
    digest, info = st.session_state.get(INFO, (None, None))
    return info if digest == source.digest else None


@st.fragment(run_every=jobs.POLL_S)
def _show_latest(job: Job) -> None:
    """The pass's latest drawn frame, about once a second, while it runs."""
    status = LATEST.get(job.key)
    if status is None:
        st.caption("The first frames are on their way…")
        return
    counts = ", ".join(f"{n} {label}" for label, n in status.counts.items()) or "nothing yet"
    st.image(
        status.frame,
        caption=f"At {status.time_s:.1f} s of the video — confirmed so far: {counts}",
        width="stretch",
    )


def _say_failure(job: Job) -> None:
    if isinstance(job.failure, InputError | MissingModelError):
        st.error(str(job.failure))
    else:  # logged by the job
        st.error("Something went wrong while analysing this video; please try another one.")


def _analyse_again_button() -> None:
    if st.button("Analyse the whole video", help="Runs the detector again from the first frame."):
        st.session_state.pop(JOB, None)
        st.rerun()


def analysed(
    source: KeptFile, model: str, stride: int, params: DetectionFilter, info_place
) -> Analysed | None:
    """This session's analysis of ``source``: its result, or None while it runs (with its
    progress and Stop), when it failed or when it was stopped before its first frame.

    ``info_place`` is the container for the line of the video's facts. ``params`` are the
    settings a new pass draws the annotated video with; changing them later re-tracks the
    kept candidates instead (the job stays this session's for the same model and stride).
    """
    job = st.session_state.get(JOB)
    if job is None or job.key[1:4] != (source.digest, model, stride):
        if job is not None and job.running:
            jobs.stop([job])  # another video, model or stride: this session no longer waits
        job = _ask(source, model, stride, params)
        if job is None:
            return None
    if (info := _info(source, job)) is not None:
        sound = "with sound" if info.has_audio else "no sound"
        info_place.text(
            f"{source.name} — {info.width}×{info.height} px, {info.fps:.2f} fps, "
            f"{info.frames} frames, {info.duration_s:.1f} s, {info.codec}, {sound}"
        )
    if job.running and jobs.watching(job):
        _show_latest(job)
        jobs.show_progress(
            [job], key="video_stop", stop_help="Ends the analysis; what is done so far is kept."
        )
        return None
    if job.failure is not None:
        _say_failure(job)
        return None
    if job.result is None:  # stopped here before its first frame, or running for others only
        st.warning("Stopped.")
        _analyse_again_button()
        return None
    analysis: VideoAnalysis = job.result.analysis
    if analysis.note:
        st.warning(analysis.note)
    if analysis.stopped:
        _analyse_again_button()
    return job.result
