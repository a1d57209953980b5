"""Decode an uploaded or on-disk picture into an upright RGB uint8 array.

Every detector adapter takes the array this module returns: shape (height, width, 3),
dtype uint8, channels in **RGB** order (adapters convert to BGR where a network wants it).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import cv2
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

LETTERBOX_GREY = 114
"""The YOLO families' padding value (0..255) around a letterboxed picture."""


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
    return _decode(source, max_pixels)[0]


def decode_reduced(source: bytes | str | Path, side: int) -> tuple[np.ndarray, float]:
    """:func:`decode_image` for a thumbnail: a JPEG is decoded at 1/2, 1/4 or 1/8 of its size
    (its own DCT scaling, several times faster than decoding it whole) as long as its longest
    side stays at least ``side`` px; other formats are decoded whole.

    Returns
    -------
    rgb : np.ndarray
        (height, width, 3) uint8, upright.
    scale : float
        Its size over the file's (1, 1/2, 1/4 or 1/8), to scale coordinates given in the
        file's pixels.
    """
    return _decode(source, MAX_PIXELS, side)


def _decode(
    source: bytes | str | Path, max_pixels: int, at_least: int | None = None
) -> tuple[np.ndarray, float]:
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
                if at_least:  # JPEG only; others ignore it
                    image.draft(None, (at_least, 1) if width >= height else (1, at_least))
                image.load()
                rgb = _to_rgb(ImageOps.exif_transpose(image))
            except Image.DecompressionBombError:
                raise _too_large(width * height, max_pixels) from None
            except (OSError, ValueError, SyntaxError, EOFError):
                # Truncated or corrupt pixel data: refuse rather than show a half-grey photo.
                raise InputError(
                    "The picture is damaged or incomplete (truncated file), so it cannot be read."
                ) from None
    return rgb, image.size[0] / width


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


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB uint8 array for the screen: quick to encode and send; full chroma
    (4:4:4) keeps drawn text sharp."""
    options = [
        cv2.IMWRITE_JPEG_QUALITY,
        quality,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    ]
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), options)[1].tobytes()


def check_rgb(rgb: np.ndarray, needs: str = "The detector needs") -> None:
    """Refuse anything but a non-empty (height, width, 3) uint8 array, in one sentence that
    starts with ``needs`` ("Pose estimation needs", ...).

    Raises
    ------
    InputError
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise InputError(f"{needs} an RGB picture (height × width × 3, uint8).")


def display_copy(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The picture for a screen: at most ``max_side`` pixels, never thinner than 1:40.

    Returns the copy, its scale (copy pixels per picture pixel) and the (x, y) offset of the
    picture inside it. A strip a few thousand pixels by one would be scaled to zero pixels by
    the browser, so it is centred on a grey band instead.
    """
    scale = min(1.0, max_side / max(rgb.shape[:2]))
    screen = rgb
    if scale < 1.0:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        screen = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    height, width = screen.shape[:2]
    least = max(height, width) // 40
    pad_y, pad_x = max(0, least - height), max(0, least - width)
    if pad_x or pad_y:
        screen = cv2.copyMakeBorder(
            screen,
            pad_y // 2,
            pad_y - pad_y // 2,
            pad_x // 2,
            pad_x - pad_x // 2,
            cv2.BORDER_CONSTANT,
            value=(128, 128, 128),
        )
    return screen, scale, (pad_x // 2, pad_y // 2)


# -- Letterbox: a network's input of fixed size, the picture's aspect ratio kept ----------------


def _fitted(
    rgb: np.ndarray, size: tuple[int, int], centred: bool, interpolation: int | None
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """``rgb`` resized to fit a (width, height) canvas, the scale and its (x, y) place."""
    width, height = size
    h, w = rgb.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if interpolation is None:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    place = ((width - new_w) // 2, (height - new_h) // 2) if centred else (0, 0)
    return resized, scale, place


def letterbox(
    rgb: np.ndarray,
    size: tuple[int, int],
    *,
    centred: bool = False,
    pad: int = LETTERBOX_GREY,
    interpolation: int | None = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """``rgb`` resized keeping its aspect ratio into a (width, height) canvas of ``pad``.

    Parameters
    ----------
    rgb : np.ndarray
        (h, w, 3) uint8 picture.
    size : tuple of int
        Canvas (width, height), pixels.
    centred : bool
        Centre the picture; otherwise it sits in the top-left corner (the YOLO families').
    pad : int
        Value of the canvas around the picture, 0..255.
    interpolation : int or None
        OpenCV's resize interpolation; None takes area averaging when shrinking and bilinear
        when enlarging.

    Returns
    -------
    canvas : np.ndarray
        (height, width, 3) uint8.
    scale : float
        Canvas pixels per picture pixel: a picture point p lands at p × scale + offset.
    offset : tuple of int
        (x, y) of the picture's top-left corner in the canvas.
    """
    resized, scale, (x, y) = _fitted(rgb, size, centred, interpolation)
    canvas = np.full((size[1], size[0], 3), pad, np.uint8)
    canvas[y : y + resized.shape[0], x : x + resized.shape[1]] = resized
    return canvas, scale, (x, y)


def letterbox_blob(
    rgb: np.ndarray,
    size: tuple[int, int],
    *,
    bgr: bool,
    unit: float = 1.0,
    pad: int = LETTERBOX_GREY,
) -> tuple[np.ndarray, float]:
    """:func:`letterbox` (top-left, bilinear) straight into a network's (1, 3, height, width)
    float32 blob: channels in BGR or RGB order, each value times ``unit`` (1 keeps 0..255,
    1/255 gives 0..1). Returns the blob and the scale (network pixels per picture pixel).

    YOLOX takes ``bgr=True`` (0..255), the Ultralytics models ``bgr=False, unit=1/255``.
    """
    width, height = size
    resized, scale, _ = _fitted(rgb, size, False, cv2.INTER_LINEAR)
    new_h, new_w = resized.shape[:2]
    blob = np.full((1, 3, height, width), pad * unit, dtype=np.float32)
    planes = cv2.split(resized)
    # Plane by plane into the blob (HWC → CHW as contiguous copies, scaled in place): several
    # times faster than one strided transpose-and-convert or cv2.dnn.blobFromImage.
    for channel, plane in enumerate(reversed(planes) if bgr else planes):
        target = blob[0, channel, :new_h, :new_w]
        target[...] = plane
        if unit != 1.0:
            target *= unit
    return blob, scale


def ssd_blob(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The MobileNet-SSD input: ``rgb`` resized to (width, height) without keeping its aspect
    ratio, as a (1, 3, height, width) float32 BGR blob of (pixel − 127.5) × 0.007843."""
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.dnn.blobFromImage(resized, 0.007843, size, 127.5, swapRB=True)
