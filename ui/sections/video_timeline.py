"""The Video page's timeline lanes: what is in view, line crossings, sound tags, the
soundtrack's spectrogram and the transcript, as the player (:mod:`ui.video_view`) draws them
under the video on one time axis.

The lanes are data, not pictures, so the browser draws them at its own width and its
playhead needs no server; only the spectrogram is a picture, without axes, spanning the
video's time exactly.
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from analysis.audio.render import spectrogram_colours
from analysis.audio.spectrogram import STFTParams, spectrogram, to_db
from analysis.speech.whisper import Transcript
from analysis.video.pipeline import VideoAnalysis
from analysis.video.tracking import Tracking
from models.locate import MissingModelError
from ui.video_view import Lanes

MAX_POINTS = 600  # in-view samples sent to the browser: about one per pixel of the lane
MAX_CLASSES = 6  # in-view lanes; the rest are rare classes the tables still list
DOUBTFUL = 0.5  # a word Whisper gives less probability than this looks doubtful
SPECTROGRAM_ROWS = 96


def in_view_lanes(tracking: Tracking) -> tuple[list[float], list[dict]]:
    """The analysed times and, for the most seen labels, how many objects of each every
    frame shows, pooled by maximum to at most :data:`MAX_POINTS` (a brief object stays)."""
    times = np.asarray(tracking.times, dtype=np.float64)
    counts = tracking.in_view()
    if not len(times):
        return [], []
    edges = np.linspace(0, len(times), min(len(times), MAX_POINTS) + 1).astype(int)[:-1]
    pooled_times = times[edges]
    ranked = sorted(counts.items(), key=lambda item: -int(item[1].sum()))[:MAX_CLASSES]
    lanes = []
    for label, per_frame in ranked:
        pooled = np.maximum.reduceat(per_frame, edges)
        lanes.append({"label": label, "counts": pooled.tolist(), "most": max(int(pooled.max()), 1)})
    return np.round(pooled_times, 3).tolist(), lanes


def soundtrack_picture(samples: np.ndarray, rate: int, end_s: float) -> bytes:
    """The soundtrack's spectrogram as a JPEG without axes: columns span ``[0, end_s]``, rows
    0 Hz (bottom) to half the rate (top), 80 dB of magma."""
    spec = spectrogram(
        samples, rate, STFTParams(n_fft=1024), scale="linear", end_s=end_s, max_rows=256
    )
    db, top = to_db(spec.power)
    rgb = spectrogram_colours(db, top)
    picture = Image.fromarray(rgb).resize((rgb.shape[1], SPECTROGRAM_ROWS), Image.BILINEAR)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def tag_spans(tagging) -> list[dict]:
    """YAMNet's best class over time as spans: consecutive frames of one class joined."""
    best = tagging.scores.argmax(axis=1)
    spans: list[dict] = []
    colours: dict[str, int] = {}
    for start, end, index in zip(tagging.starts, tagging.ends, best, strict=True):
        label = tagging.class_names[int(index)]
        if spans and spans[-1]["label"] == label and start <= spans[-1]["end"] + 1e-6:
            spans[-1]["end"] = round(float(end), 3)
            continue
        if spans:  # frames overlap: a span ends where the next begins
            spans[-1]["end"] = min(spans[-1]["end"], round(float(start), 3))
        colour = colours.setdefault(label, len(colours))
        spans.append(
            {
                "start": round(float(start), 3),
                "end": round(float(end), 3),
                "label": label,
                "colour": colour,
            }
        )
    return spans


def transcript_lane(transcript: Transcript | None) -> list[dict]:
    """The transcript's segments with their words (times in s, a doubtful flag each)."""
    if transcript is None:
        return []
    return [
        {
            "start": round(segment.start, 3),
            "end": round(segment.end, 3),
            "words": [
                {
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "word": w.word,
                    "doubt": w.probability < DOUBTFUL,
                }
                for w in segment.words
            ],
        }
        for segment in transcript.segments
        if segment.words
    ]


@st.cache_resource(max_entries=2, show_spinner=False)
def get_yamnet():
    from analysis.audio.tagging import load_yamnet

    return load_yamnet()


def sound_lanes(analysis: VideoAnalysis, memo: dict) -> tuple[bytes | None, list[dict], str]:
    """The soundtrack's picture and tag spans (each made once per analysis, kept in
    ``memo``), and a sentence about what is missing ("" when nothing is)."""
    if not analysis.info.has_audio:
        return None, [], "This video has no sound."
    if analysis.soundtrack is None:
        return None, [], ""
    samples, rate = analysis.soundtrack
    if "spectrogram" not in memo:
        memo["spectrogram"] = soundtrack_picture(samples[0], rate, analysis.end_s)
    if "tags" not in memo:
        from analysis.audio.tagging import tag_audio

        try:
            with st.spinner("Tagging the sounds (YAMNet)…"):
                memo["tags"] = tag_spans(tag_audio(samples, rate, get_yamnet()))
        except MissingModelError as error:
            memo["tags"] = f"Sound tags need YAMNet: {error}"
    tags = memo["tags"]
    return (
        memo["spectrogram"],
        tags if isinstance(tags, list) else [],
        (tags if isinstance(tags, str) else ""),
    )


def lanes(
    analysis: VideoAnalysis,
    tracking: Tracking,
    crossings: list[dict],
    memo: dict,
    transcript: Transcript | None,
) -> tuple[Lanes, str]:
    """Every lane of the timeline, and a sentence about a lane that is missing."""
    times, in_view = in_view_lanes(tracking)
    picture, tags, missing = sound_lanes(analysis, memo)
    return (
        Lanes(
            end_s=analysis.end_s,
            times=times,
            in_view=in_view,
            crossings=crossings,
            tags=tags,
            spectrogram=picture,
            transcript=transcript_lane(transcript),
        ),
        missing,
    )
