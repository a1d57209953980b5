"""What a tracked video gives to read and keep, on the moving square with known answers."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from analysis.figures import SPECTROGRAM_LAYOUT
from analysis.video.exports import frame_records, records_csv, render_in_view, to_vtt
from tests.analysis.video.test_pipeline import FRAMES, analyse


def test_exports_list_every_detection_and_say_what_is_in_view(square_mp4: Path) -> None:
    analysis = analyse(square_mp4)
    records = frame_records(analysis.tracking, analysis.frame_indices)
    assert len(records) == FRAMES - 1  # from its second frame, when it has an id
    assert {record["track_id"] for record in records} == {1}
    assert records[0]["box"] == [13, 50, 33, 70] and records[0]["score"] == 0.9
    csv_text = records_csv(records)
    assert csv_text.splitlines()[0] == "frame,time_s,track_id,label,score,x1,y1,x2,y2"
    vtt = to_vtt(analysis.tracking, analysis.end_s)
    assert vtt.startswith("WEBVTT")
    assert "00:00:00.040 --> 00:00:01.600\n1 square" in vtt


def test_the_in_view_chart_has_the_spectrograms_width_and_margins(square_mp4: Path) -> None:
    analysis = analyse(square_mp4)
    png = render_in_view(analysis.tracking, analysis.end_s)
    with Image.open(io.BytesIO(png)) as chart:
        assert chart.format == "PNG" and chart.size == (SPECTROGRAM_LAYOUT.width, 260)
