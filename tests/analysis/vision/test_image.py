"""Decoding pictures: every supported format and mode to upright RGB uint8, bad input refused."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from analysis.errors import InputError
from analysis.vision.detectors import PREFERENCE, is_available, load_detector
from analysis.vision.image import check_rgb, decode_image, display_copy, encode_jpeg, encode_png
from models.catalog import CATALOG
from tests.analysis.vision.test_detectors import write_tiny_ssd
from tests.conftest import require_model
from tests.support.corpus import VIDEO_CASES, encoded_image, media, png_header, wav


def colour_blocks(width: int = 40, height: int = 20) -> np.ndarray:
    """Left half red, right half blue: channel order and orientation both show."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:, : width // 2] = (255, 0, 0)
    rgb[:, width // 2 :] = (0, 0, 255)
    return rgb


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("BMP", {}), ("TIFF", {}), ("WEBP", {"lossless": True}), ("GIF", {})],
)
def test_lossless_formats_decode_exactly_as_rgb(fmt, options):
    rgb = colour_blocks()
    out = decode_image(encoded_image(Image.fromarray(rgb), fmt, **options))
    assert out.dtype == np.uint8 and out.shape == (20, 40, 3)
    np.testing.assert_array_equal(out, rgb)


def test_jpeg_decodes_close_to_the_original_in_rgb_order():
    rgb = colour_blocks()
    out = decode_image(encoded_image(Image.fromarray(rgb), "JPEG", quality=95))
    assert np.abs(out.astype(int) - rgb).mean() < 8
    assert out[10, 5, 0] > 200 and out[10, 5, 2] < 60  # red stays red: RGB, not BGR


def test_path_and_bytes_give_the_same_array(tmp_path):
    path = tmp_path / "blocks.png"
    path.write_bytes(encoded_image(Image.fromarray(colour_blocks()), "PNG"))
    np.testing.assert_array_equal(decode_image(path), decode_image(path.read_bytes()))
    np.testing.assert_array_equal(decode_image(str(path)), decode_image(path.read_bytes()))


def test_grayscale_becomes_three_equal_channels():
    gray = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (4, 1))
    out = decode_image(encoded_image(Image.fromarray(gray, mode="L"), "PNG"))
    assert out.shape == (4, 16, 3)
    np.testing.assert_array_equal(out[..., 0], gray)
    np.testing.assert_array_equal(out[..., 1], out[..., 2])


def test_alpha_is_composited_on_white():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (255, 0, 0, 0)  # fully transparent
    out = decode_image(encoded_image(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    np.testing.assert_array_equal(out[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(out[0, 1], (255, 255, 255))


def test_sixteen_bit_grayscale_png_scales_to_eight_bits():
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    out = decode_image(encoded_image(Image.fromarray(values), "PNG"))
    np.testing.assert_array_equal(out[0, :, 0], (0, 128, 255))


@pytest.mark.parametrize(
    ("values", "expected"),
    [([[0.0, 0.5, 1.0]], [0, 128, 255]), ([[0.0, 100.0, 255.0]], [0, 100, 255])],
    ids=["unit-range", "byte-range"],
)
def test_float_tiff_keeps_its_range(values, expected):
    image = Image.fromarray(np.array(values, np.float32), mode="F")
    np.testing.assert_array_equal(decode_image(encoded_image(image, "TIFF"))[0, :, 0], expected)


def test_cmyk_jpeg_converts_to_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # full magenta + yellow = red
    out = decode_image(encoded_image(cmyk, "JPEG", quality=95))
    assert out.shape == (8, 8, 3)
    assert out[4, 4, 0] > 200 and out[4, 4, 1] < 60 and out[4, 4, 2] < 60


def test_exif_orientation_is_applied():
    # Stored landscape (40×20) with orientation 6: the camera was turned, show it portrait.
    image = Image.fromarray(colour_blocks())
    exif = Image.Exif()
    exif[0x0112] = 6
    out = decode_image(encoded_image(image, "JPEG", quality=95, exif=exif.tobytes()))
    assert out.shape == (40, 20, 3)
    # Rotated 90° clockwise: the red left half ends up on top.
    assert out[5, 10, 0] > 200 and out[35, 10, 2] > 200


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (6, 6), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encoded_image(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    out = decode_image(data)
    np.testing.assert_array_equal(out[3, 3], (255, 0, 0))


@pytest.mark.parametrize("shape", [(2, 2), (300, 8000)])
def test_tiny_and_panorama_shapes(shape):
    rgb = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode_image(encode_png(rgb)), rgb)


STRIPS = [(1, 3000), (3000, 1), (2, 5000), (5000, 2)]
"""(height, width) of pictures a few thousand pixels long and one or two wide."""


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("shape", STRIPS, ids=lambda s: f"{s[1]}x{s[0]}")
def test_strips_decode(shape, fmt):
    rgb = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    out = decode_image(encoded_image(Image.fromarray(rgb), fmt))
    assert out.shape == (*shape, 3)
    if fmt == "PNG":
        np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize("name", PREFERENCE)
def test_every_detector_analyses_strips(name, tmp_path, monkeypatch):
    if name in ("yolox-nano", "yunet"):
        require_model(name)
    if name == "mobilenet-ssd" and not is_available(CATALOG[name]):
        write_tiny_ssd(tmp_path)  # the adapter's code is the same with a generated tiny model
        monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    detector = load_detector(name)
    for height, width in [*STRIPS, (1, 1)]:
        rgb = decode_image(encode_png(np.full((height, width, 3), 128, np.uint8)))
        raw, _ = detector.detect(rgb)
        assert (raw.boxes[:, 0::2] <= width).all() and (raw.boxes[:, 1::2] <= height).all()


@pytest.mark.parametrize("case", VIDEO_CASES, ids=lambda c: c.id)
def test_a_video_is_named_as_a_video(tmp_path, case):
    path = tmp_path / case.name
    path.write_bytes(case.make())
    for source in (path, path.read_bytes()):
        with pytest.raises(InputError) as info:
            decode_image(source)
        assert str(info.value) == (
            "This file is a video, not a picture: open it on the Video page."
        )


def test_a_bare_mpeg_video_stream_is_a_video_not_an_unsupported_picture():
    # Pillow opens an MPEG-1 video stream as an "MPEG" picture.
    with pytest.raises(InputError, match="is a video, not a picture"):
        decode_image(media("mpeg1video", "mpeg1video"))


def test_header_claiming_900_megapixels_is_refused_before_decoding():
    data = png_header(30000, 30000)
    tracemalloc.start()
    with pytest.raises(InputError) as info:
        decode_image(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert str(info.value) == "The picture is too large (900 MP); the limit is 50 megapixels."
    assert peak < 5_000_000  # bytes: nothing near 30000 × 30000 × 3 was allocated


def test_pillows_own_bomb_guard_is_reported_as_too_large():
    with pytest.raises(InputError, match=r"too large \(900 MP\)"):
        decode_image(png_header(30000, 30000), max_pixels=10**12)


def test_header_just_over_our_limit_is_refused_with_its_size():
    with pytest.raises(InputError) as info:
        decode_image(png_header(10000, 6000))
    assert str(info.value) == (
        "The picture is too large (10000×6000 = 60 MP); the limit is 50 megapixels."
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty: there is no picture in it."),
        (
            np.random.default_rng(1).bytes(5000),
            "This file is not a picture we can read (use JPEG, PNG, WebP, BMP, TIFF or GIF).",
        ),
        (
            b"just some text pretending to be a .png\n",
            "This file is not a picture we can read (use JPEG, PNG, WebP, BMP, TIFF or GIF).",
        ),
        (
            wav(seconds=0.1, rate=8000),
            "This file is a sound, not a picture: open it on the Audio page.",
        ),
    ],
    ids=["empty", "random", "text", "audio"],
)
def test_not_a_picture_gives_one_clear_sentence(data, message):
    with pytest.raises(InputError) as info:
        decode_image(data)
    assert str(info.value) == message


def test_truncated_jpeg_is_refused():
    rgb = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encoded_image(Image.fromarray(rgb), "JPEG")
    with pytest.raises(InputError, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2])


def test_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="Cannot read the image file"):
        decode_image(tmp_path / "nope.jpg")


@pytest.mark.parametrize(
    ("name", "shape"), [("astronaut", (512, 512, 3)), ("camera", (512, 512, 3))]
)
def test_sample_photos_are_rgb_even_when_the_original_is_gray(name, shape):
    from analysis.vision.image import sample_photo

    rgb = sample_photo(name)
    assert rgb.shape == shape and rgb.dtype == np.uint8
    if name == "camera":
        assert (rgb[..., 0] == rgb[..., 2]).all()


# -- Helpers every adapter and the page share -------------------------------------------------


@pytest.mark.parametrize(
    "rgb",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3)),
        np.zeros((0, 4, 3), np.uint8),
    ],
    ids=["gray", "rgba", "float", "empty"],
)
def test_anything_but_rgb_uint8_is_refused_in_one_sentence(rgb):
    with pytest.raises(InputError, match=r"^Pose estimation needs an RGB picture"):
        check_rgb(rgb, "Pose estimation needs")


@pytest.mark.parametrize(
    ("shape", "screen_shape", "offset"),
    [
        ((300, 400), (300, 400), (0, 0)),
        ((2920, 1460), (1460, 730), (0, 0)),
        ((40, 3000), (36, 1460), (0, 8)),
    ],
)
def test_the_display_copy_fits_the_screen_and_pads_strips(shape, screen_shape, offset):
    rgb = np.full((*shape, 3), 200, np.uint8)
    screen, scale, place = display_copy(rgb, 1460)
    assert scale == pytest.approx(min(1.0, 1460 / max(shape)))
    assert place == offset
    x, y = place
    h, w = round(shape[0] * scale), round(shape[1] * scale)
    assert (screen[y : y + h, x : x + w] == 200).all()  # the picture, at its place
    assert screen.shape[:2] == screen_shape
    assert (screen[:y] == 128).all() and (screen[y + h :] == 128).all()  # the grey band


def test_the_screen_jpeg_keeps_full_colour_resolution():
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:, ::2] = (255, 0, 0)  # one-pixel red stripes: 4:2:0 would smear them
    decoded = decode_image(encode_jpeg(rgb))
    assert decoded[:, 0, 0].min() > 200 and decoded[:, 1, 0].max() < 60
