"""The Video page's player: the video with its counting lines and zones drawn over it, the
subtitles, a timeline of lanes on one time axis, and the transcript that follows along.

A Streamlit custom component (components v2: no iframe, plain JavaScript in this folder, no
build step). The browser owns the ``<video>``: playing, seeking, the playhead and the
highlighted word never reach the server. Two things come back: the lines and zones a person
drew (:class:`Shapes`, in the video's own pixels), and the time the video was paused at.

>>> change = video_view(mp4, "view", frame=(768, 576), duration_s=79.5, shapes=Shapes(),
...                     lanes=Lanes(end_s=79.5))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from analysis.errors import InputError
from analysis.video.regions import Line, Zone
from ui.internals import media_url

ASSETS = Path(__file__).parent
MAX_SHAPES = 12  # lines plus zones: more is a drawing mistake, not a question
MAX_NAME = 24  # characters of a shape's name
LINE_KEYS = ("x1", "y1", "x2", "y2")

_COMPONENT = st.components.v2.component(
    "video_view",
    html=(ASSETS / "view.html").read_text(encoding="utf-8"),
    css=(ASSETS / "view.css").read_text(encoding="utf-8"),
    js=(ASSETS / "view.js").read_text(encoding="utf-8"),
)


@dataclass(frozen=True)
class Shapes:
    """The counting lines and zones drawn on the video, in its own pixels."""

    lines: tuple[Line, ...] = ()
    zones: tuple[Zone, ...] = ()

    def to_browser(self) -> dict[str, list]:
        return {
            "lines": [
                {"name": n.name, "x1": n.x1, "y1": n.y1, "x2": n.x2, "y2": n.y2} for n in self.lines
            ],
            "zones": [{"name": z.name, "points": [list(p) for p in z.points]} for z in self.zones],
        }


def _number(value: Any, limit: float) -> float:
    """``value`` as a pixel coordinate in [0, limit], rounded to a tenth (ValueError else)."""
    number = float(value)
    if number != number:  # NaN
        raise ValueError
    return round(min(max(number, 0.0), limit), 1)


def _name(item: dict, names: set[str]) -> str | None:
    """The shape's name, trimmed; None if empty or already taken."""
    name = str(item["name"]).strip()[:MAX_NAME]
    return name if name and name not in names else None


def parse_shapes(value: Any, frame: tuple[int, int]) -> Shapes | None:
    """The browser's shapes as :class:`Shapes` in a ``frame`` = (width, height) video; None
    for anything malformed (a value this code did not send). Degenerate ones are left out:
    a line of one point, a zone without area, a repeated name."""
    if not isinstance(value, dict):
        return None
    width, height = frame
    lines: list[Line] = []
    zones: list[Zone] = []
    names: set[str] = set()
    try:
        for item in value.get("lines", [])[:MAX_SHAPES]:
            ends = [_number(item[k], width if k[0] == "x" else height) for k in LINE_KEYS]
            if (name := _name(item, names)) is not None:
                with suppress(InputError):
                    lines.append(Line(*ends, name=name))
                    names.add(name)
        for item in value.get("zones", [])[: MAX_SHAPES - len(lines)]:
            points = tuple((_number(x, width), _number(y, height)) for x, y in item["points"])
            if (name := _name(item, names)) is not None:
                with suppress(InputError):
                    zones.append(Zone(points, name=name))
                    names.add(name)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Shapes(tuple(lines), tuple(zones))


@dataclass(frozen=True)
class Lanes:
    """What the timeline under the video shows, all on the video's time axis (s).

    ``times`` are the analysed frames' times and ``in_view`` per label how many objects each
    shows (lists as long as ``times``); ``crossings`` are ``{"t", "line", "dir", "label"}``;
    ``tags`` ``{"start", "end", "label", "colour"}``; ``spectrogram`` a picture spanning
    ``[0, end_s]`` without axes (bytes, JPEG); ``transcript`` segments ``{"start", "end",
    "words": [{"start", "end", "word", "doubt"}]}``.
    """

    end_s: float
    times: Sequence[float] = ()
    in_view: Sequence[dict[str, Any]] = ()
    crossings: Sequence[dict[str, Any]] = ()
    tags: Sequence[dict[str, Any]] = ()
    spectrogram: bytes | None = None
    transcript: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class Subtitles:
    label: str
    vtt: str
    lang: str = "en"
    on: bool = False  # shown at first


def browser_lanes(lanes: Lanes, key: str) -> dict[str, Any]:
    """The lanes as view.js reads them (the spectrogram as a media URL)."""
    picture = lanes.spectrogram
    return {
        "end_s": lanes.end_s,
        "times": list(lanes.times),
        "in_view": list(lanes.in_view),
        "crossings": list(lanes.crossings),
        "tags": list(lanes.tags),
        "spectrogram": None
        if picture is None
        else media_url(picture, "image/jpeg", f"{key}.spectrogram"),
        "transcript": list(lanes.transcript),
    }


def browser_subtitles(subtitles: Sequence[Subtitles], key: str) -> list[dict[str, Any]]:
    """The subtitle tracks as view.js reads them (each WebVTT file as a media URL)."""
    return [
        {
            "label": s.label,
            "lang": s.lang,
            "on": s.on,
            "url": media_url(s.vtt.encode("utf-8"), "text/vtt", f"{key}.vtt.{i}"),
        }
        for i, s in enumerate(subtitles)
    ]


def video_view(
    video: bytes,
    key: str,
    *,
    frame: tuple[int, int],
    fps: float,
    sound: bool,
    duration_s: float,
    shapes: Shapes,
    lanes: Lanes,
    notes: dict[str, str] | None = None,
    subtitles: Sequence[Subtitles] = (),
    on_shapes: Callable[[Shapes], None] | None = None,
) -> float | None:
    """Show ``video`` (MP4 bytes) with ``shapes`` over it and ``lanes`` under it.

    Parameters
    ----------
    video : bytes
        What the browser plays (H.264 MP4).
    key : str
        Unique key of the component on the page.
    frame : (int, int)
        The video's upright size in its own pixels: the shapes' coordinates.
    fps : float
        Its frame rate (the arrow keys step one frame).
    sound : bool
        Whether it has sound (else no sound button).
    duration_s : float
        The time axis' length, s.
    shapes : Shapes
        The lines and zones to draw (the page's state).
    lanes : Lanes
        The timeline's content.
    notes : dict, optional
        Text beside each shape, by name (its counts).
    subtitles : sequence of Subtitles
        WebVTT tracks the viewer can switch on.
    on_shapes : callable, optional
        Called with the new :class:`Shapes` before the run a drawing causes, as a widget's
        callback is: set the page's state there, and that run counts them.

    Returns
    -------
    float or None
        The time the video was paused at (s), in the run the pause causes; else None.
    """
    data = {
        "video": media_url(video, "video/mp4", f"{key}.video"),
        "frame": list(frame),
        "fps": fps,
        "sound": sound,
        "duration_s": duration_s,
        "shapes": shapes.to_browser(),
        "max_shapes": MAX_SHAPES,  # view.js draws no more than parse_shapes keeps
        "max_name": MAX_NAME,
        "notes": notes or {},
        "subtitles": browser_subtitles(subtitles, key),
        "lanes": browser_lanes(lanes, key),
    }

    def drawn() -> None:
        new = parse_shapes(st.session_state[key].get("shapes"), frame)
        if on_shapes is not None and new is not None:
            on_shapes(new)

    result = _COMPONENT(
        key=key,
        data=data,
        default={"shapes": shapes.to_browser()},
        on_shapes_change=drawn,
        on_paused_change=lambda: None,
    )
    paused = result.paused
    try:
        return None if paused is None else max(0.0, float(paused["t"]))
    except (KeyError, TypeError, ValueError):
        return None
