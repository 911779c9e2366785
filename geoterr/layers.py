"""Segments and key accounts: several territory layers in one plan.

:func:`design_layers` splits the customers by a segment column (Enterprise, Mid-Market,
SMB...), designs one territory layer per segment (its own number of territories, or around
the reps serving that segment), and holds named key accounts out of the geographic design,
giving them to named reps. Every customer ends up in exactly one layer. The
:class:`LayeredPlan` saves, loads, maps and exports as one object.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoterr._errors import InputError, format_ids
from geoterr.key_accounts import KEY_ACCOUNTS, key_account_ids, key_account_table

__all__ = ["KEY_ACCOUNTS", "LayeredPlan", "design_layers", "load_layers"]

MARKER = "layers.json"


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_").lower() or "layer"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


@dataclass(frozen=True)
class LayeredPlan:
    """Territory layers (one :class:`~geoterr.plan.Plan` per segment) and key accounts.

    Attributes
    ----------
    layers : dict
        Segment value -> its plan.
    key_accounts : GeoDataFrame or None
        Accounts held out of the layers (index = customer id) with ``rep``, ``rep_name`` and
        ``territory`` (``Key accounts <rep name>``).
    segment : str or None
        The customers column the layers split on.
    params : dict
        How the layers were made.
    reps : DataFrame or None
        The reps (:func:`geoterr.read_reps`) the layers and key accounts were staffed with.
    """

    layers: dict[str, Any]
    key_accounts: gpd.GeoDataFrame | None = None
    segment: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    reps: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        """``"feasible"`` when every layer keeps every promise."""
        return "feasible" if not self.problems else "violated"

    @property
    def problems(self) -> tuple[str, ...]:
        """Every layer's broken promises, prefixed with the layer."""
        return tuple(f"{name}: {p}" for name, plan in self.layers.items() for p in plan.problems)

    @property
    def customers(self) -> gpd.GeoDataFrame:
        """Every customer once, with ``layer``, ``territory`` and (when staffed) ``rep``."""
        frames = [
            p.customers.assign(layer=name)
            for name, p in self.layers.items()
            if p.customers is not None
        ]
        if self.key_accounts is not None and len(self.key_accounts):
            frames.append(self.key_accounts.assign(layer=KEY_ACCOUNTS))
        table = pd.concat(frames)
        return gpd.GeoDataFrame(table, geometry=table.geometry.name, crs=4326)

    def summary(self) -> pd.DataFrame:
        """Per-territory measures of every layer (a ``layer`` column first)."""
        frames = [p.summary().reset_index().assign(layer=name) for name, p in self.layers.items()]
        if self.key_accounts is not None and len(self.key_accounts):
            keys = self.key_accounts
            # Only the layers' measures add up; coordinates and other numbers do not.
            measured = {c for f in frames for c in f.columns} - {"customers"}
            numeric = [
                c for c in keys.columns if c in measured and pd.api.types.is_numeric_dtype(keys[c])
            ]
            table = pd.DataFrame(keys[[*numeric, "territory", "rep", "rep_name"]])
            grouped = table.groupby(["territory", "rep", "rep_name"], dropna=False)
            kt = grouped[numeric].sum().reset_index()
            kt.insert(1, "customers", grouped.size().to_numpy())
            frames.append(kt.assign(layer=KEY_ACCOUNTS))
        table = pd.concat(frames, ignore_index=True)
        ordered: pd.DataFrame = table[["layer", *[c for c in table.columns if c != "layer"]]]
        return ordered

    @property
    def roster(self) -> pd.DataFrame | None:
        """Every layer's roster (a ``layer`` column first), key-account reps included."""
        frames = [
            p.roster.assign(layer=name) for name, p in self.layers.items() if p.roster is not None
        ]
        keys = self.key_account_reps
        if keys is not None:
            frames.append(keys)
        if not frames:
            return None
        table = pd.concat(frames, ignore_index=True)
        ordered: pd.DataFrame = table[["layer", *[c for c in table.columns if c != "layer"]]]
        return ordered

    @property
    def key_account_reps(self) -> pd.DataFrame | None:
        """One roster row per key-account rep."""
        if self.key_accounts is None or len(self.key_accounts) == 0:
            return None
        k = self.key_accounts
        grouped = k.groupby(["rep", "rep_name"], dropna=False)
        out: pd.DataFrame = grouped.size().rename("customers").reset_index()
        out["name"] = out["rep_name"]
        out["territory"] = KEY_ACCOUNTS + " " + out["rep_name"].astype(str)
        for column in ("workload", "annual_revenue"):
            if column in k.columns:
                out["workload" if column == "workload" else "revenue"] = (
                    grouped[column].sum().to_numpy()
                )
        out["status"] = "key accounts"
        out["layer"] = KEY_ACCOUNTS
        if self.reps is not None:
            standard = ("name", "latitude", "longitude", "fte", "skills", "current_territory")
            for column in self.reps.columns:
                if column not in standard and column not in out.columns:
                    out[column] = out["rep"].map(self.reps[column].to_dict())
            out["fte"] = out["rep"].map(self.reps["fte"].to_dict())
        return out

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        map: bool = True,  # noqa: A002 (public keyword: draw the map)
        overwrite: bool = False,
    ) -> Path:
        """Write every layer and the files that join them, atomically.

        Each layer goes to ``layers/<name>/`` (a plan folder each), with ``assignments.csv`` (every
        customer with its layer), ``summary.csv``, ``roster.csv``, ``key_accounts.csv``,
        ``map.html`` and ``layers.json``.

        As for a plan (:func:`geoterr.save_plan`), an earlier layered plan is replaced only
        with ``overwrite=True`` and a folder holding files geoterr did not write is refused.
        """
        from geoterr import __version__
        from geoterr.io.folders import write_folder
        from geoterr.io.plans import save_plan

        def fill(work: Path) -> None:
            taken: set[str] = set()
            folders = {}
            for name, plan in self.layers.items():
                folders[name] = _slug(name, taken)
                save_plan(plan, work / "layers" / folders[name], map=False)
            self._write_tables(work)
            meta = {
                "geoterr_version": __version__,
                "segment": self.segment,
                "layers": folders,
                "key_accounts": self.key_accounts is not None,
                "id_column": self.customers.index.name,
                "params": self.params,
            }
            (work / MARKER).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
            if map:
                self.map().save(work / "map.html")

        return write_folder(path, fill, overwrite=overwrite)

    def _write_tables(self, work: Path) -> None:
        """Return the CSV files of :meth:`save` (text cells neutralised for spreadsheets)."""
        from geoterr.io.csv_safety import write_csv

        customers = self.customers
        table = pd.DataFrame(customers.drop(columns=customers.geometry.name))
        table["latitude_wgs84"], table["longitude_wgs84"] = (
            customers.geometry.y,
            customers.geometry.x,
        )
        write_csv(table.reset_index(), work / "assignments.csv", index=False)
        write_csv(self.summary(), work / "summary.csv", index=False)
        roster = self.roster
        if roster is not None:
            write_csv(roster, work / "roster.csv", index=False)
        if self.key_accounts is not None:
            keys = pd.DataFrame(self.key_accounts.drop(columns=self.key_accounts.geometry.name))
            keys["latitude_wgs84"] = self.key_accounts.geometry.y
            keys["longitude_wgs84"] = self.key_accounts.geometry.x
            write_csv(keys.reset_index(), work / "key_accounts.csv", index=False)
        if self.reps is not None:
            reps = self.reps.assign(skills=[";".join(sorted(x)) for x in self.reps["skills"]])
            write_csv(reps.reset_index(), work / "reps.csv", index=False)

    def map(self, **kwargs: Any) -> LayeredMap:
        """Return one page with a map per layer and a switch between the segments.

        Each map is made by :func:`geoterr.plan_map`, with its own layer control; key accounts are
        on their own map.
        """
        pages = {name: plan.map(**kwargs).get_root().render() for name, plan in self.layers.items()}
        if self.key_accounts is not None and len(self.key_accounts):
            pages[KEY_ACCOUNTS] = _key_account_map(self).get_root().render()
        return LayeredMap(pages)

    def export(self, out: Any, **kwargs: Any) -> Path:
        """CRM files for every layer; see :func:`geoterr.export_plan`."""
        from geoterr.crm_export import export_plan

        return export_plan(self, out, **kwargs)


class LayeredMap:
    """A page of several maps with buttons to switch between them."""

    def __init__(self, pages: Mapping[str, str]) -> None:
        self.pages = dict(pages)

    def render(self) -> str:
        """Return the HTML page.

        Each map is self-contained in an ``iframe``; all are laid out at full size and only the
        chosen one is visible, so each map fits its territories.
        """
        buttons, frames = [], []
        for i, (name, page) in enumerate(self.pages.items()):
            label = html.escape(name)
            checked = " checked" if i == 0 else ""
            buttons.append(
                f'<label><input type="radio" name="layer" value="{i}"{checked} '
                f'onchange="show({i})"> {label}</label>'
            )
            style = "" if i == 0 else ' style="visibility:hidden"'
            source = html.escape(page, quote=True)
            frames.append(
                f'<iframe id="layer{i}" title="{label}" srcdoc="{source}"{style}></iframe>'
            )
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Territory layers</title>"
            "<style>body{margin:0;font-family:sans-serif}#bar{padding:6px 10px;background:#f4f4f4;"
            "border-bottom:1px solid #ccc}#bar label{margin-right:14px}iframe{border:0;width:100%;"
            "height:calc(100vh - 36px);position:absolute;left:0;top:36px}</style></head><body>"
            "<div id='bar'><b>Layer:</b> "
            + " ".join(buttons)
            + "</div>"
            + "".join(frames)
            + "<script>function show(k){document.querySelectorAll('iframe').forEach("
            "function(f,i){f.style.visibility=i===k?'visible':'hidden';});}</script></body></html>"
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the page."""
        Path(path).write_text(self.render(), encoding="utf-8")

    def _repr_html_(self) -> str:
        return self.render()


def _key_account_map(plan: LayeredPlan) -> Any:
    import folium

    from geoterr.maps.leaflet import StandaloneMap
    from geoterr.maps.payload import PALETTE

    keys = plan.key_accounts
    assert keys is not None
    outlines = pd.concat([p.territories[["geometry"]] for p in plan.layers.values()])
    x0, y0, x1, y1 = gpd.GeoDataFrame(outlines, crs=4326).total_bounds
    m = StandaloneMap(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, prefer_canvas=True)
    m.fit_bounds([[y0, x0], [y1, x1]])
    folium.GeoJson(
        gpd.GeoDataFrame(outlines, crs=4326).to_json(),
        name="Territories (all layers)",
        style_function=lambda _f: {"color": "#999", "weight": 1, "fillOpacity": 0.05},
    ).add_to(m)
    reps = sorted(keys["rep_name"].astype(str).unique())
    for i, rep in enumerate(reps):
        group = folium.FeatureGroup(name=f"{KEY_ACCOUNTS}: {rep}")
        colour = PALETTE[i % len(PALETTE)]
        for account, row in keys[keys["rep_name"].astype(str) == rep].iterrows():
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=6,
                color=colour,
                fill=True,
                fill_opacity=0.9,
                tooltip=html.escape(f"{account} {row.get('name', '')}: {rep}"),
            ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def load_layers(path: str | os.PathLike[str]) -> LayeredPlan:
    """Read a folder written by :meth:`LayeredPlan.save`.

    Examples
    --------
    >>> import tempfile
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> layered = gt.design_layers(
    ...     customers, segment="segment", n_territories=6, measures=["workload"],
    ...     balance={"workload": 0.10},
    ... )
    >>> back = gt.load_layers(layered.save(tempfile.mkdtemp() + "/layers", map=False))
    >>> sorted(back.layers) == sorted(layered.layers)
    True
    """
    from geoterr.io.csv_safety import restore
    from geoterr.io.customers import _infer_numeric
    from geoterr.io.plans import load_plan

    folder = Path(path)
    if not (folder / MARKER).exists():
        msg = f"`path` {str(folder)!r} is not a geoterr layered plan (no {MARKER})."
        raise InputError(msg)
    meta = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    layers = {name: load_plan(folder / "layers" / sub) for name, sub in meta["layers"].items()}
    key_accounts = None
    if meta.get("key_accounts") and (folder / "key_accounts.csv").exists():
        table = _infer_numeric(
            restore(
                pd.read_csv(
                    folder / "key_accounts.csv", dtype=str, keep_default_na=False, na_values=[""]
                )
            )
        ).set_index(meta["id_column"])
        key_accounts = gpd.GeoDataFrame(
            table.drop(columns=["latitude_wgs84", "longitude_wgs84"]),
            geometry=gpd.points_from_xy(table["longitude_wgs84"], table["latitude_wgs84"]),
            crs=4326,
        )
    reps = None
    if (folder / "reps.csv").exists():
        from geoterr.reps import read_reps

        reps = read_reps(folder / "reps.csv")
    return LayeredPlan(
        layers=layers,
        key_accounts=key_accounts,
        segment=meta["segment"],
        params=meta["params"],
        reps=reps,
    )


def _counts(
    n_territories: int | Mapping[Hashable, int] | None,
    values: list[str],
    weights: list[float],
) -> dict[str, int]:
    from geoterr.hierarchy import split_counts

    if isinstance(n_territories, Mapping):
        given = {str(k): int(v) for k, v in n_territories.items()}
        missing = [v for v in values if v not in given]
        unknown = [k for k in given if k not in values]
        if missing or unknown:
            msg = (
                f"`n_territories` must give a number for every segment ({format_ids(values)})"
                f"{'; missing ' + format_ids(missing) if missing else ''}"
                f"{'; unknown ' + format_ids(unknown) if unknown else ''}."
            )
            raise InputError(msg)
        return {v: given[v] for v in values}
    if n_territories is None:
        msg = "`n_territories` (a total or a number per segment) is needed without `reps`."
        raise InputError(msg)
    return dict(zip(values, split_counts(int(n_territories), weights), strict=True))


def design_layers(  # noqa: PLR0913 (public API: every option is a documented keyword)
    customers: gpd.GeoDataFrame,
    *,
    segment: str,
    n_territories: int | Mapping[Hashable, int] | None = None,
    reps: Any = None,
    key_accounts: Sequence[Hashable] | str | None = None,
    key_account_reps: Mapping[Hashable, Any] | str | None = None,
    measures: Sequence[str] = (),
    balance: Any = None,
    method: str = "voronoi",
    unit_options: Mapping[str, Any] | None = None,
    n_regions: int | None = None,
    region_balance: Any = None,
    **options: Any,
) -> LayeredPlan:
    """One territory layer per segment, key accounts held out and given to named reps.

    Parameters
    ----------
    customers : GeoDataFrame
        From :func:`geoterr.read_customers`.
    segment : str
        The customers column to split on (one layer per value, e.g. Enterprise, Mid-Market,
        SMB). Every customer needs a value.
    n_territories : int or mapping, optional
        Without ``reps``: the total number of territories, shared among segments in
        proportion to the first balanced measure (at least one each), or segment -> number.
        With ``reps``: default one territory per rep serving the segment.
    reps : path or DataFrame, optional
        Reps (:func:`geoterr.read_reps`) whose ``skills`` (or ``segments``) column names the
        segments each serves; each layer is designed around its reps
        (:func:`geoterr.design_for_reps`), or designed with ``n_territories[segment]`` and
        staffed by :func:`geoterr.assign_reps`.
    key_accounts : sequence or str, optional
        Account ids held out of the geographic layers, or a customers column marking them.
    key_account_reps : mapping or str, optional
        Account id -> rep (id or name), or a customers column naming the rep.
    measures, balance
        As in :func:`geoterr.build_units` and :func:`geoterr.design`.
    method, unit_options
        The unit kind and options of :func:`geoterr.build_units` for every layer.
    n_regions : int, optional
        Group each layer's territories into this many regions (:func:`design_regions`);
        a layer with fewer territories gets one region per territory.
    region_balance : dict or str, optional
        The regions' balance.
    **options
        Passed to every :func:`geoterr.design` call.

    Returns
    -------
    LayeredPlan

    Raises
    ------
    InputError
        Every problem at once: unknown column, customers without a segment, key accounts not
        in the file or without a rep, a segment no rep serves.

    Examples
    --------
    >>> import geoterr as gt
    >>> customers = gt.read_customers(gt.sample_path())
    >>> layered = gt.design_layers(
    ...     customers, segment="segment", n_territories=8, measures=["workload"],
    ...     balance={"workload": 0.05},
    ... )
    >>> {name: len(p.territories) for name, p in layered.layers.items()}
    {'Enterprise': 3, 'Mid-Market': 3, 'SMB': 2}
    """
    from geoterr.design import design
    from geoterr.hierarchy import design_regions
    from geoterr.rep_assign import assign_reps
    from geoterr.reps import _as_reps, design_for_reps
    from geoterr.units import build_units

    if segment not in customers.columns:
        msg = (
            f"`segment` {segment!r} is not a customers column; columns: "
            f"{format_ids(map(str, customers.columns), 30)}."
        )
        raise InputError(msg)
    rep_table = None if reps is None else _as_reps(reps)
    held = key_account_ids(customers, key_accounts)
    keys = key_account_table(customers, held, key_account_reps, rep_table) if len(held) else None
    rest = customers.drop(index=held)
    no_segment = rest[segment].isna() | (rest[segment].astype(str).str.strip() == "")
    problems = []
    if no_segment.any():
        problems.append(
            f"{int(no_segment.sum())} customers have no {segment!r} value "
            f"({format_ids(rest.index[no_segment])}); fill it so each customer has a layer"
        )
    values = sorted(rest.loc[~no_segment, segment].astype(str).unique())
    serving: dict[str, pd.DataFrame] = {}
    if rep_table is not None:
        for value in values:
            serving[value] = rep_table[[value in s for s in rep_table["skills"]]]
        empty = [v for v in values if len(serving[v]) == 0]
        if empty:
            problems.append(
                f"no rep serves segment(s) {format_ids(empty)} (the reps' skills/segments "
                "column must name them); add reps for them or fix the spelling"
            )
    if (
        rep_table is not None
        and n_territories is not None
        and not isinstance(n_territories, Mapping)
    ):
        serving_total = sum(len(r) for r in serving.values())
        if int(n_territories) != serving_total:
            problems.append(
                f"`n_territories` is {n_territories} but the reps serve {serving_total} "
                "segment territories (one per rep and segment); leave it out, or give a "
                "number per segment (a mapping) to staff each layer with assign_reps"
            )
    if problems:
        raise InputError("The layers cannot be designed: " + "; ".join(problems) + ".")
    weight_col = next(iter(balance or {}), None) if isinstance(balance, Mapping) else None
    groups = {v: rest[rest[segment].astype(str) == v] for v in values}
    weights = [
        float(g[weight_col].sum()) if weight_col in g.columns else float(len(g))
        for g in groups.values()
    ]
    counts = (
        None
        if rep_table is not None and not isinstance(n_territories, Mapping)
        else _counts(n_territories, values, weights)
    )
    layers = {}
    for value, group in groups.items():
        units = build_units(
            group,
            method=method,  # type: ignore[arg-type]
            measures=list(measures),
            **(unit_options or {}),
        )
        if rep_table is not None and (counts is None or counts[value] == len(serving[value])):
            plan = design_for_reps(units, serving[value], balance=balance, **options)
        else:
            assert counts is not None
            plan = design(units, counts[value], balance=balance, **options)
            if rep_table is not None:
                plan = assign_reps(plan, serving[value], allow_unassigned=True)
        if n_regions:
            plan = design_regions(
                plan, min(int(n_regions), len(plan.territories)), balance=region_balance
            )
        layers[value] = plan
    params = {
        "segment": segment,
        "n_territories": {v: len(p.territories) for v, p in layers.items()},
        "key_accounts": len(held),
        "n_regions": n_regions,
        "balance": balance,
    }
    return LayeredPlan(
        layers=layers, key_accounts=keys, segment=segment, params=params, reps=rep_table
    )
