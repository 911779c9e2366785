"""Make the README's picture of the demo map with headless Chromium.

    python docs/make_screenshot.py demo_plan/map.html docs/demo_map.png

Uses Playwright driving the system Chromium (Debian package ``chromium``, at
``/usr/bin/chromium`` or on PATH); every request other than the page itself is blocked,
so the picture also shows that the map works offline. It waits until the page script has
drawn the plan (territories, every customer, the labels placed) and fails on a
JavaScript error.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import Route, sync_playwright


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    sys.exit("no chromium found; install Debian's `chromium` package")


def main(html: Path, png: Path, width: int = 1200, height: int = 760) -> None:
    url = html.resolve().as_uri()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def block(route: Route) -> None:
            if route.request.url == url:
                route.continue_()
            else:
                errors.append(f"blocked request: {route.request.url}")
                route.abort()

        page.route("**/*", block)
        page.goto(url)
        page.wait_for_function(
            "window.geoterrMaps && window.geoterrMaps.length > 0 && "
            "window.geoterrMaps.every(h => !h.customers || h.stats().drawnAt !== null)"
        )
        page.wait_for_timeout(500)  # the labels are placed on the next animation frame
        page.screenshot(path=str(png))
        browser.close()
    if errors:
        sys.exit("\n".join(errors))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
