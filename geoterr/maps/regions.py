"""The regions of a plan on its map: outlines and names above the territories."""

from __future__ import annotations

from typing import Any

__all__ = ["add_region_layer", "region_layer"]


def add_region_layer(m: Any, plan: Any) -> Any:
    """Add the regions' outlines to a map made by :func:`geoterr.plan_map`.

    The outlines go before its layer control, whose script must come after every layer it lists.
    """
    import folium

    layer = region_layer(plan)
    if layer is None:
        return m
    controls = [(k, v) for k, v in m._children.items() if isinstance(v, folium.LayerControl)]
    for key, _ in controls:
        del m._children[key]
    layer.add_to(m)
    for key, control in controls:
        m.add_child(control, name=key)
    return m


def region_layer(plan: Any, *, level: str | None = None, name: str | None = None) -> Any:
    """Return a folium layer with the outlines and names of a plan's regions (for its map).

    Returns None when the plan has no regions.
    """
    import folium

    if plan.regions is None or len(plan.regions) == 0:
        return None
    regions = plan.regions
    levels = list(dict.fromkeys(regions["level"]))
    layer = folium.FeatureGroup(name=name or " / ".join(s.title() + "s" for s in levels))
    for lvl in levels if level is None else [level]:
        rows = regions[regions["level"] == lvl]
        weight = 3 + 2 * levels.index(lvl)
        shown = rows.reset_index()[["region", "level", "manager", "territories", "geometry"]]
        shown["manager"] = shown["manager"].fillna("").astype(str)
        folium.GeoJson(
            shown.to_json(),
            style_function=lambda _f, w=weight: {"color": "#222", "weight": w, "fill": False},
            tooltip=folium.GeoJsonTooltip(["region", "level", "manager", "territories"]),
        ).add_to(layer)
    return layer
