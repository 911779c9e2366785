"""Reports: the HTML page in a real headless browser, user text inert, the workbook's numbers."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers, map_frames

import geoterr as gt
from geoterr.workbook import sheet_names, write_workbook

INJECTIONS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '</iframe><svg onload="window.__pwned=1">',
]
EXTERNAL = re.compile(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", re.I)


def chromium() -> str | None:
    for candidate in (os.environ.get("GEOTERR_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine: install Debian's `chromium` (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def hostile() -> dict[str, Any]:
    """Plans whose territory, customer and rep names are injection strings, with sales."""
    table = make_customers(120, seed=3)
    table["name"] = [INJECTIONS[i % 3] for i in range(len(table))]
    table["before"] = np.where(table["longitude"] < -98, INJECTIONS[0], INJECTIONS[1])
    table["after"] = np.where(table["longitude"] < -97.9, INJECTIONS[0], INJECTIONS[1])
    table.loc[table["latitude"] > 38.2, "after"] = INJECTIONS[2]
    customers = gt.read_customers(table, measures=["workload", "annual_revenue"])
    units = gt.build_units(customers, measures=["workload", "annual_revenue"])
    before = gt.plan_from_column(customers, "before", units=units)
    after = gt.plan_from_column(customers, "after", units=units)
    rng = np.random.default_rng(0)
    sales = pd.DataFrame(
        {
            "account_id": rng.choice(customers.index, 600),
            "date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 700, 600), unit="D"),
            "amount": rng.uniform(-50, 1000, 600).round(2),
        }
    )
    tracking = gt.track(after, sales, by="quarter", today="2026-01-01")
    targets = gt.split_targets(after, 1e6, basis="annual_revenue")
    reps = pd.DataFrame(
        {
            "name": INJECTIONS,
            "territory": INJECTIONS,
            "home_latitude": [37.5, 37.8, 38.3],
            "home_longitude": [-98.5, -97.5, -98.0],
        }
    )
    return {
        "before": before,
        "after": after,
        "tracking": tracking,
        "targets": targets,
        "reps": reps,
    }


@pytest.fixture(scope="module")
def report(hostile: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    return gt.write_report(
        hostile["after"],
        out,
        before=hostile["before"],
        tracking=hostile["tracking"],
        targets=hostile["targets"],
        reps=hostile["reps"],
        title=f"Q4 review {INJECTIONS[1]}",
    )


def test_report_opens_offline_and_user_text_is_inert(browser: Any, report: dict[str, Path]):
    text = report["html"].read_text(encoding="utf-8")
    for raw in INJECTIONS:
        assert raw not in text
    assert not EXTERNAL.search(text)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    url = report["html"].as_uri()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))

    def route(r: Any) -> None:
        if r.request.url == url or r.request.url.startswith(("about:", "data:")):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    frame = map_frames(page, 1)[0]
    page.wait_for_timeout(300)
    assert errors == [] and requests == []
    assert page.title() == f"Q4 review {INJECTIONS[1]}"
    body = page.inner_text("body")
    for raw in INJECTIONS:
        assert raw in body  # shown as text in the tables
    sections = page.eval_on_selector_all("section h2", "els => els.map(e => e.textContent)")
    assert sections == [
        "Overview",
        "Territories",
        "Map",
        "Before and after",
        "Targets",
        "Performance by quarter",
    ]
    assert page.evaluate("document.querySelectorAll('img:not(.chart), svg, script').length") == 0
    assert page.evaluate("window.__pwned === undefined")
    assert frame.evaluate("window.__pwned === undefined")
    charts = page.eval_on_selector_all("img.chart", "els => els.map(e => e.naturalWidth)")
    assert len(charts) == 3 and all(w > 100 for w in charts)
    page.close()


@pytest.mark.slow
def test_workbook_reads_back_to_the_same_numbers(
    hostile: dict[str, Any], report: dict[str, Path]
) -> None:
    sheets = pd.read_excel(report["xlsx"], sheet_name=None)
    assert {
        "overall",
        "balance",
        "territories",
        "moved",
        "flows",
        "targets",
        "by territory",
        "laggards",
        "sales issues",
    } <= set(sheets)
    result = gt.evaluate(hostile["after"], reps=hostile["reps"])
    territories = sheets["territories"].set_index("territory")
    expected = result.territories
    for column in (
        "customers",
        "workload",
        "annual_revenue",
        "workload_deviation",
        "area_km2",
        "mean_distance_km",
        "travel_km",
        "moment_of_inertia",
    ):
        assert territories.loc[expected.index, column].to_numpy() == pytest.approx(
            expected[column].to_numpy(float)
        ), column
    assert territories["rep"].tolist() == expected["rep"].tolist()  # text stays text
    by_territory = sheets["by territory"]
    assert by_territory["revenue"].to_numpy() == pytest.approx(
        hostile["tracking"].territories["revenue"].to_numpy()
    )
    assert by_territory["revenue"].dtype.kind == "f" and by_territory["empty"].dtype == bool


def test_workbook_text_is_never_a_formula(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    table = pd.DataFrame(
        {"name": ["=1+1", '=HYPERLINK("http://x")', "ok\x07"], "value": [1.0, np.inf, np.nan]}
    )
    path = write_workbook({"a/b:c" * 10: table, "A/B:C" * 10: table}, tmp_path / "t.xlsx")
    book = load_workbook(path)
    first = book.worksheets[0]
    assert first.freeze_panes == "B2"
    assert [c.data_type for c in first["A"][1:]] == ["s", "s", "s"]
    assert first["A2"].value == "=1+1" and first["A4"].value == "ok"
    assert first["B3"].value is None and first["B4"].value is None
    assert len({s.title for s in book.worksheets}) == 2
    assert sheet_names(["x" * 40, "x" * 40]) == ["x" * 31, "x" * 27 + " (2)"]


def test_report_without_optional_parts(hostile: dict[str, Any], tmp_path: Path) -> None:
    files = gt.write_report(hostile["before"], tmp_path / "r", map=False)
    text = files["html"].read_text(encoding="utf-8")
    assert "Before and after" not in text and "<iframe" not in text
    with pytest.raises(gt.InputError, match="is a file"):
        gt.write_report(hostile["before"], files["html"])


@pytest.mark.slow
def test_same_plan_gives_byte_identical_report(
    hostile: dict[str, Any], report: dict[str, Path], tmp_path: Path
) -> None:
    """The report carries no clock: written again (seconds later), both files are the same."""
    time.sleep(2.1)  # past the zip format's 2-second clock and the workbook's 1-second one
    again = gt.write_report(
        hostile["after"],
        tmp_path / "again",
        before=hostile["before"],
        tracking=hostile["tracking"],
        targets=hostile["targets"],
        reps=hostile["reps"],
        title=f"Q4 review {INJECTIONS[1]}",
    )
    for kind in ("html", "xlsx"):
        assert again[kind].read_bytes() == report[kind].read_bytes(), kind
