"""The lanes' data: waveform envelope, tracks cut to a view, tag spans, the view's hop."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.audio.lanes import envelope, tag_spans, track_in_view
from analysis.audio.stft import view_hop
from analysis.audio.tagging import Tagging


def test_the_envelope_holds_each_columns_extremes():
    rate = 1000
    y = np.zeros(4 * rate, np.float32)
    y[1500], y[2500] = 0.8, -0.6  # a click at 1.5 s, another at 2.5 s
    low, high = envelope(y, rate, start_s=1.0, end_s=3.0, columns=4)
    assert high.tolist() == pytest.approx([0.0, 0.8, 0.0, 0.0])
    assert low.tolist() == pytest.approx([0.0, 0.0, 0.0, -0.6])
    short_low, _ = envelope(y, rate, start_s=0.0, end_s=0.003, columns=100)
    assert len(short_low) == 3  # fewer samples than columns: a column a sample
    assert envelope(y, rate, start_s=5.0, end_s=6.0, columns=10)[0].size == 0


def test_a_track_is_cut_to_the_view_and_thinned():
    times = np.arange(0, 10, 0.01)
    values = np.column_stack([times, 2 * times])
    kept_times, kept = track_in_view(times, values, 2.0, 4.0, max_points=50)
    assert kept_times[0] == pytest.approx(2.0) and kept_times[-1] <= 4.0
    assert len(kept_times) <= 50 and kept[:, 1] == pytest.approx(2 * kept_times)


def test_tag_spans_merge_runs_of_the_same_best_class():
    centres = np.arange(6) * 0.48 + 0.4875
    scores = np.array([[0.9, 0.1]] * 3 + [[0.2, 0.7]] * 3, dtype=np.float32)
    tagging = Tagging(scores, centres - 0.4875, centres + 0.4875, ("Speech", "Music"))
    spans = tag_spans(tagging, 0.0, 3.4)
    assert [s[2] for s in spans] == ["Speech", "Music"]
    assert spans[0][0] == 0.0 and spans[1][1] == 3.4
    assert spans[0][1] == pytest.approx((centres[2] + centres[3]) / 2)
    assert spans[1][3] == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("win", "samples", "columns", "hop"),
    [
        (2048, 44100 * 600, 996, 1024),  # 10 minutes: half the window, no sample left out
        (2048, 16000 * 60, 996, 963),  # a minute: a frame a column, 53 % overlap
        (2048, 16000 * 2, 996, 32),  # 2 s: a frame a column
        (2048, 500, 996, 1),  # fewer samples than columns: every sample
        (256, 10_000, 996, 10),
    ],
)
def test_the_view_hop_fills_the_columns(win, samples, columns, hop):
    assert view_hop(win, samples, columns) == hop
    assert 1 + samples // hop >= min(columns, samples)
