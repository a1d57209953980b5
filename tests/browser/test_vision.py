"""The Vision page in real Chromium: drop a photo, wait for the boxes, move a slider."""

from __future__ import annotations

import pytest
import skimage.data
from PIL import Image

from tests.analysis.vision.test_own_model import tiny_onnx, ultralytics_output
from tests.conftest import ARTIFACTS_DIR, IPHONE, drop_file, require_model, screenshot

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def open_vision(page, app_url: str) -> None:
    """Open the app and go to Vision through the sidebar, as a visitor does."""
    page.goto(app_url)
    page.get_by_test_id("stSidebarNav").get_by_text("Vision", exact=True).click()
    page.get_by_role("heading", name="Vision").wait_for()


def wait_for_result(page, caption: str) -> None:
    page.get_by_text(caption).wait_for()
    # The run that wrote the caption has ended: elements of the previous picture's result
    # (the sample shown before a drop) stay on screen, marked stale, until it does.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    expect(page.get_by_test_id("stStatusWidgetRunningIcon")).to_have_count(0)
    page.locator('[data-testid="stImage"] img').first.wait_for()
    # Visible images only: the hidden "Original" tab's image may load lazily, or never.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
        ".filter(img => img.offsetParent !== null)"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    page.wait_for_load_state("networkidle")


def test_drop_a_photo_and_see_labelled_boxes(page, app_url, tmp_path):
    photo = tmp_path / "cat and coffee.jpg"
    Image.fromarray(skimage.data.chelsea()).save(photo, quality=92)
    open_vision(page, app_url)
    drop_file(page, photo, "image/jpeg")
    wait_for_result(page, "cat and coffee.jpg — 451×300 px")
    expect(page.get_by_text("Download annotated image (PNG)")).to_be_visible()
    expect(page.get_by_text("Latency").first).to_be_visible()
    screenshot(page, "vision_dropped_cat")


def test_confidence_slider_updates_the_boxes_in_the_browser(page, app_url, tmp_path):
    require_model("yolox-nano")  # the counts below are YOLOX-Nano's
    photo = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(photo)
    open_vision(page, app_url)
    drop_file(page, photo, "image/png")
    wait_for_result(page, "coffee.png — 600×400 px")
    page.get_by_role("heading", name="2 detection(s)").wait_for()  # cup and dining table
    page.get_by_role("slider").first.focus()  # the confidence slider comes first
    for _ in range(6):  # 0.50 → 0.80: the dining table (0.74) goes, the cup (0.90) stays
        page.keyboard.press("ArrowRight")
    page.get_by_role("heading", name="1 detection(s)").wait_for()
    page.get_by_text("cup: 1").wait_for()
    wait_for_result(page, "coffee.png — 600×400 px")
    screenshot(page, "vision_high_confidence")


def test_a_bad_file_shows_one_message_and_the_next_photo_works(page, app_url, tmp_path):
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is not really a photo")
    photo = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(photo)
    open_vision(page, app_url)
    drop_file(page, fake, "image/jpeg")
    alert = page.get_by_test_id("stAlertContentError")
    alert.wait_for()
    assert alert.inner_text() == (
        "This file is not a picture we can read (use JPEG, PNG, WebP, BMP, TIFF or GIF)."
    )
    # The sample's result goes once the run ends: nothing stale is left below the error.
    expect(page.get_by_test_id("stImage")).to_have_count(0)
    screenshot(page, "vision_bad_file")
    drop_file(page, photo, "image/png")
    wait_for_result(page, "astronaut.png — 512×512 px")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    screenshot(page, "vision_after_bad_file")


def test_on_a_phone_the_picture_stays_in_view_while_the_slider_moves(browser, app_url, tmp_path):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, user_agent=IPHONE
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(skimage.data.astronaut()).save(photo, quality=92)
    page.goto(f"{app_url.rstrip('/')}/vision")  # the sidebar is folded away on a phone
    page.get_by_role("heading", name="Vision").wait_for()
    drop_file(page, photo, "image/jpeg")
    wait_for_result(page, "astronaut.jpg — 512×512 px")
    picture = page.locator('[data-testid="stImage"] img').first
    slider = page.get_by_role("slider", name="Confidence threshold")
    picture.evaluate("image => image.scrollIntoView({block: 'center'})")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "0.65")  # 0.50, the default, then 3 steps
    wait_for_result(page, "astronaut.jpg — 512×512 px")
    # Both whole on the screen at once, the picture below the app's header bar.
    header = page.get_by_test_id("stHeader").bounding_box()
    image, handle = picture.bounding_box(), slider.bounding_box()
    assert header and image and handle
    assert header["y"] + header["height"] <= image["y"] < image["y"] + image["height"] <= 844
    assert image["y"] + image["height"] <= handle["y"] < handle["y"] + handle["height"] <= 844
    assert image["width"] >= 300 and image["x"] >= 0 and image["x"] + image["width"] <= 390
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "vision_phone_screen.png"))  # the screen only
    screenshot(page, "vision_phone")
    context.close()


def test_upload_your_own_model_and_see_its_detections(page, app_url, tmp_path):
    model = tmp_path / "my detector.onnx"
    output = ultralytics_output(3)  # a bird at 0.9 and a cat at 0.3 (under 0.5), wherever they look
    model.write_bytes(tiny_onnx({"output0": output}, metadata={"names": "['cat', 'dog', 'bird']"}))
    open_vision(page, app_url)
    wait_for_result(page, "astronaut.png — 512×512 px")  # the sample, until a photo is given
    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name="Your own model…").click()
    page.get_by_text("Until your model is loaded").wait_for()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Drop your model here")
    uploader.locator('input[type="file"]').set_input_files(model)
    page.get_by_role("heading", name="1 detection(s)").wait_for()
    expect(page.get_by_text("bird: 1", exact=True)).to_be_visible()
    expect(page.get_by_text("An uploaded Ultralytics detection model")).to_be_visible()
    wait_for_result(page, "astronaut.png — 512×512 px")
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    screenshot(page, "vision_own_model")

    # A second model replaces the first: one uploader, empty again, no chip of the first.
    second = tmp_path / "second.onnx"
    second.write_bytes(tiny_onnx({"output0": output}, metadata={"names": "['a', 'b', 'c']"}))
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Drop your model here")
    uploader.locator('input[type="file"]').set_input_files(second)
    page.get_by_text("Loaded: second.onnx").wait_for()
    expect(page.get_by_text("c: 1", exact=True)).to_be_visible()
    expect(page.get_by_text("my detector.onnx")).to_have_count(0)
    expect(page.get_by_test_id("stFileUploaderFile")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    screenshot(page, "vision_own_model_replaced")


def test_the_fetch_command_of_a_missing_model_is_shown_whole(page, app_url):
    open_vision(page, app_url)
    wait_for_result(page, "astronaut.png — 512×512 px")
    missing = page.get_by_text("more model(s) not installed")
    if not missing.count():
        pytest.skip("every model is installed: nothing to fetch")
    missing.click()
    code = page.get_by_test_id("stCode").filter(has_text="python -m models fetch").first
    code.wait_for()
    text = code.locator("code")
    assert text.evaluate("el => el.scrollWidth <= el.clientWidth + 1")  # wrapped, not cut
    expect(page.get_by_text("would add")).not_to_have_count(0)
    screenshot(page, "vision_missing_model")
