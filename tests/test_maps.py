"""Map files: self-contained, safe, and working in a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from conftest import make_customers

import geoterr as gt

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
INJECTIONS = [
    "<img src=x onerror=alert(1)>",
    "</script><script>window.__pwned = 1</script>",
    '"><svg onload="window.__pwned=2">',
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("GEOTERR_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium on this machine: install Debian's `chromium` (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def open_map(browser: Any, html: Path) -> tuple[Any, list[str], list[str]]:
    """Open a map file with every network request blocked; return page, errors, requests."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))

    def block(route: Any) -> None:
        if not route.request.url.startswith("file://"):
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", block)
    page.goto(html.as_uri())
    page.wait_for_function("document.querySelector('.leaflet-container') !== null")
    page.wait_for_timeout(300)
    return page, errors, requests


COUNT_TERRITORIES = """() => {
  const layers = Object.keys(window).filter(k => k.startsWith('geo_json_'))
      .map(k => window[k]).filter(l => l && typeof l.getLayers === 'function');
  const polys = layers.map(l => l.getLayers().filter(x => x instanceof L.Polygon).length);
  return Math.max(...polys);
}"""


def map_var(page: Any) -> str:
    return page.evaluate("Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")


def hover_territory(page: Any, lat: float, lon: float) -> str:
    name = map_var(page)
    point = page.evaluate(
        f"() => {{ const p = window['{name}'].latLngToContainerPoint([{lat}, {lon}]);"
        " const r = document.querySelector('.leaflet-container').getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }"
    )
    page.mouse.move(point[0] - 5, point[1] - 5)
    page.mouse.move(point[0], point[1])
    page.wait_for_selector(".leaflet-tooltip", timeout=5000)
    return page.inner_text(".leaflet-tooltip")


def test_demo_map_in_browser(browser: Any, demo_dir: Path) -> None:
    html = demo_dir / "map.html"
    text = html.read_text()
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", text)
    page, errors, requests = open_map(browser, html)
    assert errors == []
    assert requests == []  # nothing fetched from the network
    assert page.evaluate(COUNT_TERRITORIES) == 12
    territories = gpd.read_file(demo_dir / "territories.geojson")
    inside = territories.to_crs(5070).geometry.iloc[5].representative_point()
    pt = gpd.GeoSeries([inside], crs=5070).to_crs(4326).iloc[0]
    tip = hover_territory(page, pt.y, pt.x)
    assert re.search(r"T\d\d", tip)
    assert "Territories" in page.inner_text("#geoterr-legend")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo_map.png"))
    assert errors == []


def test_user_text_is_inert(browser: Any, tmp_path: Path) -> None:
    df = make_customers(40)
    df.loc[: len(INJECTIONS) - 1, "name"] = INJECTIONS
    df.loc[5, "account_id"] = "<b>bold-id</b>"
    units = gt.build_units(gt.read_customers(df), measures=["workload"])
    plan = gt.design(units, 3, balance={"workload": 0.1})
    folder = plan.save(tmp_path / "plan")
    text = (folder / "map.html").read_text()
    for raw in INJECTIONS:
        assert raw not in text
    page, errors, requests = open_map(browser, folder / "map.html")
    assert errors == [] and requests == []
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate(COUNT_TERRITORIES) == 3
    # the names show as text in the customer's tooltip
    row = plan.customers.loc["C0000"]
    tip = hover_territory(page, row.geometry.y, row.geometry.x)
    assert "onerror" in tip or "T0" in tip
    assert page.evaluate("window.__pwned") is None
    assert errors == []


def test_map_without_customers_and_with_tiles_option(units: gt.Units) -> None:
    plan = gt.design(units, 3, balance={"workload": 0.1})
    html = plan.map(customers=False).get_root().render()
    assert "leaflet-container" in html and "Customers" not in html
    tiled = plan.map(tiles="OpenStreetMap").get_root().render()
    assert "tile.openstreetmap.org" in tiled
