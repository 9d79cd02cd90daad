"""Take docs/serve-train.png: the page of ``ffnn serve`` while a network trains from its Train panel.

    python docs/serve_train_screenshot.py [RUN_DIR ...]   # default runs/demo if it exists; needs /usr/bin/chromium

Serves the runs with a real uvicorn on a free loopback port (the new run
goes to a temporary folder), fills the Train panel in Debian's Chromium
driven by Playwright (numpy, 784-128-64-10, 5 epochs on 20,000 images),
presses Start and saves a full-page screenshot in the middle of the third
epoch, with the loss, accuracy, weights and dynamics of the first two drawn.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from ffnn.web.jobs import TrainLimits
from ffnn.web.registry import Registry
from ffnn.web.serve import background, one_torch_thread

OUT = Path(__file__).with_name("serve-train.png")
SETTINGS = {"hidden": "128,64", "epochs": "5", "n_train": "20000", "learning_rate": "1", "batch_size": "32"}


def main(argv=None) -> int:
    runs = (argv if argv is not None else sys.argv[1:]) or [r for r in ["runs/demo"] if Path(r).is_dir()]
    one_torch_thread(runs)
    registry = Registry.from_paths(runs)
    with tempfile.TemporaryDirectory() as tmp, \
            background(registry, limits=TrainLimits(runs_dir=Path(tmp))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(300_000)
        page.goto(url)
        page.wait_for_selector("#train[data-ready=true]")
        for name, value in SETTINGS.items():
            page.fill(f'#train-form [name="{name}"]', value)
        page.click("#train-start")
        page.wait_for_function("document.getElementById('train-weights-epoch').textContent === 'epoch 2'")
        progress = int(page.locator("#train-status").get_attribute("data-progress"))
        page.wait_for_function(f"Number(document.getElementById('train-status').dataset.progress) >= {progress + 4}")
        page.locator("#train").scroll_into_view_if_needed()
        page.screenshot(path=OUT, full_page=True)
        page.click("#train-stop")
        page.wait_for_function("['stopped', 'done'].includes(document.getElementById('train-status').dataset.state)")
        browser.close()
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
