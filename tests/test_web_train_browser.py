"""Training from the page in a real browser: Playwright driving Debian's Chromium against a real uvicorn.

The server starts with no model at all; the one trained from the page (a
784-32-10 network, 1 epoch on 2,000 MNIST images, in a child process) is
the first to read the drawing.
"""
import json
import re
import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"browser tests need {CHROMIUM}: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright", reason="browser tests need Playwright: pip install playwright")
pytest.importorskip("fastapi")
pytest.importorskip("sse_starlette")

from playwright.sync_api import expect  # noqa: E402

from helpers import web as _web  # noqa: E402

from ffnn.web.jobs import TrainLimits  # noqa: E402
from ffnn.web.registry import Registry  # noqa: E402
from ffnn.web.serve import background  # noqa: E402

TIMEOUT_MS = 60_000  # a job loads MNIST, trains and writes its plots on a loaded 2-core machine (for waits
# and expectations that span a job; the others keep Playwright's 5 s)
RUN_FILES = {"config.json", "history.json", "history.csv", "model.npz", "metrics.json", "accuracy.png",
             "loss.png", "confusion.png", "misclassified.png", "weights.png", "dynamics.png"}


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def url(runs_dir):
    with background(Registry([]), limits=TrainLimits(max_epochs=50, runs_dir=runs_dir)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with _web.chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, url):
    with _web.open_page(browser, url, 1200, TIMEOUT_MS,
                        ready=("body[data-ready=true]", "#train[data-ready=true]")) as (page, errors):
        yield page
    assert errors == [], "JavaScript errors on the page"


def _fill(page, **fields):
    for name, value in fields.items():
        page.fill(f'#train-form [name="{name}"]', str(value))


def _at_least(page, selector: str, attribute: str, n: int) -> None:
    page.wait_for_function(f"Number(document.querySelector('{selector}').dataset.{attribute}) >= {n}")


def test_train_watch_it_learn_and_draw_for_the_new_model(page, runs_dir):
    _fill(page, hidden="32", epochs=1, n_train=2000)
    page.click("#train-start")
    status = page.locator("#train-status")
    expect(status).to_have_attribute("data-state", "running")
    _at_least(page, "#train-status", "progress", 2)
    points = int(page.locator("#train-accuracy").get_attribute("data-points"))
    assert points >= 2
    _at_least(page, "#train-accuracy", "points", points + 1)  # the curve grows
    expect(status).to_have_attribute("data-state", "done", timeout=TIMEOUT_MS)
    name = status.get_attribute("data-name")
    assert name == "numpy" and Path(status.get_attribute("data-run-dir")).parent == runs_dir
    expect(page.locator("#train-weights")).to_have_attribute("src", re.compile("^data:image/png;base64,"))
    expect(page.locator(f'[data-model="{name}"]')).to_have_count(1)  # the new model has a card
    expect(page.locator("#histories figure")).to_have_count(1)

    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(box["x"] + 140, box["y"] + 40 + 10 * i, steps=4)
    page.mouse.up()
    expect(page.locator(f'[data-model="{name}"]')).to_have_attribute("data-prediction", "1")


def test_a_bad_setting_is_named_on_the_page(page):
    _fill(page, momentum=1.5)
    page.click("#train-start")
    expect(page.locator("#train-status")).to_contain_text("momentum must be a number in [0, 1), got 1.5")
    expect(page.locator('#train-form [name="momentum"]')).to_have_class("invalid")
    expect(page.locator("#train-status")).to_have_attribute("data-state", "idle")


def test_stop_mid_epoch_saves_a_complete_run(page, runs_dir):
    _fill(page, hidden="16", epochs=50, n_train=20000, batch_size=4)  # 4,500 steps an epoch
    page.click("#train-start")
    _at_least(page, "#train-status", "epochs", 1)
    progress = int(page.locator("#train-status").get_attribute("data-progress"))
    _at_least(page, "#train-status", "progress", progress + 1)  # and on into the next
    page.click("#train-stop")
    status = page.locator("#train-status")
    expect(status).to_have_attribute("data-state", "stopped", timeout=TIMEOUT_MS)
    run_dir = Path(status.get_attribute("data-run-dir"))
    assert RUN_FILES <= {p.name for p in run_dir.iterdir()}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["interrupted"] and 1 <= metrics["epochs"] < 50
    assert not [p for p in runs_dir.iterdir() if p.name.startswith(".")]
    expect(status).to_contain_text(f"Stopped after {metrics['epochs']} epoch")
