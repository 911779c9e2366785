"""Reports: one self-contained HTML page and one Excel workbook from a plan.

The page needs no network and no file beside it: tables, charts drawn with matplotlib and
inlined as PNG, and the plan's interactive map (:func:`geoterr.plan_map`) embedded in a
sandboxed frame. Every user text (territory, rep and customer names, titles) is escaped.
The workbook holds the same tables, one sheet each.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoterr import __version__
from geoterr._errors import InputError
from geoterr.comparison import Comparison, compare
from geoterr.evaluation import Evaluation, evaluate
from geoterr.plan import Plan
from geoterr.targets import Targets
from geoterr.tracking import Tracking
from geoterr.workbook import write_workbook

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Report", "build_report", "report_html", "write_report"]

log = logging.getLogger(__name__)

HTML_ROWS = 300  # longer tables are cut on the page (the workbook has every row)
PERCENT: tuple[str, ...] = ("_deviation", "_share", "share", "attainment", "penetration")
PERCENT += ("growth_prev", "growth_yoy", "max_deviation", "cv", "gini", "contiguous_share")
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; frame-src 'self' about:; child-src 'self' about:"
)
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f3b57;color:#fff;padding:18px 28px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;opacity:.85}main{padding:8px 28px 40px;max-width:1400px}
nav a{color:#1f3b57;margin-right:14px}section{margin-top:28px}h2{border-bottom:2px solid #1f3b57;
padding-bottom:4px}h3{margin-bottom:6px}.wrap{overflow-x:auto;max-height:560px;overflow-y:auto;
border:1px solid #ddd;background:#fff}table{border-collapse:collapse;font-size:12.5px}
th,td{padding:4px 8px;border-bottom:1px solid #eee;white-space:nowrap}th{position:sticky;top:0;
background:#eef2f6;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600}
.ok{background:#d8f0dc;color:#185c2a}.bad{background:#fbe0dc;color:#8a1c0c}
.note{color:#555;font-size:13px}img.chart{max-width:100%;background:#fff;border:1px solid #ddd}
iframe.map{width:100%;height:640px;border:1px solid #ccc;background:#fff}
"""


@dataclass(frozen=True)
class Section:
    """One part of the report: text, tables and charts."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, str, pd.DataFrame]] = field(default_factory=list)  # sheet, caption
    charts: list[tuple[str, str]] = field(default_factory=list)  # caption, PNG base64
    map_html: str | None = None


@dataclass(frozen=True)
class Report:
    """A report's content; :func:`report_html` and :meth:`tables` render it."""

    title: str
    subtitle: str
    sections: list[Section]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Sheet name -> table, every table of every section."""
        return {sheet: table for s in self.sections for sheet, _, table in s.tables}


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _deviation_chart(result: Evaluation, measures: list[str], tolerances: dict[str, float]) -> str:
    from matplotlib.figure import Figure

    names = [str(n) for n in result.territories.index]
    fig = Figure(figsize=(10, 0.9 + 0.28 * len(names) * max(1, len(measures)) ** 0.5))
    ax = fig.add_subplot()
    height = 0.8 / len(measures)
    y = np.arange(len(names))
    for i, m in enumerate(measures):
        values = 100 * result.territories[f"{m}_deviation"].to_numpy(float)
        ax.barh(y + i * height, values, height=height, label=m)
    for m, tol in tolerances.items():
        if m in measures:
            for sign in (-1, 1):
                ax.axvline(100 * sign * tol, color="crimson", lw=0.8, ls="--")
    ax.set_yticks(y + height * (len(measures) - 1) / 2, names, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("deviation from the mean (%)")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _before_after_chart(comparison: Comparison, measure: str) -> str:
    from matplotlib.figure import Figure

    table = comparison.territories
    scenario = table[table["plan"] == comparison.names[1]]
    names = scenario["territory"].astype(str).tolist()
    fig = Figure(figsize=(10, 1 + 0.3 * len(names)))
    ax = fig.add_subplot()
    y = np.arange(len(names))
    ax.barh(y - 0.2, scenario[f"{measure}_before"], height=0.4, label=comparison.names[0])
    ax.barh(y + 0.2, scenario[f"{measure}_after"], height=0.4, label=comparison.names[1])
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(measure)
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _tracking_chart(tracking: Tracking) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    table = tracking.territories
    fig = Figure(figsize=(11, 4.2))
    ax = fig.add_subplot()
    laggards = set(tracking.laggards.index[tracking.laggards["laggard"]])
    periods = list(tracking.periods)
    colours = matplotlib.colormaps["tab20"].colors  # type: ignore[attr-defined]
    for i, (name, group) in enumerate(table.groupby("territory", sort=False)):
        thick = name in laggards
        ax.plot(
            range(len(periods)),
            group["revenue"].to_numpy(float),
            color=colours[i % len(colours)],
            lw=2.4 if thick else 1,
            alpha=1 if thick else 0.55,
            label=f"{name} (laggard)" if thick else str(name),
        )
    step = max(1, len(periods) // 12)
    ax.set_xticks(range(0, len(periods), step), periods[::step], fontsize=8)
    ax.set_ylabel("revenue")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return _png(fig)


def _plan_tolerances(plan: Plan) -> dict[str, float]:
    balance = plan.params.get("balance") or {}
    out = {}
    if isinstance(balance, dict):
        for m, tol in balance.items():
            if isinstance(tol, int | float):
                out[str(m)] = float(tol)
    return out


def _map_html(plan: Plan, before: Any, reps: Any) -> str | None:
    """Return the plan's interactive map as a page (None when it cannot be drawn)."""
    from geoterr.maps import plan_map

    try:
        page = str(plan_map(plan, before=before, reps=reps).get_root().render())
    except InputError as exc:
        log.warning("the map could not be drawn: %s", exc)
        return None
    # In a frame the map may be laid out after its script ran: fit it again once loaded
    # (each map fits itself as soon as it has a size; this covers a late layout).
    refit = (
        "<script>window.addEventListener('load', function () {"
        "(window.geoterrMaps || []).forEach(function (g) { if (g && g.map && g.fit) {"
        "g.map.invalidateSize(); g.fit(); } }); });"
        "</script>"
    )
    at = page.rfind("</body>")
    return page[:at] + refit + page[at:] if at >= 0 else page + refit


def build_report(
    plan: Plan,
    *,
    before: Plan | None = None,
    tracking: Tracking | None = None,
    targets: Targets | None = None,
    reps: Any = None,
    title: str | None = None,
    map: bool = True,  # noqa: A002 (public keyword: draw the map)
) -> Report:
    """Gather a report's sections: the plan, before/after, targets and tracking.

    Parameters
    ----------
    plan : Plan
    before : Plan, optional
        The plan in use before (e.g. :func:`geoterr.plan_from_column`): adds the before/after
        section (:func:`geoterr.compare`; when the plans share no territory name, the new
        territories are matched to the old ones they overlap most, ``match=True``).
    tracking : Tracking, optional
        From :func:`geoterr.track`: adds the performance section.
    targets : Targets, optional
        From :func:`geoterr.split_targets`: adds the targets section.
    reps : DataFrame or path, optional
        Reps with name, territory and home (travel from their homes, names on the map).
    title : str, optional
    map : bool
        Embed the interactive map.

    Returns
    -------
    Report
    """
    comparison = None
    if before is not None:
        # A plan designed from scratch shares no names with the old one: match them.
        shared = {str(n) for n in before.territories.index} & {
            str(n) for n in plan.territories.index
        }
        comparison = compare(before, plan, names=["before", "after"], reps=reps, match=not shared)
    result = comparison.evaluations["after"] if comparison else evaluate(plan, reps=reps)
    measures = [m for m in result.balance.index]
    status = "ok" if plan.status == "feasible" else "bad"
    overview = Section("overview", "Overview")
    overview.paragraphs.append(
        f'<span class="status {status}">{html.escape(plan.status)}</span> '
        f"{len(result.territories)} territories, {int(result.overall['customers']):,} customers."
    )
    for problem in plan.problems:
        overview.paragraphs.append(f"Promise not kept: {html.escape(problem)}")
    for note in result.notes:
        overview.paragraphs.append(f'<span class="note">{html.escape(note)}</span>')
    overall = result.overall.rename_axis("figure").reset_index()
    overview.tables.append(("overall", "Plan-wide figures", overall))
    overview.tables.append(("balance", "Balance of each measure", result.balance))
    balance = Section("territories", "Territories")
    balance.charts.append(
        (
            "Deviation of each territory from the mean (dashed: the plan's tolerance)",
            _deviation_chart(result, measures[:3], _plan_tolerances(plan)),
        )
    )
    balance.tables.append(("territories", "Per-territory measures", result.territories))
    sections = [overview, balance]
    if map:
        page = _map_html(plan, before, reps)
        if page is not None:
            sections.append(Section("map", "Map", map_html=page))
    if comparison is not None:
        sections.append(_before_after(comparison, list(_plan_tolerances(plan))))
    if targets is not None:
        part = Section("targets", "Targets")
        part.paragraphs.append(
            f"A total of {targets.total:,.0f} split in proportion to {html.escape(targets.basis)}."
        )
        part.tables.append(("targets", "Targets per territory", targets.territories))
        if targets.reps is not None:
            part.tables.append(("targets by rep", "Targets per rep", targets.reps))
        sections.append(part)
    if tracking is not None:
        sections.append(_tracking_section(tracking))
    # No clock in the page: the same plan gives the same report, byte for byte.
    return Report(
        title=title or "Territory plan report",
        subtitle=f"geoterr {__version__}",
        sections=sections,
    )


def _before_after(comparison: Comparison, balanced: list[str]) -> Section:
    part = Section("before-after", "Before and after")
    row = comparison.scenarios.loc["after"].to_dict()
    part.paragraphs.append(
        f"{int(float(row['moved'])):,} customers change territory "
        f"({float(row['moved_share']):.1%})."
    )
    if len(comparison.only_in):
        part.paragraphs.append(
            f"{len(comparison.only_in)} customers are in one plan only (sheet 'only in one')."
        )
    known = [str(m) for m in comparison.evaluations["after"].balance.index]
    measure = next((m for m in [*balanced, *known] if m in known and m != "customers"), "customers")
    part.charts.append(
        (f"{measure} per territory, before and after", _before_after_chart(comparison, measure))
    )
    side_by_side = comparison.scenarios.T.rename_axis("figure")
    part.tables.append(("scenarios", "Both plans side by side", side_by_side))
    part.tables.append(("before after", "Each territory before and after", comparison.territories))
    part.tables.append(("flows", "What changed hands (from -> to)", comparison.flows))
    part.tables.append(("reps affected", "Territories and reps affected", comparison.reps_affected))
    part.tables.append(("moved", "Customers that move", comparison.moved))
    if len(comparison.only_in):
        part.tables.append(("only in one", "Customers in one plan only", comparison.only_in))
    return part


def _tracking_section(tracking: Tracking) -> Section:
    part = Section("performance", f"Performance by {tracking.by}")
    laggards = tracking.laggards[tracking.laggards["laggard"]]
    names = ", ".join(html.escape(str(n)) for n in laggards.index) or "none"
    part.paragraphs.append(f"Territories falling behind in {tracking.periods[-1]}: {names}.")
    for note in tracking.notes:
        part.paragraphs.append(f'<span class="note">{html.escape(note)}</span>')
    left_out = tracking.issues[tracking.issues["action"] == "left out"]
    part.paragraphs.append(
        f"{len(left_out):,} sales records left out, "
        f"{int((tracking.issues['problem'] == 'credit note').sum()):,} credit notes kept "
        "(sheet 'sales issues')."
    )
    part.charts.append(("Revenue per territory and period", _tracking_chart(tracking)))
    part.tables.append(("laggards", "Laggard flags (last period)", tracking.laggards))
    part.tables.append(("performance", "Totals over the window", tracking.summary()))
    part.tables.append(("by territory", "Per territory and period", tracking.territories))
    if tracking.reps is not None:
        part.tables.append(("by rep", "Per rep and period", tracking.reps))
    if tracking.regions is not None:
        part.tables.append(("by region", "Per region and period", tracking.regions))
    issues = tracking.issues
    counts = issues.groupby(["problem", "action"]).size().rename("records").reset_index()
    part.tables.append(("sales issue counts", "Sales records with a problem", counts))
    part.tables.append(("sales issues", "Every sales record with a problem", issues))
    if len(tracking.empty_periods):
        part.tables.append(("empty periods", "Periods without sales", tracking.empty_periods))
    return part


def _format(value: Any, column: str) -> tuple[str, bool]:
    """(text, is_number) for a table cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "", True
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), False
    if isinstance(value, int | np.integer):
        return f"{int(value):,}", True
    if isinstance(value, float | np.floating):
        value = float(value)
        if not np.isfinite(value):
            return str(value), True
        if any(column.endswith(p) for p in PERCENT):
            return f"{value:.1%}", True
        if abs(value) >= 1000:
            return f"{value:,.0f}", True
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}", True
    return html.escape(str(value)), False


def _table_html(table: pd.DataFrame) -> str:
    frame = table if isinstance(table.index, pd.RangeIndex) else table.reset_index()
    columns = [str(c) for c in frame.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for values in frame.head(HTML_ROWS).itertuples(index=False, name=None):
        cells = []
        # A figure/value table is formatted by the figure's name.
        keys = [str(values[0])] * len(columns) if columns[0] == "figure" else columns
        for value, column in zip(values, keys, strict=True):
            text, number = _format(value, column)
            cells.append(f'<td class="n">{text}</td>' if number else f"<td>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    more = ""
    if len(frame) > HTML_ROWS:
        more = (
            f'<p class="note">First {HTML_ROWS} of {len(frame):,} rows; the workbook has '
            "them all.</p>"
        )
    return f'<div class="wrap"><table><tr>{head}</tr>{"".join(rows)}</table></div>{more}'


def report_html(report: Report) -> str:
    """Return the report as one self-contained HTML page (no network, no script of its own)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report.title)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{html.escape(report.title)}</h1>"
        f"<p>{html.escape(report.subtitle)}</p></header><main><nav>",
    ]
    parts += [f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in report.sections]
    parts.append("</nav>")
    for section in report.sections:
        parts.append(f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>')
        # Paragraphs are built by this module with every user value escaped.
        parts += [f"<p>{p}</p>" for p in section.paragraphs]
        if section.map_html is not None:
            parts.append(
                '<iframe class="map" title="Territory map" sandbox="allow-scripts" '
                f'srcdoc="{html.escape(section.map_html, quote=True)}"></iframe>'
            )
        for caption, png in section.charts:
            parts.append(
                f"<h3>{html.escape(caption)}</h3>"
                f'<img class="chart" alt="{html.escape(caption)}" '
                f'src="data:image/png;base64,{png}">'
            )
        for _, caption, table in section.tables:
            parts.append(f"<h3>{html.escape(caption)}</h3>{_table_html(table)}")
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(
    plan: Plan,
    out: str | os.PathLike[str],
    *,
    before: Plan | None = None,
    tracking: Tracking | None = None,
    targets: Targets | None = None,
    reps: Any = None,
    title: str | None = None,
    map: bool = True,  # noqa: A002 (public keyword: draw the map)
) -> dict[str, Path]:
    """Write ``report.html`` and ``report.xlsx`` to the folder ``out``.

    Both files are written next to their targets first and moved into place together, so a
    failure leaves no half-written report. See :func:`build_report` for the arguments.

    Returns
    -------
    dict
        ``{"html": path, "xlsx": path}``.

    Examples
    --------
    >>> import geoterr as gt, tempfile
    >>> customers = gt.read_customers(gt.sample_path())
    >>> today = gt.plan_from_column(customers, "current_territory", measures=["workload"])
    >>> files = gt.write_report(today, tempfile.mkdtemp(), map=False)
    >>> sorted(p.name for p in files.values())
    ['report.html', 'report.xlsx']
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        msg = f"`out` {str(folder)!r} is a file; give a folder for the report."
        raise InputError(msg)
    report = build_report(
        plan, before=before, tracking=tracking, targets=targets, reps=reps, title=title, map=map
    )
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".report.", dir=folder))
    try:
        (work / "report.html").write_text(report_html(report), encoding="utf-8")
        write_workbook(report.tables(), work / "report.xlsx")
        paths = {}
        for key, name in (("html", "report.html"), ("xlsx", "report.xlsx")):
            os.replace(work / name, folder / name)
            paths[key] = folder / name
    finally:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()
    return paths
