"""``python -m analysis spectrogram INPUT -o OUT.png``: an audio file's spectrogram as an image."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from analysis.audio.decode import load_audio
from analysis.audio.render import COLORMAPS, render_spectrogram, spectrogram_title
from analysis.audio.spectrogram import SCALES, spectrogram, to_db
from analysis.audio.stft import WINDOWS, STFTParams
from analysis.errors import InputError
from analysis.figures import SPECTROGRAM_LAYOUT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="audio file (wav, flac, ogg, opus, mp3, aiff)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="image to write (.png)")
    parser.add_argument("--n-fft", type=int, default=2048, help="FFT size in samples (2048)")
    parser.add_argument("--hop", type=int, default=None, help="hop length (window length / 4)")
    parser.add_argument("--win-length", type=int, default=None, help="window length (FFT size)")
    parser.add_argument("--window", choices=list(WINDOWS), default="hann")
    parser.add_argument("--scale", choices=SCALES, default="log", help="frequency axis (log)")
    parser.add_argument("--mels", type=int, default=128, help="mel bands with --scale mel (128)")
    parser.add_argument("--start", type=float, default=0.0, help="start time in seconds (0)")
    parser.add_argument("--end", type=float, default=None, help="end time in seconds (the end)")
    parser.add_argument("--db-range", type=float, default=80.0, help="dB below the peak (80)")
    parser.add_argument("--cmap", choices=COLORMAPS, default="magma")
    parser.add_argument(
        "--channel", type=int, default=None, help="channel to show, from 1 (default: the mix)"
    )
    parser.add_argument("--npy", type=Path, default=None, help="also save the dB values (.npy)")


def run(args: argparse.Namespace) -> int:
    if args.output.suffix.lower() != ".png":
        raise InputError("The output image must be a .png file.")
    clip = load_audio(args.input)
    signal = clip.mono() if args.channel is None else clip.channel(args.channel - 1)
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(
        signal,
        clip.sample_rate,
        STFTParams(args.n_fft, args.hop, args.win_length, args.window),
        scale=args.scale,
        n_mels=args.mels,
        start_s=args.start,
        end_s=args.end,
        max_columns=columns,
        max_rows=rows,
    )
    db, peak_db = to_db(spec.power, db_range=args.db_range)
    png = render_spectrogram(
        spec,
        db,
        db_floor=peak_db - args.db_range,
        db_top=peak_db,
        cmap=args.cmap,
        title=spectrogram_title(args.input.name, spec, args.db_range),
    )
    try:
        args.output.write_bytes(png)
        if args.npy is not None:
            np.save(args.npy, db)
    except OSError as error:
        raise InputError(f"Could not write the output: {error.strerror}.") from error
    for warning in clip.warnings:
        print(f"note: {warning}")
    print(
        f"{args.output}: {clip.duration:.2f} s at {clip.sample_rate} Hz, {spec.frames} frames "
        f"of {spec.params.n_fft} samples, {args.scale} scale"
    )
    return 0
