"""The page in a real browser: Playwright driving Debian's Chromium headless against a real uvicorn.

Playwright cannot download its own browsers here, so these tests use
/usr/bin/chromium (Debian's ``chromium`` package) and skip without it.
"""
import os

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"browser tests need {CHROMIUM}: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright", reason="browser tests need Playwright: pip install playwright")
pytest.importorskip("fastapi")

from playwright.sync_api import expect  # noqa: E402

from helpers import web as _web  # noqa: E402

TIMEOUT_MS = 30_000  # a loaded 2-core machine with TensorFlow answering can be slow; the page is not


@pytest.fixture(scope="module")
def url():
    with _web.live_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with _web.chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, url):
    with _web.open_page(browser, url, 1000, TIMEOUT_MS) as (page, errors):
        yield page
    assert errors == [], "JavaScript errors on the page"


def _stroke(page, points):
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def _answers(page) -> dict:
    return {m: page.locator(f'[data-model="{m}"]').get_attribute("data-prediction") for m in _web.backends()}


def test_every_model_has_a_card_and_a_history(page):
    for name in _web.backends():
        expect(page.locator(f'[data-model="{name}"]')).to_have_count(1)
    expect(page.locator("#histories figure")).to_have_count(len(_web.backends()))
    expect(page.locator("#histories")).to_contain_text("test accuracy")


def test_a_vertical_stroke_drawn_with_the_mouse_reads_as_one(page, tmp_path):
    _stroke(page, [(140, 40 + 10 * i) for i in range(21)])
    for name in _web.backends():
        expect(page.locator(f'[data-model="{name}"]')).to_have_attribute("data-prediction", "1")
    expect(page.locator("#hidden canvas")).to_have_count(2)  # the inspected model's two hidden layers
    page.screenshot(path=tmp_path / "serve.png", full_page=True)

    page.click("#undo")
    expect(page.locator("[data-prediction]")).to_have_count(0)


def test_clear_forgets_the_drawing(page):
    _stroke(page, [(140, 40 + 10 * i) for i in range(21)])
    expect(page.locator("[data-prediction]")).to_have_count(len(_web.backends()))
    page.click("#clear")
    expect(page.locator("[data-prediction]")).to_have_count(0)


def test_an_uploaded_image_gets_the_answers_of_the_api(page, tmp_path, mnist):
    (_, _), (x_test, _) = mnist
    path = tmp_path / "digit.png"
    path.write_bytes(_web.png(255 - x_test[1]))
    from ffnn.imaging import load_digit

    expected = {p["name"]: str(p["prediction"]) for p in _web.registry().predict(load_digit(path).reshape(-1))}
    page.set_input_files("#upload", str(path))
    for name, digit in expected.items():
        expect(page.locator(f'[data-model="{name}"]')).to_have_attribute("data-prediction", digit)
    expect(page.locator("#message")).to_contain_text("digit.png")


def test_a_file_that_is_not_an_image_gets_a_clear_message(page, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a picture")
    page.set_input_files("#upload", str(path))
    message = page.locator("#message")
    expect(message).to_have_class("error")
    expect(message).to_contain_text("Could not read notes.txt")
    expect(message).to_contain_text("not an image")
    expect(page.locator("[data-prediction]")).to_have_count(0)


def test_clicking_a_hidden_unit_shows_its_weights(page):
    _stroke(page, [(140, 40 + 10 * i) for i in range(21)])
    first = page.locator("#hidden canvas").first
    expect(first).to_be_visible()
    first.click(position={"x": 14 * 2 + 7, "y": 7})  # the third unit of the first row
    expect(page.locator("#unit")).to_have_value("2")


def test_a_finger_draws_too(browser, url):
    """Touch input through Chromium's own touch events (CDP), which the page gets as touch pointer events."""
    context = browser.new_context(has_touch=True, viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        box = page.locator("#pad").bounding_box()
        cdp = context.new_cdp_session(page)
        x, y = box["x"] + 140, box["y"] + 40
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for i in range(1, 21):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y + 10 * i}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        for name in _web.backends():
            expect(page.locator(f'[data-model="{name}"]')).to_have_attribute("data-prediction", "1")
    finally:
        context.close()


def test_an_oversized_file_is_refused_by_the_page_before_it_is_sent(page, tmp_path):
    # issue 27: the page says the limit itself instead of sending 30 MB to be refused
    from ffnn.web.upload import MAX_UPLOAD_BYTES

    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/api/predict" in request.url else None)
    path = tmp_path / "photo.png"
    path.write_bytes(b"\0" * (30 * 2**20))
    page.set_input_files("#upload", str(path))
    message = page.locator("#message")
    expect(message).to_have_class("error")
    expect(message).to_contain_text(f"photo.png is 30.0 MB, more than the {MAX_UPLOAD_BYTES / 2**20:.1f} MB")
    page.wait_for_timeout(500)
    assert sent == []


def test_the_browser_reads_the_servers_413_for_a_large_upload(page):
    # past the page's own check (a script posting directly): fetch gets the 413 JSON, not a reset
    status, body = page.evaluate("""async () => {
        const form = new FormData();
        form.append("image", new Blob([new Uint8Array(30 * 2 ** 20)]), "photo.png");
        const response = await fetch("/api/predict", { method: "POST", body: form });
        return [response.status, await response.json()];
    }""")
    assert status == 413 and "over the limit" in body["error"]


def test_the_api_docs_render_with_no_internet(browser, url):
    # issue 27: FastAPI's /docs page took Swagger UI from a CDN and stayed blank offline
    pytest.importorskip("fastapi_offline")
    page = browser.new_page()
    outside = []

    def only_local(route):
        if route.request.url.startswith(url):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", only_local)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url + "/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/predict")).to_be_visible()
    assert outside == []
    page.close()
