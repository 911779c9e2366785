"""The Leaflet side of a map page: folium elements that carry everything inline.

Leaflet and geoterr's own script and styles (vendored in ``geoterr/maps/_assets``) are put in
the page's header, its images as data URIs; the plan's data goes to the page script as one
JSON value; every element gets an id from its place in the page, so the same plan gives the
same file. :mod:`geoterr.maps.html` draws plans with these (and the key-account map of
:mod:`geoterr.layers` starts from :class:`StandaloneMap`); importing this module imports folium.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geoterr.maps.payload import script_json

__all__ = [
    "PlanLayer",
    "PlanLayers",
    "StandaloneMap",
    "SyncViews",
    "add_assets",
    "number_elements",
    "page_title",
]

LEAFLET_IMAGES = (
    "layers.png",
    "layers-2x.png",
    "marker-icon.png",
    "marker-icon-2x.png",
    "marker-shadow.png",
)


def _asset(name: str) -> str:
    return (resources.files("geoterr.maps._assets") / name).read_text(encoding="utf-8")


def _image(name: str) -> str:
    """Return a vendored Leaflet image as a data URI."""
    data = (resources.files("geoterr.maps._assets") / "images" / name).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def add_assets(figure: Figure) -> None:
    """Put Leaflet and geoterr's map script and styles inline in ``figure``'s header.

    Leaflet's images (the layer control's icon, the default marker) become data URIs, so
    that nothing is fetched, not even from the folder next to the file.
    """
    images = {name: _image(name) for name in LEAFLET_IMAGES}
    leaflet_css = _asset("leaflet.css")
    for name, uri in images.items():
        leaflet_css = leaflet_css.replace(f"url(images/{name})", f"url({uri})")
    default_icon = (
        'L.Icon.Default.imagePath = "";'
        f"L.Icon.Default.mergeOptions({{iconUrl: {json.dumps(images['marker-icon.png'])}, "
        f"iconRetinaUrl: {json.dumps(images['marker-icon-2x.png'])}, "
        f"shadowUrl: {json.dumps(images['marker-shadow.png'])}}});"
    )
    header = figure.header
    for name, kind, code in (
        ("leaflet.css", "style", leaflet_css),
        ("geoterr-map.css", "style", _asset("geoterr-map.css")),
        ("leaflet.js", "script", _asset("leaflet.js") + "\n" + default_icon),
        ("geoterr-map.js", "script", _asset("geoterr-map.js")),
    ):
        # "</" must not occur inside an inline script or style; the files have none, but
        # make sure: inside JS strings and regexes "<\\/" means the same.
        safe = code.replace("</", "<\\/")
        header.add_child(Element(f"<{kind}>{safe}</{kind}>"), name=name)


class StandaloneMap(folium.Map):
    """A folium map whose scripts and styles are inside the HTML, none loaded from a CDN."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 - folium reads these class lists
    default_css: list[tuple[str, str]] = []  # noqa: RUF012

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_assets(self.get_root())  # type: ignore[arg-type]


class PlanLayers(MacroElement):
    """The page script call that draws a plan on its map; holds the plan's data."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = geoterrPlanLayers({{ this._parent.get_name() }}, "
        "{{ this.data }});"
        "{% endmacro %}"
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GeoterrPlan"
        self.data = script_json(data)


class PlanLayer(folium.map.Layer):
    """One overlay drawn by :class:`PlanLayers`, listed in folium's layer control."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = {{ this.source.get_name() }}.layers[{{ this.key|tojson }}];"
        "{% endmacro %}"
    )

    def __init__(self, source: PlanLayers, key: str, name: str, *, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoterrLayer"
        self.source = source
        self.key = key


class SyncViews(MacroElement):
    """Keep two maps of one page on the same view."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "geoterrSync({{ this.a.get_name() }}, {{ this.b.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, a: folium.Map, b: folium.Map) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.a, self.b = a, b


def _elements(element: Element) -> Iterator[Element]:
    """``element`` and everything under it, depth first in the order they were added."""
    yield element
    for child in list(element._children.values()):
        yield from _elements(child)


def number_elements(root: Element) -> None:
    """Give every element under ``root`` an id from its place in the page, not a random one.

    folium names each element (``map_<32 random hex digits>``, the names in the page's
    script); numbered ids make the same plan give the same file, byte for byte. The
    children's keys, which are their names, are renamed with them.
    """
    elements = list(_elements(root))
    for n, element in enumerate(elements):
        old = element.get_name()
        element._id = f"geoterr{n:04d}"
        parent = element._parent
        if parent is not None and old in parent._children and parent._children[old] is element:
            parent._children = type(parent._children)(
                ((element.get_name() if k == old else k), v) for k, v in parent._children.items()
            )


def page_title(figure: Figure, text: str) -> None:
    """Return the page's title (browser tab, bookmarks), HTML-escaped."""
    figure.header.add_child(Element(f"<title>{html.escape(text)}</title>"), name="title")
