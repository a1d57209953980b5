"""The video player component's Python side: what it sends the browser, and what it accepts
back (lines and zones a person drew, or anything else a browser could send)."""

from __future__ import annotations

import json

import pytest

from analysis.video.regions import Line, Zone
from ui.video_view import Lanes, Shapes, Subtitles, browser_lanes, browser_subtitles, parse_shapes

FRAME = (640, 480)


def test_drawn_shapes_come_back_as_named_lines_and_zones() -> None:
    sent = {
        "lines": [{"name": " Door ", "x1": 10, "y1": 240.04, "x2": 630, "y2": 240}],
        "zones": [{"name": "Desk", "points": [[0, 0], [100, 0], [100, 80]]}],
    }
    shapes = parse_shapes(sent, FRAME)
    assert shapes == Shapes(
        (Line(10, 240.0, 630, 240, "Door"),), (Zone(((0, 0), (100, 0), (100, 80)), "Desk"),)
    )
    assert parse_shapes(json.loads(json.dumps(shapes.to_browser())), FRAME) == shapes


def test_points_outside_the_frame_are_clamped_to_its_edge() -> None:
    sent = {"lines": [{"name": "a", "x1": -5, "y1": 10, "x2": 9999, "y2": 10}], "zones": []}
    assert parse_shapes(sent, FRAME).lines == (Line(0, 10, 640, 10, "a"),)


def test_degenerate_and_repeated_shapes_are_left_out() -> None:
    sent = {
        "lines": [
            {"name": "a", "x1": 5, "y1": 5, "x2": 5, "y2": 5},  # one point
            {"name": "b", "x1": 0, "y1": 0, "x2": 9, "y2": 9},
            {"name": "b", "x1": 0, "y1": 9, "x2": 9, "y2": 0},  # a name taken
            {"name": "  ", "x1": 0, "y1": 9, "x2": 9, "y2": 0},  # no name
        ],
        "zones": [
            {"name": "flat", "points": [[0, 0], [5, 5], [10, 10]]},  # no area
            {"name": "two", "points": [[0, 0], [5, 5]]},
        ],
    }
    shapes = parse_shapes(sent, FRAME)
    assert [line.name for line in shapes.lines] == ["b"] and shapes.zones == ()


@pytest.mark.parametrize(
    "sent",
    [
        None,
        "lines",
        {"lines": [{"name": "a", "x1": "left", "y1": 0, "x2": 1, "y2": 1}]},
        {"lines": [{"name": "a", "x1": float("nan"), "y1": 0, "x2": 1, "y2": 1}]},
        {"lines": [{"x1": 0, "y1": 0, "x2": 1, "y2": 1}]},
        {"zones": [{"name": "z", "points": [[0, 0, 1], [1, 1], [2, 0]]}]},
        {"zones": [{"name": "z", "points": 5}]},
    ],
    ids=["none", "text", "word", "nan", "no name", "three numbers", "no list"],
)
def test_anything_malformed_is_ignored(sent) -> None:
    assert parse_shapes(sent, FRAME) is None


def test_no_more_than_twelve_shapes() -> None:
    line = {"x1": 0, "y1": 0, "x2": 9, "y2": 9}
    sent = {"lines": [{**line, "name": f"L{i}"} for i in range(40)], "zones": []}
    assert len(parse_shapes(sent, FRAME).lines) == 12


def test_lanes_and_subtitles_go_to_the_browser_as_urls_and_plain_data() -> None:
    lanes = Lanes(end_s=2.0, times=[0.0, 1.0], spectrogram=b"\xff\xd8jpeg")
    sent = browser_lanes(lanes, "view")
    assert sent["spectrogram"].startswith("data:image/jpeg;base64,")  # no server: inline
    assert sent["times"] == [0.0, 1.0] and sent["transcript"] == []
    (vtt,) = browser_subtitles([Subtitles("Speech", "WEBVTT\n", "fr", on=True)], "view")
    assert vtt["url"].startswith("data:text/vtt;base64,") and vtt["lang"] == "fr" and vtt["on"]
    json.dumps(sent)  # all of it is JSON
