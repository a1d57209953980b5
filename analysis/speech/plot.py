"""A picture of speech on the spectrogram's time axis: words, voice activity, pitch, intensity.

Same pixel width and horizontal margins as :data:`analysis.figures.SPECTROGRAM_LAYOUT`, so
the picture's time axis lines up with the spectrogram drawn above it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.figures import SPECTROGRAM_LAYOUT, THEME_COLOUR, encode, hz_tick, new_figure
from analysis.speech.voice import Voice
from analysis.speech.whisper import Transcript

MAX_WORDS_DRAWN = 80  # more words than this in a range would overlap into a grey smear
WORD_ROWS = 2  # words alternate between two lines so neighbours don't collide
REGION_ALPHA = 0.12  # voice activity: a pale tint of the theme's primary colour
INTENSITY_COLOR = "#8a8a8a"
INTENSITY_RANGE_DB = 60  # dB below the loudest frame shown
LAYOUT = replace(SPECTROGRAM_LAYOUT, height=340, top=10, bottom=50)
WORDS_PX = 60  # height of the words band above the pitch plot
PITCH_TICKS_HZ = (50, 60, 75, 100, 125, 150, 200, 250, 300, 400, 500, 600, 800)  # log axis


def render_speech_timeline(
    transcript: Transcript | None, voice: Voice | None, start_s: float, end_s: float
) -> bytes:
    """PNG of the words and voice-activity regions over pitch (Hz) and intensity (dB).

    Parameters
    ----------
    transcript : Transcript or None
        Words and speech regions (None: the model is missing; the band stays empty).
    voice : Voice or None
        Pitch and intensity (None: not measured; the plot stays empty).
    start_s, end_s : float
        The time range shown, seconds.
    """
    figure, pitch_axes = new_figure(LAYOUT)
    # Split the plot area: a band of words on top, pitch and intensity below.
    left, bottom, width, height = pitch_axes.get_position().bounds
    band = WORDS_PX / LAYOUT.height
    pitch_axes.set_position((left, bottom, width, height - band))
    words_axes = figure.add_axes((left, bottom + height - band, width, band), sharex=pitch_axes)
    words_axes.axis("off")
    for axes in (words_axes, pitch_axes):
        axes.set_xlim(start_s, end_s)

    if transcript is not None:
        _draw_words(words_axes, pitch_axes, transcript.between(start_s, end_s))
    if voice is not None:
        _draw_voice(pitch_axes, voice.between(start_s, end_s))
    pitch_axes.set_xlabel("Time (s)", fontsize=13)
    pitch_axes.xaxis.set_major_locator(MaxNLocator(nbins=12))
    return encode(figure, "png")


def _draw_words(words_axes, pitch_axes, transcript: Transcript) -> None:
    """Shade voice activity across both panels; write the words (or segments) in the band."""
    for start, end in transcript.speech_regions:
        for axes in (words_axes, pitch_axes):
            axes.axvspan(start, end, color=THEME_COLOUR, alpha=REGION_ALPHA, linewidth=0)
    words_axes.set_ylim(0, WORD_ROWS)
    words = transcript.words
    if len(words) <= MAX_WORDS_DRAWN:
        for i, word in enumerate(words):
            words_axes.text(
                (word.start + word.end) / 2,
                WORD_ROWS - 0.5 - i % WORD_ROWS,
                word.word.strip(),
                ha="center",
                va="center",
                fontsize=10.5,
                clip_on=True,
            )
    else:  # too many words to read: one bar per phrase
        for segment in transcript.segments:
            words_axes.plot(
                [segment.start, segment.end], [WORD_ROWS / 2] * 2, color=THEME_COLOUR, lw=6
            )


def _draw_voice(axes, voice: Voice) -> None:
    """F0 as dots on a log-Hz axis (left), intensity as a grey line on a dB axis (right)."""
    voiced = np.isfinite(voice.f0_hz)
    if voiced.any():
        axes.scatter(voice.times[voiced], voice.f0_hz[voiced], s=4, color=THEME_COLOUR, zorder=3)
        low, high = np.nanmin(voice.f0_hz), np.nanmax(voice.f0_hz)
        axes.set_yscale("log")
        axes.set_ylim(low / 1.25, high * 1.25)
        ticks = [hz for hz in PITCH_TICKS_HZ if low / 1.25 <= hz <= high * 1.25]
        axes.set_yticks(ticks or [round(float(np.nanmedian(voice.f0_hz)))])
        axes.yaxis.set_major_formatter(FuncFormatter(hz_tick))
        axes.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
        axes.set_ylabel("Pitch (Hz)", fontsize=13, color=THEME_COLOUR)
    else:  # no pitch scale to read: a sentence instead of an axis from 0 to 1 "Hz"
        axes.set_yticks([])
        axes.set_ylabel("No voice", fontsize=13, color=THEME_COLOUR)
    loud = np.isfinite(voice.intensity_db)
    if loud.any():
        twin = axes.twinx()
        twin.plot(voice.times[loud], voice.intensity_db[loud], color=INTENSITY_COLOR, lw=1)
        top = float(voice.intensity_db[loud].max())
        twin.set_ylim(top - INTENSITY_RANGE_DB, top + 3)  # digital silence reads -394 dB
        twin.set_ylabel("Intensity (dB)", fontsize=12, color=INTENSITY_COLOR)
        twin.tick_params(labelsize=11, colors=INTENSITY_COLOR)
        twin.spines["top"].set_visible(False)
        twin.yaxis.set_major_locator(MaxNLocator(nbins=4))
        axes.set_zorder(twin.get_zorder() + 1)  # pitch dots over the intensity line
        axes.patch.set_visible(False)
