"""Map files: self-contained, safe, complete and working in a real headless browser.

The browser tests open the saved HTML from the file system in headless Chromium (Debian's
``chromium``; ``.ci/run`` installs it) with every non-file request blocked and recorded.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import make_customers, map_frames

import geoterr as gt
from geoterr.maps.payload import plan_payload, script_json, territory_colours

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
INJECTIONS = [
    "<img src=x onerror=alert(1)>",
    "</script><script>window.__pwned = 1</script>",
    '"><svg onload="window.__pwned=2">',
]
EXTERNAL = re.compile(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", re.I)


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


class Page:
    """A map page opened with every other request blocked, recording errors, dialogs and
    requests (the map file must need nothing else: no network, no files next to it)."""

    def __init__(self, browser: Any, html: Path) -> None:
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        self.page = page = context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.url = html.as_uri()
        page.route("**/*", self._route)
        page.goto(self.url)
        page.wait_for_function("window.geoterrMaps && window.geoterrMaps.length > 0")
        page.wait_for_timeout(200)

    def _route(self, route: Any) -> None:
        """Let the page itself load; record and block anything else, files included."""
        if route.request.url == self.url:
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def stats(self, i: int = 0) -> dict[str, Any]:
        return dict(self.page.evaluate(f"window.geoterrMaps[{i}].stats()"))

    def territory_polygons(self, i: int = 0) -> int:
        """Polygons on the map that are territories, counted from Leaflet's own layers."""
        return int(
            self.page.evaluate(
                f"""() => Object.values(window.geoterrMaps[{i}].map._layers)
                .filter(l => l instanceof L.Polygon && l.geoterrTerritory !== undefined)
                .length"""
            )
        )

    def point(self, lat: float, lon: float, i: int = 0) -> tuple[float, float]:
        """Page pixel of a location on map ``i``."""
        x, y = self.page.evaluate(
            f"""() => {{ const m = window.geoterrMaps[{i}].map;
            const p = m.latLngToContainerPoint([{lat}, {lon}]);
            const r = m.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top]; }}"""
        )
        return float(x), float(y)

    def hover_at(self, lat: float, lon: float) -> None:
        x, y = self.point(lat, lon)
        self.page.mouse.move(x - 5, y - 5)
        self.page.mouse.move(x, y)
        self.page.wait_for_timeout(150)

    def labels(self, i: int = 0) -> list[dict[str, Any]]:
        """The territory labels on map ``i``: text, visible or not, and page rectangle."""
        return list(
            self.page.evaluate(
                f"""() => Array.from(window.geoterrMaps[{i}].map.getContainer()
                .querySelectorAll('.geoterr-label-text')).map(n => {{
                  const r = n.getBoundingClientRect();
                  return {{text: n.textContent, visible: getComputedStyle(n).visibility
                    !== 'hidden', left: r.left, right: r.right, top: r.top, bottom: r.bottom}};
                }})"""
            )
        )

    def rect(self, selector: str) -> dict[str, float]:
        return dict(
            self.page.evaluate(
                f"""() => {{ const r = document.querySelector({json.dumps(selector)})
                .getBoundingClientRect(); return {{left: r.left, right: r.right, top: r.top,
                bottom: r.bottom}}; }}"""
            )
        )

    def hover(self, lat: float, lon: float) -> str:
        x, y = self.point(lat, lon)
        self.page.mouse.move(x - 5, y - 5)
        self.page.mouse.move(x, y)
        self.page.wait_for_selector(".geoterr-tooltip", timeout=5000)
        return str(self.page.inner_text(".geoterr-tooltip"))

    def click(self, lat: float, lon: float, i: int = 0) -> str:
        self.page.evaluate("document.querySelectorAll('.leaflet-popup').forEach(p => p.remove())")
        x, y = self.point(lat, lon, i)
        self.page.mouse.click(x, y)
        self.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        return str(self.page.inner_text(".leaflet-popup-content"))

    def pwned(self) -> bool:
        return bool(self.page.evaluate("window.__pwned !== undefined"))


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


def page_layout_is_clear(page: Page, i: int = 0) -> None:
    """No two visible labels overlap; the side panel and the banner lie outside the map."""
    labels = [r for r in page.labels(i) if r["visible"]]
    assert labels, "no label shown"
    for a, b in itertools.combinations(labels, 2):
        assert not overlap(a, b), (a["text"], b["text"])
    area = page.page.evaluate(
        f"""() => {{ const r = window.geoterrMaps[{i}].map.getContainer()
        .getBoundingClientRect(); return {{left: r.left, right: r.right, top: r.top,
        bottom: r.bottom}}; }}"""
    )
    for r in labels:  # shown labels lie inside the map
        assert area["left"] <= r["left"] and r["right"] <= area["right"]
    panel = page.page.evaluate(
        f"""() => {{ const r = window.geoterrMaps[{i}].panel.getBoundingClientRect();
        return {{left: r.left, right: r.right, top: r.top, bottom: r.bottom}}; }}"""
    )
    assert not overlap(panel, area) and panel["left"] >= area["right"] - 0.5
    if page.page.locator(".geoterr-banner").count():
        banner = page.rect(".geoterr-banner")
        assert banner["bottom"] <= area["top"] + 0.5


def assert_geography_drawn(page: Page, i: int = 0) -> None:
    """Land, coasts and borders are on the map, in panes under the customers."""
    kinds = page.page.evaluate(
        f"""() => {{ const h = window.geoterrMaps[{i}]; const g = h.layers.geography;
        return g && h.map.hasLayer(g) ? Object.keys(h.data.geography)
          .filter(k => h.data.geography[k] !== null) : []; }}"""
    )
    assert {"land", "state"} <= set(kinds)


def inside(plan: gt.Plan, name: str) -> tuple[float, float]:
    """(lat, lon) of a point well inside a territory."""
    geom = plan.territories.geometry.loc[name]
    pt = geom.buffer(-0.05 * np.sqrt(geom.area)).representative_point()
    return pt.y, pt.x


def test_demo_map_in_browser(browser: Any, demo_dir: Path) -> None:
    html = demo_dir / "map.html"
    text = html.read_text()
    assert not EXTERNAL.search(text)
    plan = gt.load_plan(demo_dir)
    page = Page(browser, html)
    assert page.errors == []
    assert page.requests == []  # nothing fetched from the network
    assert page.territory_polygons() == 12
    stats = page.stats()
    assert stats["customersDrawn"] == stats["customers"] == 4500
    name = str(plan.territories.index[5])
    tip = page.hover(*inside(plan, name))
    assert name in tip and "Workload vs mean" in tip
    panel = page.page.inner_text(".geoterr-panel")
    assert "Territories: Workload vs mean" in panel
    assert all(t in panel for t in plan.territories.index)
    assert "Feasible" in panel and "within \u00b15% of the mean" in panel
    assert page.page.locator(".geoterr-banner").count() == 0  # nothing broken, no banner
    control = page.page.text_content(".leaflet-control-layers")
    for layer in (
        "Land, coasts and borders",
        "Territories",
        "Territory labels",
        "Customers",
        "Territory centers",
    ):
        assert layer in control
    assert page.page.locator(".leaflet-control-scale").count() == 1
    assert page.page.locator(".geoterr-label").count() == 12
    page_layout_is_clear(page)
    assert_geography_drawn(page)
    # An open popup closes the hover tooltip and keeps it closed.
    page.click(*inside(plan, name))
    page.hover_at(*inside(plan, str(plan.territories.index[6])))
    assert not page.page.locator(".geoterr-tooltip").is_visible()
    page.page.evaluate("void window.geoterrMaps[0].map.closePopup()")  # tooltips come back
    assert "geoterr-popup-open" not in page.page.evaluate(
        "window.geoterrMaps[0].map.getContainer().className"
    )
    assert name in page.hover(*inside(plan, name))
    # A customer's popup on click.
    customer = plan.customers.iloc[100]
    popup = page.click(customer.geometry.y, customer.geometry.x)
    assert str(customer["territory"]) in popup
    # Fullscreen with the map's own button.
    page.page.click(".geoterr-fullscreen a")
    page.page.wait_for_function("document.fullscreenElement !== null", timeout=5000)
    page.page.evaluate("document.exitFullscreen()")
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "demo_map.png"))
    assert page.errors == [] and page.requests == []


@pytest.fixture(scope="module")
def hostile_plan() -> tuple[gt.Plan, pd.DataFrame]:
    """A realignment whose territory, customer, id, segment and rep names are attacks."""
    df = make_customers(60)
    df.loc[: len(INJECTIONS) - 1, "name"] = INJECTIONS
    df.loc[5, "account_id"] = "<b>bold-id</b>"
    df["segment"] = INJECTIONS[2]
    thirds = pd.qcut(df["longitude"], 3, labels=False)
    df["current_territory"] = [INJECTIONS[int(t)] for t in thirds]
    df["rep"] = [f"{INJECTIONS[1]} rep {int(t)}" for t in thirds]
    customers = gt.read_customers(df, measures=["workload"])
    units = gt.build_units(customers, measures=["workload"])
    plan = gt.design(units, 3, balance={"workload": 0.1}, current="current_territory")
    reps = pd.DataFrame(
        {
            "name": INJECTIONS,
            "territory": INJECTIONS,
            "home_latitude": [37.5, 37.7, 38.0],
            "home_longitude": [-98.7, -98.0, -97.3],
            "home_city": INJECTIONS[::-1],
        }
    )
    return plan, reps


def test_user_text_is_inert(browser: Any, hostile_plan: Any, tmp_path: Path) -> None:
    plan, reps = hostile_plan
    assert set(plan.territories.index) == set(INJECTIONS)
    html = tmp_path / "map.html"
    gt.plan_map(plan, reps=reps, rep_column="rep").save(str(html))
    titled = gt.plan_map(plan, title=INJECTIONS[1]).get_root().render()
    assert INJECTIONS[1] not in titled and "<title>&lt;/script&gt;" in titled
    text = html.read_text()
    for raw in [*INJECTIONS, "<b>bold-id</b>"]:
        assert raw not in text
    assert not EXTERNAL.search(text)
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    assert not page.pwned()
    assert page.territory_polygons() == 3
    assert page.page.title() == "Territory plan: 3 territories"
    # Territory names show as text in the tooltip, the legend and the labels.
    territory = INJECTIONS[0]
    tip = page.hover(*inside(plan, territory))
    assert territory in tip
    assert INJECTIONS[1] in page.page.inner_text(".geoterr-legend")
    labels = " ".join(r["text"] for r in page.labels())  # names and rep names, as text
    assert all(raw in labels for raw in INJECTIONS)
    assert page.page.locator(".geoterr-label-rep").count() == 3
    # Customer name, id and segment show as text in the customer's popup.
    for cid, expected in (("C0000", INJECTIONS[0]), ("<b>bold-id</b>", "<b>bold-id</b>")):
        row = plan.customers.loc[cid]
        popup = page.click(row.geometry.y, row.geometry.x)
        assert expected in popup and INJECTIONS[2] in popup
    # A rep's popup.
    page.page.locator(".geoterr-rep").first.click()
    page.page.wait_for_selector(".leaflet-popup-content")
    assert any(s in page.page.inner_text(".leaflet-popup-content") for s in INJECTIONS)
    # Nothing the names carry became an element or ran.
    assert page.page.evaluate("document.querySelectorAll('img, b, svg[onload]').length") == 0
    assert not page.pwned()
    assert page.errors == [] and page.requests == []


def test_script_json_cannot_close_its_script() -> None:
    text = script_json({"a": "</script><!-- x & y \u2028", "b": ["</SCRIPT>"]})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["a"] == "</script><!-- x & y \u2028"


def many_customers(plan: gt.Plan, n: int, seed: int = 0) -> gt.Plan:
    """``plan`` with ``n`` random customers inside its territories instead of its own."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = plan.territories.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(rng.uniform(x0, x1, 3 * n), rng.uniform(y0, y1, 3 * n)),
        crs=4326,
    )
    joined = gpd.sjoin(pts, plan.territories[["geometry"]].reset_index(), predicate="within")
    joined = joined.drop_duplicates().iloc[:n]
    customers = gpd.GeoDataFrame(
        {
            "name": [f"Account {i}" for i in range(len(joined))],
            "workload": rng.integers(1, 30, len(joined)).astype(float),
            "territory": joined["territory"].to_numpy(),
        },
        geometry=joined.geometry.to_numpy(),
        crs=4326,
        index=pd.Index([f"A{i:06d}" for i in range(len(joined))], name="account_id"),
    )
    assert len(customers) == n
    return dataclasses.replace(plan, customers=customers)


def test_many_customers_every_point_drawn(browser: Any, demo_dir: Path, tmp_path: Path) -> None:
    plan = many_customers(gt.load_plan(demo_dir), 20_000)
    html = tmp_path / "map.html"
    gt.plan_map(plan).save(str(html))
    assert html.stat().st_size < 3_000_000
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    assert page.territory_polygons() == 12
    stats = page.stats()
    assert stats["customersDrawn"] == 20_000
    customer = plan.customers.iloc[12_345]
    popup = page.click(customer.geometry.y, customer.geometry.x)
    assert "Account" in popup and str(customer["territory"]) in popup
    page.page.screenshot(path=str(ARTIFACTS / "many_customers.png"))


@pytest.fixture(scope="module")
def two_plans() -> tuple[gt.Plan, gt.Plan]:
    customers = gt.read_customers(make_customers(300, seed=3), measures=["workload"])
    units = gt.build_units(customers, measures=["workload"])
    old = gt.design(units, 4, balance={"workload": 0.1}, random_state=0)
    current = old.customers["territory"].rename("current")
    new = gt.design(units, 4, balance={"workload": 0.03}, current=current, random_state=1)
    return old, new


def test_moved_customers_and_side_by_side(browser: Any, two_plans: Any, tmp_path: Path) -> None:
    old, new = two_plans
    moved = new.moved
    assert len(moved) > 0
    # The moved layer from the plan's own record and from the earlier plan agree.
    html = tmp_path / "map.html"
    gt.plan_map(new, before=old).save(str(html))
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    assert page.stats()["movedDrawn"] == len(moved)
    assert "Moved customers" in page.page.text_content(".leaflet-control-layers")
    cid = moved.index[0]
    row = new.customers.loc[cid]
    popup = page.click(row.geometry.y, row.geometry.x)
    assert f"{moved.loc[cid, 'territory_before']} \u2192 {moved.loc[cid, 'territory']}" in popup
    # One page, two synchronised maps.
    side = tmp_path / "before_after.html"
    gt.before_after_map(old, new).save(str(side))
    assert not EXTERNAL.search(side.read_text())
    page = Page(browser, side)
    page.page.wait_for_function("window.geoterrMaps.length === 2")
    assert page.errors == [] and page.requests == []
    assert page.territory_polygons(0) == page.territory_polygons(1) == 4
    assert page.stats(0)["movedDrawn"] == page.stats(1)["movedDrawn"] == len(moved)
    popup = page.click(row.geometry.y, row.geometry.x, 0)  # the old plan: where it goes
    assert f"{moved.loc[cid, 'territory_before']} \u2192 {moved.loc[cid, 'territory']}" in popup
    colour = "window.geoterrMaps[{}].data.territories.map(t => t.name + t.colour).join()"
    assert page.page.evaluate(colour.format(0)) == page.page.evaluate(colour.format(1))
    page.page.evaluate("void window.geoterrMaps[0].map.setView([37.9, -98.1], 9, {animate: false})")
    page.page.wait_for_timeout(200)
    page_layout_is_clear(page, 0)  # labels placed again on both maps after the move
    page_layout_is_clear(page, 1)
    center = page.page.evaluate(
        "(() => { const m = window.geoterrMaps[1].map;"
        " return [m.getCenter().lat, m.getCenter().lng, m.getZoom()]; })()"
    )
    assert center == pytest.approx([37.9, -98.1, 9], abs=1e-3)
    assert "Before" in page.page.inner_text("body") and "After" in page.page.inner_text("body")
    page.page.screenshot(path=str(ARTIFACTS / "before_after.png"))


def test_folium_additions_stay_offline(browser: Any, two_plans: Any, tmp_path: Path) -> None:
    """A marker with Leaflet's default icon and a collapsed layer control need no files."""
    old, _ = two_plans
    m = gt.plan_map(old)
    folium.Marker([37.8, -98.0], tooltip="office").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    html = tmp_path / "map.html"
    m.save(str(html))
    page = Page(browser, html)
    page.page.wait_for_timeout(300)
    assert page.page.locator("img.leaflet-marker-icon").count() == 1
    assert page.errors == [] and page.requests == []


@pytest.mark.slow
def test_before_options(two_plans: Any) -> None:
    old, new = two_plans
    html = gt.plan_map(new, before="territory_before").get_root().render()
    assert "Moved customers" in html
    with pytest.raises(gt.InputError, match="not a customers column"):
        gt.plan_map(new, before="no_such_column")
    plain = gt.plan_map(old).get_root().render()  # a design from scratch: nobody moved
    assert "Moved customers" not in plain
    with pytest.raises(gt.InputError, match="every customer is drawn"):
        gt.plan_map(old, max_customers=100)


def test_save_with_an_earlier_plan(two_plans: Any, tmp_path: Path) -> None:
    old, new = two_plans
    folder = new.save(tmp_path / "plan", before=old, reps=gt.sample_path("reps.csv"))
    page = (folder / "map.html").read_text()
    assert "Moved customers" in page and "Avery Collins" in page
    side = (folder / "before_after.html").read_text()
    assert side.count("geoterrPlanLayers(map_") == 2 and "geoterrSync(" in side
    assert not (old.save(tmp_path / "old") / "before_after.html").exists()


def test_reps_fixed_centers_and_tiles(units: gt.Units) -> None:
    homes = pd.DataFrame(
        {"latitude": [37.4, 37.6, 38.2], "longitude": [-98.6, -97.4, -98.0]},
        index=pd.Index(["West", "East", "North"], name="territory"),
    )
    plan = gt.design(units, 3, balance={"workload": 0.1}, centers=homes)
    assert plan.params["fixed_centers"]
    html = plan.map(customers=False).get_root().render()
    assert "Fixed center of West" in html and '"customers":null' in html
    assert not EXTERNAL.search(html)
    reps = gt.sample_path("reps.csv")
    with_reps = plan.map(reps=reps).get_root().render()
    assert "Avery Collins" in with_reps and "not in this plan" in with_reps
    with pytest.raises(gt.InputError, match="home latitude"):
        plan.map(reps=pd.DataFrame({"name": ["A"], "territory": ["West"]}))
    tiled = plan.map(tiles="OpenStreetMap").get_root().render()
    assert "tile.openstreetmap.org" in tiled and '"tiles":true' in tiled


def test_territory_without_shape_keeps_its_place(two_plans: Any) -> None:
    _, new = two_plans
    territories = new.territories.copy()
    territories.loc[territories.index[1], "geometry"] = None
    plan = dataclasses.replace(new, territories=territories)
    data = plan_payload(plan, colours=territory_colours(plan))
    assert [t["name"] for t in data["territories"]] == list(new.territories.index)
    assert data["territories"][1]["geometry"] is None
    assert all(t["geometry"] is not None for i, t in enumerate(data["territories"]) if i != 1)
    assert max(data["customers"]["territory"]) == 3  # customers still point at all four


def violated(plan: gt.Plan, *problems: str) -> gt.Plan:
    """``plan`` as a plan that broke its promises: a tolerance it does not keep, and
    ``problems`` in words (as ``design`` reports them)."""
    measure = next(iter(plan.params["balance"]))
    return dataclasses.replace(
        plan,
        status="violated",
        problems=problems,
        params={**plan.params, "balance": {measure: 0.001}},
    )


def test_violated_plan_says_so(
    browser: Any, two_plans: Any, hostile_plan: Any, tmp_path: Path
) -> None:
    old, new = two_plans
    problems = (
        "territory T01 has workload 376, +0.91% from its target 372.6, outside the tolerance "
        "+-0.1%",
        "territory T02 is in 2 pieces",
        "territory T03 has workload 369, -0.97% from its target 372.6, outside the tolerance "
        "+-0.1%",
        "territory T04 has workload 380, +2.0% from its target 372.6, outside the tolerance +-0.1%",
    )
    plan = violated(new, *problems)
    html = tmp_path / "map.html"
    gt.plan_map(plan).save(str(html))
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    banner = page.page.inner_text(".geoterr-banner")
    assert "This plan breaks 4 promises (status: violated)" in banner
    assert all(p in banner for p in problems[:3]) and "1 more" in banner
    page.page.click(".geoterr-banner-more summary")
    assert problems[3] in page.page.inner_text(".geoterr-banner")
    assert "Violated" in page.page.inner_text(".geoterr-status")
    assert page.page.locator(".geoterr-legend-off").count() == len(plan.territories)
    page_layout_is_clear(page)
    page.page.screenshot(path=str(ARTIFACTS / "violated_map.png"))
    # The before | after page: the new plan's side says so, the old plan's does not.
    side = tmp_path / "before_after.html"
    gt.before_after_map(old, plan).save(str(side))
    page = Page(browser, side)
    page.page.wait_for_function("window.geoterrMaps.length === 2")
    assert page.errors == [] and page.requests == []
    frames = page.page.evaluate(
        "window.geoterrMaps.map(h => h.frame.querySelectorAll('.geoterr-banner').length)"
    )
    assert frames == [0, 1]
    assert problems[0] in page.page.inner_text("body")
    page_layout_is_clear(page, 1)
    # A status other than feasible shows the banner even without a list of problems.
    html = tmp_path / "unknown.html"
    gt.plan_map(dataclasses.replace(new, status="stopped")).save(str(html))
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    banner = page.page.inner_text(".geoterr-banner")
    assert "does not keep every promise (status: stopped)" in banner
    assert "stopped" in page.page.inner_text(".geoterr-status").lower()
    # Problems are user text too: they stay text.
    hostile, _ = hostile_plan
    html = tmp_path / "hostile.html"
    gt.plan_map(violated(hostile, *INJECTIONS)).save(str(html))
    assert not any(raw in html.read_text() for raw in INJECTIONS)
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    banner = page.page.inner_text(".geoterr-banner")
    assert all(raw in banner for raw in INJECTIONS)
    assert page.page.evaluate("document.querySelectorAll('img, b, svg[onload]').length") == 0
    assert not page.pwned()


@pytest.mark.slow
def test_map_files_are_byte_identical(two_plans: Any, tmp_path: Path) -> None:
    """The same plan gives the same map.html and before_after.html, byte for byte."""
    old, new = two_plans
    reps = gt.sample_path("reps.csv")
    first = gt.plan_map(new, reps=reps, title="Plan").get_root().render()
    second = gt.plan_map(new, reps=reps, title="Plan").get_root().render()
    assert first == second
    assert not re.search(r"_[0-9a-f]{32}\b", first)  # no random folium ids left
    pages = [gt.before_after_map(old, new).render() for _ in range(2)]
    assert pages[0] == pages[1]
    a = new.save(tmp_path / "a", before=old)
    b = new.save(tmp_path / "b", before=old)
    for name in ("map.html", "before_after.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


@pytest.fixture(scope="module")
def fifty() -> gt.Plan:
    """50 territories in a small box: crowded labels and a long legend."""
    customers = gt.read_customers(make_customers(1500, seed=5), measures=["workload"])
    units = gt.build_units(customers, measures=["workload"])
    return gt.design(units, 50, balance={"workload": 0.15}, time_limit=20, random_state=0)


def test_fifty_territories_legend_and_labels(browser: Any, fifty: gt.Plan, tmp_path: Path) -> None:
    html = tmp_path / "map.html"
    gt.plan_map(fifty).save(str(html))
    page = Page(browser, html)
    assert page.errors == [] and page.requests == []
    assert page.territory_polygons() == 50
    assert page.page.locator(".geoterr-legend-row[data-territory]").count() == 50
    page_layout_is_clear(page)  # the long legend scrolls beside the map, never over it
    shown = page.stats()["labelsShown"]
    assert 0 < shown <= 50
    # Zoomed in, more labels fit; still none overlaps another.
    page.page.evaluate("void window.geoterrMaps[0].map.zoomIn(2, {animate: false})")
    page.page.wait_for_timeout(300)
    page_layout_is_clear(page)
    # A click on a legend row shows that territory (its popup).
    page.page.locator(".geoterr-legend-row[data-territory='7']").click()
    page.page.wait_for_selector(".leaflet-popup-content")
    assert str(fifty.territories.index[7]) in page.page.inner_text(".leaflet-popup-content")
    page.page.screenshot(path=str(ARTIFACTS / "fifty_territories.png"))


def test_outlines_are_small_and_optional(two_plans: Any) -> None:
    old, _ = two_plans
    with_outlines = gt.plan_map(old).get_root().render()
    without = gt.plan_map(old, outlines=False).get_root().render()
    assert '"geography":null' in without and '"geography":{' in with_outlines
    assert len(with_outlines) - len(without) < 200_000
    tiled = gt.plan_map(old, tiles="OpenStreetMap").get_root().render()
    assert '"geography":null' in tiled  # tiles show the geography themselves


def test_outlines_near() -> None:
    from geoterr.maps.outlines import outlines_near

    kansas = outlines_near((-100.0, 37.0, -95.0, 40.0))
    assert kansas["state"].length > 10 and kansas["coast"].is_empty
    assert kansas["land"].contains(gt.read_customers(make_customers(5)).geometry.iloc[0])
    maine = outlines_near((-71.0, 43.0, -67.0, 47.0))  # sea, coast, the Canadian border
    assert not maine["coast"].is_empty and not maine["country"].is_empty
    x0, _, x1, _ = maine["land"].bounds
    assert x0 >= -75 - 1e-9 and x1 <= -63 + 1e-9  # clipped to the window around the plan


@pytest.mark.slow
def test_static_figure_outlines_labels_legend_status(fifty: gt.Plan, two_plans: Any) -> None:
    """plan.plot(): geography behind the plan, labels apart, the legend beside the map, a
    violated plan's status under it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 6), layout="tight")
    canvas = FigureCanvasAgg(figure)
    ax = fifty.plot(figure.add_subplot())
    canvas.draw()
    renderer = canvas.get_renderer()
    (back,) = ax.child_axes  # the geography, behind the plan
    assert back.get_zorder() < 0 and len(back.patches) == 1 and back.collections
    shown = [t.get_window_extent(renderer) for t in ax.texts if t.get_visible()]
    assert 0 < len(shown) <= 50
    for a, b in itertools.combinations(shown, 2):
        assert not a.overlaps(b)
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # beside the map, not on it
    _, new = two_plans
    figure = Figure()
    ax = violated(new, "territory T01 is in 2 pieces", "$x$ <b>").plot(figure.add_subplot())
    status = [t for t in ax.texts if t.get_gid() == "status"]
    assert len(status) == 1 and "Status: violated, 2 broken promises" in status[0].get_text()
    assert r"\$x\$ <b>" in status[0].get_text()
    assert not new.plot(Figure().add_subplot(), outlines=False).child_axes


def test_plan_status_in_words(two_plans: Any) -> None:
    from geoterr.maps.payload import plan_status

    _, new = two_plans
    status = plan_status(new)
    assert status["status"] == "feasible" and status["problems"] == []
    kept, bound = status["summary"].split(" The objective's bound: ")
    assert kept == (
        "Every customer in one territory, every territory contiguous, workload within \u00b13% "
        "of the mean."
    )
    assert new.certified is not None and bound == new.certified + "."
    budget = {**new.params, "max_moved": 40, "max_moved_meaning": "40 customers"}
    budget["moved_customers"] = 31
    text = plan_status(dataclasses.replace(new, params=budget))["summary"]
    assert text.split(" The objective's bound: ")[0].endswith(
        "at most 40 customers moved (31 moved)."
    )
    broken = plan_status(violated(new, "territory T01 is in 2 pieces"))
    assert broken["problems"] == ["territory T01 is in 2 pieces"]
    assert broken["summary"].startswith("This plan breaks 1 promise (asked: workload within")


def test_map_of_something_that_is_not_a_plan_is_refused() -> None:
    """A GeoDataFrame (or anything else) handed to the map functions gets the fix, not an
    AttributeError from deep inside."""
    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame({"territory": ["A"]}, geometry=[Point(0, 0)], crs=4326)
    with pytest.raises(gt.InputError, match="must be a geoterr Plan.*GeoDataFrame"):
        gt.plan_map(frame)  # type: ignore[arg-type]
    with pytest.raises(gt.InputError, match="`before` must be a geoterr Plan"):
        gt.before_after_map(None, frame)  # type: ignore[arg-type]


def test_map_in_a_frame_sized_late_fits_once_it_has_a_size(
    browser: Any, two_plans: Any, tmp_path: Path
) -> None:
    """A map whose frame has no size when its script runs (a report's frame in another process,
    a hidden tab) draws without errors and fits its territories once the frame is sized."""
    _, after = two_plans
    source = gt.plan_map(after).get_root().render()
    host = tmp_path / "host.html"
    host.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><iframe id="f" style="width:0;height:0;'
        f'border:0" srcdoc="{html.escape(source, quote=True)}"></iframe></body></html>',
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(host.as_uri())
    frame = map_frames(page, 1)[0]
    assert errors == []
    page.evaluate(
        "Object.assign(document.getElementById('f').style, {width: '900px', height: '600px'})"
    )
    frame.wait_for_function(  # type: ignore[attr-defined]
        "(() => { const m = window.geoterrMaps[0].map; const s = m.getSize();"
        " return window.innerWidth === 900 && s.x > 300 && s.y > 300; })()"
    )
    page.wait_for_timeout(200)
    view = frame.evaluate(  # type: ignore[attr-defined]
        "(() => { const m = window.geoterrMaps[0].map; const b = m.getBounds();"
        " return [m.getZoom(), b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    page.close()
    assert errors == []
    zoom, west, south, east, north = view
    x0, y0, x1, y1 = after.territories.total_bounds
    assert zoom > 4  # fitted, not left at the placeholder view
    assert west <= x0 and south <= y0 and east >= x1 and north >= y1  # every territory shown
    # and not zoomed far out: the territories fill a good share of the view
    assert (x1 - x0) / (east - west) > 0.3 or (y1 - y0) / (north - south) > 0.3
