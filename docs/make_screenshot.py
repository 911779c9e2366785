"""Make the README's picture of the demo map with headless Chromium.

    python docs/make_screenshot.py demo_plan/map.html docs/demo_map.png

Uses Playwright driving the system Chromium (Debian package ``chromium``); every network
request is blocked, so the picture also shows that the map works offline.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import Route, sync_playwright


def main(html: Path, png: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium on PATH; install Debian's `chromium` package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 760})

        def block(route: Route) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", block)
        page.goto(html.resolve().as_uri())
        page.wait_for_selector(".leaflet-container")
        page.wait_for_timeout(500)
        page.screenshot(path=str(png))
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
