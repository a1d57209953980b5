"""Decode an uploaded or on-disk picture into an upright RGB uint8 array.

Every detector adapter takes the array this module returns: shape (height, width, 3),
dtype uint8, channels in **RGB** order (adapters convert to BGR where a network wants it).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind

MAX_PIXELS = 50_000_000
"""Refuse pictures whose header declares more pixels than this (50 MP), before decoding."""

FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO")
"""Pillow format names we accept; MPO is how some cameras' JPEGs identify themselves."""

VIDEO_MESSAGE = "This file is a video, not a picture: open it on the Video page."
"""What a video dropped on the Vision page is told."""


def decode_image(source: bytes | str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode a picture to an upright RGB uint8 array.

    Parameters
    ----------
    source : bytes, str or Path
        The encoded file's bytes, or a path to it (jpg, png, webp, bmp, tiff, gif).
    max_pixels : int
        Largest width × height accepted, read from the header before any pixel is decoded,
        so a decompression bomb costs no memory.

    Returns
    -------
    np.ndarray
        (height, width, 3) uint8, RGB order. EXIF orientation is applied; a GIF gives its
        first frame; grayscale, palette, alpha (composited on white), 16-bit and CMYK
        pictures are converted.

    Raises
    ------
    InputError
        If the input is empty, not a supported picture (a sound or a video names itself as
        such), truncated, or too large.
    """
    if isinstance(source, str | Path):
        try:
            data = Path(source).read_bytes()
        except OSError as error:
            raise InputError(f"Cannot read the image file {source}: {error.strerror}.") from None
    else:
        data = bytes(source)
    if not data:
        raise InputError("The file is empty: there is no picture in it.")
    kind = file_kind(data[:SNIFF_BYTES])
    if kind == "video":  # before decoding: Pillow opens a bare MPEG video as an "MPEG" picture
        raise InputError(VIDEO_MESSAGE)

    with warnings.catch_warnings():
        # Pillow warns between its limit and twice it; our own limit decides instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # lazy: reads the header only
        except Image.DecompressionBombError as error:
            # Pillow's own guard (at twice its limit) fires before we see the size.
            claimed = re.search(r"\((\d+) pixels\)", str(error))
            raise _too_large(int(claimed.group(1)) if claimed else 0, max_pixels) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            if kind == "sound":
                raise InputError(
                    "This file is a sound, not a picture: open it on the Audio page."
                ) from None
            raise InputError(
                "This file is not a picture we can read (use JPEG, PNG, WebP, BMP, TIFF or GIF)."
            ) from None
        with image:
            if image.format not in FORMATS:
                raise InputError(
                    f"{image.format} pictures are not supported; use JPEG, PNG, WebP, BMP, "
                    "TIFF or GIF."
                )
            width, height = image.size
            if width * height > max_pixels:
                raise _too_large(width * height, max_pixels, f"{width}×{height} = ")
            if width < 1 or height < 1:
                raise InputError("The picture has no pixels.")
            try:
                image.seek(0)  # first frame of an animation
                image.load()
                rgb = _to_rgb(ImageOps.exif_transpose(image))
            except Image.DecompressionBombError:
                raise _too_large(width * height, max_pixels) from None
            except (OSError, ValueError, SyntaxError, EOFError):
                # Truncated or corrupt pixel data: refuse rather than show a half-grey photo.
                raise InputError(
                    "The picture is damaged or incomplete (truncated file), so it cannot be read."
                ) from None
    return rgb


def _too_large(pixels: int, max_pixels: int, dimensions: str = "") -> InputError:
    size = f" ({dimensions}{pixels / 1e6:.0f} MP)" if pixels else ""
    return InputError(
        f"The picture is too large{size}; the limit is {max_pixels / 1e6:.0f} megapixels."
    )


def gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """(height, width) uint8 to (height, width, 3): the same value on every channel."""
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def sample_photo(name: str) -> np.ndarray:
    """One of the photos inside scikit-image's wheel (``"astronaut"``, ``"chelsea"``,
    ``"coffee"``, ``"camera"``, …) as RGB uint8; works offline."""
    import skimage.data  # only for the samples

    image = getattr(skimage.data, name)()
    return gray_to_rgb(image) if image.ndim == 2 else image


def _to_rgb(image: Image.Image) -> np.ndarray:
    """RGB uint8 array from any Pillow mode (16-bit scaled, alpha composited on white)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return gray_to_rgb(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "F":
        # Float pictures: 0..1 or 0..255 as they are; anything else stretched to 0..255.
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        low, high = float(values.min()), float(values.max())
        if low >= 0 and high <= 1:
            values = values * 255.0
        elif low < 0 or high > 255:
            values = (values - low) / ((high - low) or 1.0) * 255.0
        return gray_to_rgb(np.clip(values + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array (for downloads)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()
