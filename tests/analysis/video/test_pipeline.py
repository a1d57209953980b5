"""Video analysis on generated videos with known answers: a white square moving on black."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import analysis.video.io
from analysis.errors import InputError
from analysis.video.io import Mp4Writer, Soundtrack, VideoFile, probe, read_frame
from analysis.video.pipeline import RenderSettings, analyse_video, render_video
from analysis.video.regions import Line, count_regions
from analysis.video.tracking import TrackRules, track_all
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.detectors import Detector, Timings

WIDTH, HEIGHT, FPS, FRAMES, SIDE = 160, 120, 25, 40, 20


def square_x(index: int) -> int:
    """Left edge of the square in frame ``index``: 3 px per frame from x = 10."""
    return 10 + 3 * index


def square_frame(index: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    rgb = np.zeros((height, width, 3), np.uint8)
    x, y = square_x(index), (height - SIDE) // 2
    rgb[y : y + SIDE, x : x + SIDE] = 255
    return rgb


def write_video(
    path: Path,
    frames: int = FRAMES,
    *,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    times: list[float] | None = None,
    rotation: int | None = None,
    tone_hz: float | None = None,
) -> Path:
    """An MP4 (H.264) of the moving square; ``times`` for a variable frame rate, ``tone_hz``
    for an AAC soundtrack of that sine over the video's length."""
    times = times if times is not None else [i / FPS for i in range(frames)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = size[0] + size[0] % 2, size[1] + size[1] % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        audio = container.add_stream("aac", rate=44_100, layout="mono") if tone_hz else None
        for index, t in enumerate(times):
            rgb = square_frame(index, stream.width, stream.height)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio is not None:
            n = round((times[-1] + 1 / FPS) * 44_100)
            wave = (0.5 * np.sin(2 * np.pi * tone_hz * np.arange(n) / 44_100)).astype(np.float32)
            for start in range(0, n, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    wave[np.newaxis, start : start + 1024], format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = 44_100, start
                container.mux(audio.encode(chunk))
            container.mux(audio.encode(None))
    return path


class SquareDetector(Detector):
    """Finds the bright square: one "square" box around the pixels above mid-grey."""

    def __init__(self) -> None:
        self.calls = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        return ("square",)

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        self.calls += 1
        ys, xs = np.nonzero(rgb[:, :, 0] > 128)
        if not len(xs):
            return Detections.empty(self.class_names), Timings(0, 0, 0)
        box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        return Detections([box], [0.9], [0], self.class_names), Timings(0, 0, 0)


def analyse(source, **kwargs):
    return analyse_video(source, SquareDetector(), "square", DetectionFilter(0.5, 0.45), **kwargs)


def soundtrack_of(path: Path) -> tuple[np.ndarray, int] | None:
    """The sound of a video file as an analysis keeps it: mono, at most 32 kHz."""
    with VideoFile(path) as video:
        if video.info.sound is None:
            return None
        heard = Soundtrack(video.info.sound)
        for _ in video.frames(sound=[heard.hear]):
            pass
        return heard.samples(), heard.rate


@pytest.fixture
def opens(monkeypatch) -> list[str]:
    """The modes of every ``av.open`` from analysis/video/io.py (reading "r", writing "w")."""
    modes: list[str] = []
    open_container = av.open

    def counting(target, mode="r", **kwargs):
        modes.append(mode)
        return open_container(target, mode, **kwargs)

    monkeypatch.setattr(analysis.video.io.av, "open", counting)
    return modes


def test_probe_reports_size_rate_duration_and_no_sound(square_mp4: Path) -> None:
    info = probe(square_mp4)
    assert (info.width, info.height, info.frames) == (WIDTH, HEIGHT, FRAMES)
    assert info.fps == pytest.approx(FPS)
    assert info.duration_s == pytest.approx(FRAMES / FPS, abs=0.05)
    assert not info.has_audio
    assert "H.264" in info.codec


def test_moving_square_is_one_track_along_its_path(square_mp4: Path) -> None:
    analysis = analyse(square_mp4)
    assert len(analysis.times) == FRAMES
    np.testing.assert_allclose(analysis.times, np.arange(FRAMES) / FPS, atol=1e-3)
    (track,) = analysis.tracking.tracks
    assert (track.id, track.label) == (1, "square")
    # ByteTrack gives a track its id on its second detection.
    assert track.first_s == pytest.approx(1 / FPS)
    assert track.last_s == pytest.approx((FRAMES - 1) / FPS)
    assert analysis.tracking.counts() == {"square": 1}
    assert len(analysis.tracking.frames[0]) == 0  # not a track yet
    for index, frame in enumerate(analysis.tracking.frames[1:], start=1):
        (x1, y1, x2, y2) = frame.xyxy[0]
        assert frame.tracker_id[0] == 1
        assert x1 == pytest.approx(square_x(index), abs=1)
        assert (y1, x2 - x1, y2 - y1) == pytest.approx(((HEIGHT - SIDE) / 2, SIDE, SIDE), abs=1)


def test_a_line_the_square_crosses_counts_once(square_mp4: Path) -> None:
    middle = WIDTH / 2
    # Top to bottom: the square moving right ends up on the left of a walker along the line.
    line = Line(middle, 0, middle, HEIGHT, "gate")
    assert line.in_direction() == pytest.approx((1.0, 0.0))
    tracking = analyse(square_mp4).tracking
    counted = count_regions(tracking, [line], [])
    assert counted.line_counts() == {"gate": {"in": {"square": 1}, "out": {}}}
    (crossing,) = counted.crossings
    # All four corners past the line: the first frame whose left edge is beyond x = 80.
    first_past = next(k for k in range(FRAMES) if square_x(k) > middle)
    assert crossing.time_s == pytest.approx(first_past / FPS)
    # Flipped, the same crossing is "out".
    flipped = count_regions(tracking, [line.flipped()], [])
    assert flipped.line_counts() == {"gate": {"in": {}, "out": {"square": 1}}}


def test_a_line_it_never_reaches_counts_nothing(square_mp4: Path) -> None:
    tracking = analyse(square_mp4).tracking
    counted = count_regions(tracking, [Line(WIDTH - 2, 0, WIDTH - 2, HEIGHT)], [])
    assert counted.line_counts() == {"line": {"in": {}, "out": {}}}


def test_new_settings_retrack_without_running_the_detector(square_mp4: Path) -> None:
    detector = SquareDetector()
    analysis = analyse_video(square_mp4, detector, "square", DetectionFilter(0.5, 0.45))
    calls = detector.calls
    line = Line(WIDTH / 2, 0, WIDTH / 2, HEIGHT)
    strict = track_all(analysis.times, analysis.candidates, DetectionFilter(0.95), FPS)
    loose = track_all(analysis.times, analysis.candidates, DetectionFilter(0.3), FPS)
    long = track_all(
        analysis.times, analysis.candidates, DetectionFilter(0.3), FPS, TrackRules(2.0)
    )
    assert detector.calls == calls == FRAMES
    assert strict.tracks == [] and long.tracks == []  # nothing, or not seen for 2 s
    assert len(loose.tracks) == 1
    assert count_regions(loose, [line], []).line_counts()["line"]["in"] == {"square": 1}


def test_stride_analyses_every_nth_frame_and_keeps_one_track(square_mp4: Path) -> None:
    analysis = analyse(square_mp4, stride=3)
    np.testing.assert_array_equal(analysis.frame_indices, np.arange(0, FRAMES, 3))
    assert len(analysis.tracking.tracks) == 1


def test_annotated_output_is_h264_yuv420p_with_every_frame(square_mp4: Path) -> None:
    out = io.BytesIO()
    analyse(square_mp4, output=out)
    with av.open(io.BytesIO(out.getvalue())) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = list(container.decode(stream))
    assert len(frames) == FRAMES
    assert [f.time for f in frames] == pytest.approx(list(np.arange(FRAMES) / FPS), abs=2e-3)


def test_odd_sizes_are_padded_to_even_for_h264(tmp_path: Path) -> None:
    writer = Mp4Writer(tmp_path / "odd.mp4", (101, 57), 10)
    for i in range(3):
        writer.write(np.full((57, 101, 3), 80 * i, np.uint8), i / 10)
    writer.close()
    info = probe(tmp_path / "odd.mp4")
    assert (info.width, info.height, info.frames) == (102, 58, 3)


def test_variable_frame_rate_keeps_the_frames_own_times(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.2, 0.24, 0.6, 0.64, 1.5]
    path = write_video(tmp_path / "vfr.mp4", len(times), times=times)
    with VideoFile(path) as video:
        frames = list(video.frames())
    assert [f.time_s for f in frames] == pytest.approx(times, abs=1e-3)


def test_rotation_metadata_stands_the_picture_up(tmp_path: Path) -> None:
    path = write_video(tmp_path / "phone.mp4", 3, rotation=90)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (HEIGHT, WIDTH, 90)
    with VideoFile(path) as video:
        rgb = next(video.frames()).rgb
    assert rgb.shape == (WIDTH, HEIGHT, 3)
    # 90° counter-clockwise: the square near the left edge ends up near the bottom.
    np.testing.assert_allclose(rgb, np.rot90(square_frame(0), 1), atol=40)


def test_read_frame_seeks_to_the_frame_shown_at_a_time(square_mp4: Path) -> None:
    rgb = read_frame(square_mp4, 30 / FPS + 0.01)
    xs = np.nonzero(rgb[HEIGHT // 2, :, 0] > 128)[0]
    assert xs.min() == pytest.approx(square_x(30), abs=1)


def test_the_soundtrack_is_decoded_on_the_same_time_axis(tmp_path: Path) -> None:
    path = write_video(tmp_path / "tone.mp4", 25, tone_hz=440.0)
    assert probe(path).has_audio
    samples, rate = analyse(path, soundtrack=True).soundtrack
    assert samples.shape[0] == 1 and rate == 32_000
    assert samples.shape[1] / rate == pytest.approx(1.0, abs=0.06)
    spectrum = np.abs(np.fft.rfft(samples[0, 3200:28800]))
    assert np.fft.rfftfreq(25600, 1 / rate)[spectrum.argmax()] == pytest.approx(440, abs=2)


def test_the_annotated_video_keeps_the_sound_up_to_its_last_frame(tmp_path: Path) -> None:
    path = write_video(tmp_path / "tone.mp4", 25, tone_hz=440.0)
    out = tmp_path / "annotated.mp4"
    analyse(path, output=out)
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    samples, rate = soundtrack_of(out)
    assert samples.shape[1] / rate == pytest.approx(1.0, abs=0.06)
    spectrum = np.abs(np.fft.rfft(samples[0, 3200:28800]))
    assert np.fft.rfftfreq(25600, 1 / rate)[spectrum.argmax()] == pytest.approx(440, abs=2)


def test_a_video_without_sound_has_no_soundtrack(square_mp4: Path) -> None:
    assert analyse(square_mp4, soundtrack=True).soundtrack is None
    assert soundtrack_of(square_mp4) is None


def test_one_analysis_opens_the_video_once(tmp_path: Path, opens: list[str]) -> None:
    """Exactly one open of the video per analysis: its facts, frames, the sound for the page
    and the sound copied into the annotated MP4 all come from one pass (the other open
    writes the MP4). Drawing it again with new settings opens it once more, once."""
    path = write_video(tmp_path / "tone.mp4", 25, tone_hz=440.0)
    opens.clear()
    analysis = analyse(path, output=io.BytesIO(), soundtrack=True)
    assert analysis.soundtrack is not None and analysis.info.has_audio
    assert opens == ["r", "w"]
    opens.clear()
    again = track_all(analysis.times, analysis.candidates, DetectionFilter(0.3), FPS)
    render_video(path, analysis, again, io.BytesIO())
    assert opens == ["r", "w"]


def test_a_one_frame_video_is_analysed(tmp_path: Path) -> None:
    analysis = analyse(write_video(tmp_path / "one.mp4", 1))
    assert len(analysis.times) == 1 and analysis.tracking.tracks == []


def test_a_truncated_video_gives_what_decoded_and_says_so(tmp_path: Path) -> None:
    # Index first ("faststart", as Percept writes it), so the cut leaves a readable start.
    writer = Mp4Writer(tmp_path / "long.mp4", (WIDTH, HEIGHT), FPS)
    for index in range(120):
        writer.write(square_frame(index % 40), index / FPS)
    writer.close()
    data = (tmp_path / "long.mp4").read_bytes()
    analysis = analyse(data[: len(data) * 6 // 10])
    assert 0 < len(analysis.times) < 120
    assert "truncated" in analysis.note


def test_stop_ends_the_pass_with_the_frames_done(square_mp4: Path) -> None:
    import threading

    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 10:
            stop.set()

    analysis = analyse(square_mp4, progress=progress, stop=stop, output=io.BytesIO())
    assert 10 <= len(analysis.times) < FRAMES
    assert analysis.note.startswith("Stopped")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(100), "sound file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "picture"),
        (bytes(range(256)) * 40, "could not be read as a video"),
    ],
)
def test_what_is_not_a_video_is_named(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        probe(data)


def test_a_sound_only_mp4_is_named_as_sound(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        audio = container.add_stream("aac", rate=16_000, layout="mono")
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), "fltp", "mono")
        chunk.sample_rate, chunk.pts = 16_000, 0
        container.mux(audio.encode(chunk))
        container.mux(audio.encode(None))
    with pytest.raises(InputError, match="sound"):
        probe(path)


def test_cli_prints_the_issue_json(square_mp4: Path, tmp_path: Path) -> None:
    out = tmp_path / "annotated.mp4"
    command = [sys.executable, "-m", "analysis", "video", str(square_mp4), "--model"]
    result = subprocess.run(
        [*command, "hog-people", "--json", "--stride", "2", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=True,
    )
    payload = json.loads(result.stdout)
    assert list(payload) == [
        "model", "video", "frames_analysed", "tracks", "counts", "timings_ms", "output",
        "lines", "zones", "rules",
    ]  # fmt: skip
    assert payload["model"] == "hog-people"
    assert payload["video"] == {
        "width": WIDTH, "height": HEIGHT, "fps": FPS, "frames": FRAMES, "duration_s": 1.6,
    }  # fmt: skip
    assert payload["frames_analysed"] == FRAMES // 2
    assert set(payload["timings_ms"]) == {
        "decode", "inference", "tracking", "annotate", "encode", "total",
    }  # fmt: skip
    assert payload["output"] == str(out) and probe(out).frames == FRAMES // 2


def test_cli_refuses_a_picture_in_one_sentence(tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "video", str(picture), "--model", "hog-people"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: This is a picture, not a video: the Vision page analyses pictures."
    )


def test_the_line_is_drawn_where_it_is_on_a_video_drawn_smaller(square_mp4: Path) -> None:
    # Counted in the video's pixels, drawn on frames of half the size: it must move with them.
    out = io.BytesIO()
    analyse(square_mp4, lines=[Line(0, 20, WIDTH, 20)], output=out, render=RenderSettings(80))
    with av.open(io.BytesIO(out.getvalue())) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert first.shape[:2] == (HEIGHT // 2, WIDTH // 2)
    assert first[10, 8:72].mean() > 200  # the line, at half its height in the video
    assert first[20, 72:].mean() < 50  # not where it is in the video (beside its "out" label)
