"""CPU time of each stage of the video pass on vtest.avi: ``python bench/bench_video_stages.py``.

``bench_video.py`` measures wall-clock ratios, which a busy machine blurs (other processes
take the cores). This measures what each stage costs in CPU time per frame, one stage at a
time on the same frames, which a busy machine blurs much less. On 2 cores the pass runs
inference on both cores, its threads sleeping between frames (``video_detector``), and
decoding, tracking, drawing and encoding in the gaps: on a quiet machine the pass takes at
least (inference + the rest) / 2 of CPU time a frame.

Encoding is measured as the pass does it now (OpenCV's YUV conversion, x264 "superfast")
and as it did before (FFmpeg's swscale conversion, "veryfast").
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.video.io import Mp4Writer, VideoFile
from analysis.video.pipeline import video_detector
from analysis.video.tracking import Tracker, floor_filter
from analysis.vision.annotate import Annotator
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter, filter_detections
from analysis.vision.detectors import load_detector

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def cpu_ms(work: Callable[[], object], frames: int) -> float:
    """CPU time of ``work()`` (this process, every thread), ms per frame."""
    start = time.process_time()
    work()
    return (time.process_time() - start) / frames * 1000


def encode_before(rgbs: list[np.ndarray], fps: float) -> None:
    """The encoding of before: swscale's RGB → YUV conversion, x264 "veryfast"."""
    with av.open(io.BytesIO(), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height = rgbs[0].shape[1], rgbs[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "26", "preset": "veryfast", "threads": "1"}
        stream.codec_context.thread_count = 1
        for pts, rgb in enumerate(rgbs):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST, help="default: opencv-doc's vtest")
    parser.add_argument("--frames", type=int, default=200, help="frames measured (200)")
    args = parser.parse_args()
    n = args.frames
    with VideoFile(args.video) as video:
        info = video.info
        frames = []
        decode = cpu_ms(lambda: frames.extend(itertools.islice(video.frames(), n)), n)
    detector = load_detector("yolox-nano", threads=1)
    detector.detect(frames[0].rgb)
    found = []
    inference = cpu_ms(lambda: found.extend(detector.detect(f.rgb)[0] for f in frames), n)
    detector = video_detector("yolox-nano")  # the pass's: every core, sleeping threads
    detector.detect(frames[0].rgb)
    inference_pass = cpu_ms(lambda: [detector.detect(f.rgb) for f in frames], n)
    params = DetectionFilter(DEFAULT_CONFIDENCE)
    floor = floor_filter(params)  # the pass tracks at the floor score
    tracker, tracked = Tracker(info.fps, confidence=params.confidence), []
    tracking = cpu_ms(
        lambda: tracked.extend(
            tracker.shown(tracker.update(f.time_s, filter_detections(raw, floor), record=True))
            for f, raw in zip(frames, found, strict=True)
        ),
        n,
    )
    annotator, drawn = Annotator((info.width, info.height), frame_rate=info.fps), []
    pairs = list(zip(frames, tracked, strict=True))
    drawing = cpu_ms(lambda: drawn.extend(annotator.draw(f.rgb, t) for f, t in pairs), n)

    def encode_now() -> None:
        writer = Mp4Writer(io.BytesIO(), (info.width, info.height), info.fps, crf=26)
        for frame, rgb in zip(frames, drawn, strict=True):
            writer.write(rgb, frame.time_s)
        writer.close()

    now = cpu_ms(encode_now, n)
    before = cpu_ms(lambda: encode_before(drawn, info.fps), n)
    beside_now = decode + tracking + drawing + now
    beside_before = decode + tracking + drawing + before
    print(f"{args.video.name}: CPU ms per frame over {n} frames ({info.width}×{info.height})")
    print(f"  decode {decode:.2f}, inference (1 thread) {inference:.2f}, tracking {tracking:.2f}")
    print(f"  inference as in the pass (every core, sleeping threads) {inference_pass:.2f}")
    print(f"  drawing {drawing:.2f}, encoding now {now:.2f}, before {before:.2f}")
    print(f"  beside inference: now {beside_now:.2f}, before {beside_before:.2f}")
    bound = (inference_pass + beside_now) / 2
    print(f"  on 2 idle cores the pass needs at least {bound:.2f} ms a frame")


if __name__ == "__main__":
    main()
