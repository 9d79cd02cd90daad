"""Take docs/serve.png: the page of ``ffnn serve runs/demo`` after drawing a 7 with the mouse.

    python docs/serve_screenshot.py [RUN_DIR ...]     # default runs/demo; needs /usr/bin/chromium

Serves the runs with a real uvicorn on a free loopback port, draws in
Debian's Chromium driven by Playwright, picks hidden unit 5 and saves a
full-page screenshot.
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from ffnn.web.registry import Registry
from ffnn.web.serve import background, one_torch_thread

OUT = Path(__file__).with_name("serve.png")
SEVEN = [(70, 60), (210, 60), (120, 250)]  # corners of the stroke, in pad pixels


def main(argv=None) -> int:
    runs = (argv if argv is not None else sys.argv[1:]) or ["runs/demo"]
    one_torch_thread(runs)
    registry = Registry.from_paths(runs)
    with background(registry) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        box = page.locator("#pad").bounding_box()
        page.mouse.move(box["x"] + SEVEN[0][0], box["y"] + SEVEN[0][1])
        page.mouse.down()
        for x, y in SEVEN[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=20)
        page.mouse.up()
        for name in registry.models:
            expect(page.locator(f'[data-model="{name}"]')).to_have_attribute("data-prediction", "7")
        page.fill("#unit", "5")
        page.dispatch_event("#unit", "change")
        page.wait_for_timeout(1000)
        page.screenshot(path=OUT, full_page=True)
        browser.close()
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
