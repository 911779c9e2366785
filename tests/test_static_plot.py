"""plan.plot(): a static matplotlib figure, written as PNG and SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr.maps.payload import territory_colours

matplotlib.use("Agg")

import matplotlib.pyplot as plt


@pytest.fixture(scope="module")
def plan() -> gt.Plan:
    df = make_customers(150, seed=4)
    units = gt.build_units(gt.read_customers(df, measures=["workload"]), measures=["workload"])
    return gt.design(units, 4, balance={"workload": 0.1})


def test_plot_draws_each_territory_in_its_map_colour(plan: gt.Plan) -> None:
    ax = plan.plot(title="Four $territories")
    try:
        assert len(ax.patches) == len(plan.territories) == 4
        colours = territory_colours(plan)
        for patch in ax.patches:
            expected = matplotlib.colors.to_rgba(colours[patch.get_gid()], alpha=0.6)
            assert patch.get_facecolor() == pytest.approx(expected)
        # customers and centers: one scatter each, every customer drawn
        offsets = [len(c.get_offsets()) for c in ax.collections]
        assert offsets == [150, 4]
        texts = {t.get_text() for t in ax.texts}
        assert texts == set(plan.territories.index)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend[:4] == list(plan.territories.index)
        assert "customer" in legend and "territory center" in legend
        assert ax.get_title() == r"Four \$territories"  # shown literally, not as mathtext
    finally:
        plt.close(ax.figure)


def test_plot_saves_png_and_svg(plan: gt.Plan, tmp_path: Path) -> None:
    ax = plan.plot(customers=False, legend=False, reps=gt.sample_path("reps.csv"))
    try:
        assert len(ax.collections) == 2  # centers and rep homes
        ax.figure.savefig(tmp_path / "plan.png", dpi=80)
        ax.figure.savefig(tmp_path / "plan.svg")
    finally:
        plt.close(ax.figure)
    png = (tmp_path / "plan.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (800, 560)
    svg = ET.parse(tmp_path / "plan.svg").getroot()
    assert svg.tag.endswith("svg")
    ids = {el.get("id") for el in svg.iter()}
    assert set(plan.territories.index) <= ids  # each territory's patch, by its gid


def test_plot_on_given_axes(plan: gt.Plan) -> None:
    fig, (left, right) = plt.subplots(1, 2)
    try:
        assert plan.plot(right, labels=False) is right
        assert len(left.patches) == 0 and len(right.patches) == 4 and not right.texts
    finally:
        plt.close(fig)
