/* geoterr map layers (written for geoterr, MIT license).
 *
 * geoterrPlanLayers(map, data) draws a plan from the data geoterr/maps/payload.py writes:
 * territories with labels, customers on one canvas, moved customers, rep homes and centers,
 * a legend and a fullscreen button. User text only ever reaches the page through
 * textContent, never as HTML.
 */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* A titled two-column table; rows are [label, value] pairs of plain text. */
  function infoBox(title, rows, colour) {
    var box = el("div", "geoterr-info");
    var head = el("div", "geoterr-info-title");
    if (colour) {
      var swatch = el("span", "geoterr-swatch");
      swatch.style.background = colour;
      head.appendChild(swatch);
    }
    head.appendChild(document.createTextNode(String(title)));
    box.appendChild(head);
    var table = el("table");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  var numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

  function formatValue(value) {
    if (value === null || value === undefined) return "-";
    if (typeof value === "number") return numberFormat.format(value);
    return String(value);
  }

  /* Customers as columns: integer coordinates (degrees x scale), territory index, and the
   * popup columns, plain lists or category codes with their categories. */
  function Customers(data) {
    var n = data.lon.length;
    this.n = n;
    this.lat = new Float64Array(n);
    this.lon = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      this.lat[i] = data.lat[i] / data.scale;
      this.lon[i] = data.lon[i] / data.scale;
    }
    this.territory = data.territory;
    this.ids = data.ids;
    this.idLabel = data.id_label;
    this.columns = data.columns;
  }

  Customers.prototype.value = function (column, i) {
    if (column.categories) {
      var code = column.codes[i];
      return code < 0 ? null : column.categories[code];
    }
    return column.values[i];
  };

  Customers.prototype.rows = function (i, territoryNames) {
    var rows = [[this.idLabel, this.ids[i]]];
    for (var c = 0; c < this.columns.length; c++) {
      rows.push([this.columns[c].label, formatValue(this.value(this.columns[c], i))]);
    }
    rows.push(["Territory", territoryNames[this.territory[i]]]);
    return rows;
  };

  /* Points on one canvas: every point drawn, however many. `index` picks the customers
   * shown (all when null); `style(i)` gives {fill, stroke, radius, width}. */
  var PointsLayer = L.Layer.extend({
    options: { pane: "geoterrPoints" },

    initialize: function (customers, index, style, options) {
      L.setOptions(this, options);
      this._customers = customers;
      this._index = index;
      this._style = style;
      this.drawn = 0;
      this.drawnAt = null;
    },

    count: function () {
      return this._index ? this._index.length : this._customers.n;
    },

    _at: function (k) {
      return this._index ? this._index[k] : k;
    },

    onAdd: function (map) {
      var m = this.count();
      this._x = new Float64Array(m);
      this._y = new Float64Array(m);
      for (var k = 0; k < m; k++) {
        var i = this._at(k);
        var p = map.project([this._customers.lat[i], this._customers.lon[i]], 0);
        this._x[k] = p.x;
        this._y[k] = p.y;
      }
      this._canvas = L.DomUtil.create("canvas", "geoterr-points leaflet-zoom-hide");
      map.getPane(this.options.pane).appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      this._redraw();
    },

    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      L.DomUtil.remove(this._canvas);
      this.drawn = 0;
    },

    /* Canvas-local pixel coordinates of point k: world pixels at zoom 0 scaled to the zoom,
     * minus the pixel origin and the canvas' layer position. */
    _frame: function () {
      var map = this._map;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      var origin = map.getPixelOrigin();
      return {
        scale: map.getZoomScale(map.getZoom(), 0),
        dx: origin.x + topLeft.x,
        dy: origin.y + topLeft.y,
        topLeft: topLeft,
      };
    },

    _redraw: function () {
      var map = this._map;
      if (!map) return;
      var size = map.getSize();
      var ratio = window.devicePixelRatio || 1;
      var canvas = this._canvas;
      var f = this._frame();
      L.DomUtil.setPosition(canvas, f.topLeft);
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      // Group points by style so that each group is one path.
      var groups = {};
      var drawn = 0;
      var m = this.count();
      for (var k = 0; k < m; k++) {
        var x = this._x[k] * f.scale - f.dx;
        var y = this._y[k] * f.scale - f.dy;
        if (x < -8 || y < -8 || x > size.x + 8 || y > size.y + 8) continue;
        var s = this._style(this._at(k));
        var key = s.fill + "|" + s.stroke + "|" + s.radius + "|" + s.width;
        var g = groups[key] || (groups[key] = { style: s, xs: [], ys: [] });
        g.xs.push(x);
        g.ys.push(y);
        drawn++;
      }
      Object.keys(groups).forEach(function (key) {
        var g = groups[key];
        var r = g.style.radius;
        ctx.beginPath();
        for (var j = 0; j < g.xs.length; j++) {
          ctx.moveTo(g.xs[j] + r, g.ys[j]);
          ctx.arc(g.xs[j], g.ys[j], r, 0, 2 * Math.PI);
        }
        ctx.fillStyle = g.style.fill;
        ctx.fill();
        if (g.style.width > 0) {
          ctx.lineWidth = g.style.width;
          ctx.strokeStyle = g.style.stroke;
          ctx.stroke();
        }
      });
      this.drawn = drawn;
      // When every point was first on the canvas (ms since navigation start; benchmarks).
      if (this.drawnAt === null && drawn === m) this.drawnAt = performance.now();
      this.fire("drawn", { drawn: drawn });
    },

    /* The customer drawn nearest to a container point, within `tolerance` pixels, or -1. */
    nearest: function (point, tolerance) {
      if (!this._map) return -1;
      var f = this._frame();
      // The canvas sits at the container's top left: canvas pixels are container pixels.
      var cx = point.x;
      var cy = point.y;
      var best = -1;
      var bestDist = tolerance * tolerance;
      for (var k = 0; k < this.count(); k++) {
        var dx = this._x[k] * f.scale - f.dx - cx;
        var dy = this._y[k] * f.scale - f.dy - cy;
        var d = dx * dx + dy * dy;
        if (d <= bestDist) {
          bestDist = d;
          best = this._at(k);
        }
      }
      return best;
    },
  });

  var FullscreenControl = L.Control.extend({
    options: { position: "topleft", target: null },

    onAdd: function (map) {
      var bar = L.DomUtil.create("div", "leaflet-bar geoterr-fullscreen");
      var button = L.DomUtil.create("a", "", bar);
      button.href = "#";
      button.setAttribute("role", "button");
      button.title = "Full screen";
      button.setAttribute("aria-label", "Full screen");
      // Four corners, drawn as SVG: no icon font needed.
      var ns = "http://www.w3.org/2000/svg";
      var icon = document.createElementNS(ns, "svg");
      icon.setAttribute("viewBox", "0 0 16 16");
      icon.setAttribute("width", "16");
      icon.setAttribute("height", "16");
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", "M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4");
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "#222");
      path.setAttribute("stroke-width", "2");
      icon.appendChild(path);
      button.appendChild(icon);
      var target = this.options.target || map.getContainer();
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        var doc = document;
        var current = doc.fullscreenElement || doc.webkitFullscreenElement;
        if (current) {
          (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
        } else {
          var enter = target.requestFullscreen || target.webkitRequestFullscreen;
          if (enter) enter.call(target);
        }
      });
      var resize = function () {
        map.invalidateSize();
      };
      document.addEventListener("fullscreenchange", resize);
      document.addEventListener("webkitfullscreenchange", resize);
      return bar;
    },
  });

  /* The page around a map: a banner above it when the plan broke a promise, and a side
   * panel beside it (title, status, legend), so that neither covers the data. The map's
   * container moves into a frame that takes its place and size. */
  function layout(map, data, layers) {
    var container = map.getContainer();
    var f = data.frame || {};
    var frame = el("div", "geoterr-frame");
    frame.style.position = f.position || "relative";
    frame.style.width = f.width || "100%";
    frame.style.height = f.height || "100%";
    frame.style.left = f.left || "0";
    frame.style.top = f.top || "0";
    container.parentNode.insertBefore(frame, container);
    var status = data.status || { status: "feasible", problems: [] };
    if (data.title) frame.appendChild(el("div", "geoterr-title", data.title));
    var broken = status.problems.length > 0 || status.status !== "feasible";
    if (broken) frame.appendChild(banner(status));
    var row = el("div", "geoterr-row");
    frame.appendChild(row);
    row.appendChild(container);
    ["position", "width", "height", "left", "top"].forEach(function (k) {
      container.style[k] = k === "position" ? "relative" : "auto";
    });
    container.style.left = container.style.top = "0";
    container.classList.add("geoterr-map-area");
    var panel = sidePanel(map, data, status, layers);
    row.appendChild(panel);
    // A narrow frame (one side of a before | after page): the panel starts folded.
    panel.geoterrFold(frame.getBoundingClientRect().width < 800);
    map.invalidateSize();
    return { frame: frame, panel: panel };
  }

  /* The broken promises in words, above the map. */
  function banner(status) {
    var box = el("div", "geoterr-banner");
    box.setAttribute("role", "alert");
    var n = status.problems.length;
    var head = n === 0 ? "This plan does not keep every promise" : "This plan breaks " + (n === 1 ? "a promise" : n + " promises");
    box.appendChild(el("div", "geoterr-banner-title", head + " (status: " + status.status + ")"));
    var shown = 3;
    var list = el("ul", "geoterr-banner-list");
    status.problems.slice(0, shown).forEach(function (p) {
      list.appendChild(el("li", null, p));
    });
    box.appendChild(list);
    if (n > shown) {
      var more = el("details", "geoterr-banner-more");
      more.appendChild(el("summary", null, (n - shown) + " more"));
      var rest = el("ul", "geoterr-banner-list");
      status.problems.slice(shown).forEach(function (p) {
        rest.appendChild(el("li", null, p));
      });
      more.appendChild(rest);
      box.appendChild(more);
    }
    return box;
  }

  function sidePanel(map, data, status, layers) {
    var panel = el("aside", "geoterr-panel");
    var toggle = el("button", "geoterr-panel-toggle");
    toggle.type = "button";
    panel.appendChild(toggle);
    var body = el("div", "geoterr-panel-body");
    panel.appendChild(body);
    panel.geoterrFold = function (folded) {
      panel.classList.toggle("geoterr-folded", folded);
      toggle.textContent = folded ? "\u2039" : "\u203a";
      toggle.title = folded ? "Show the legend" : "Hide the legend";
      toggle.setAttribute("aria-label", toggle.title);
      map.invalidateSize();
    };
    toggle.addEventListener("click", function () {
      panel.geoterrFold(!panel.classList.contains("geoterr-folded"));
    });
    var ok = !status.problems.length && status.status === "feasible";
    var badge = el("div", "geoterr-status " + (ok ? "geoterr-status-ok" : "geoterr-status-bad"));
    badge.appendChild(el("span", "geoterr-status-word", ok ? "\u2713 " + status.status : "\u2717 " + status.status));
    badge.appendChild(el("div", "geoterr-status-text", status.summary));
    body.appendChild(badge);
    body.appendChild(el("div", "geoterr-legend-title", data.legend.title));
    var legend = el("div", "geoterr-legend");
    data.territories.forEach(function (t, j) {
      var row = el("div", "geoterr-legend-row");
      row.setAttribute("data-territory", String(j));
      var swatch = el("span", "geoterr-swatch");
      swatch.style.background = t.colour;
      row.appendChild(swatch);
      row.appendChild(el("span", "geoterr-legend-name", t.name));
      if (t.legend) row.appendChild(el("span", "geoterr-legend-value", t.legend));
      if (t.off) row.classList.add("geoterr-legend-off");
      var layer = layers[j];
      if (layer) {
        row.title = "Show " + t.name + " on the map";
        row.addEventListener("click", function () {
          map.fitBounds(layer.getBounds(), { maxZoom: map.getZoom() + 3, animate: false });
          layer.geoterrOpen(L.latLng(t.label_at));
        });
      }
      legend.appendChild(row);
    });
    body.appendChild(legend);
    panel.geoterrSymbols = el("div", "geoterr-legend geoterr-symbols");
    body.appendChild(panel.geoterrSymbols);
    if (data.geography) {
      body.appendChild(
        el("div", "geoterr-credit", "Land, coasts and borders: Natural Earth and US Census Bureau (public domain)")
      );
    }
    return panel;
  }

  function addSymbols(panel, extra) {
    extra.forEach(function (item) {
      var row = el("div", "geoterr-legend-row");
      row.appendChild(el("span", "geoterr-symbol " + item[0]));
      row.appendChild(el("span", "geoterr-legend-name", item[1]));
      panel.geoterrSymbols.appendChild(row);
    });
  }

  /* Land fill under the territories; coasts and borders as thin lines above their fill.
   * Nothing here takes the mouse. */
  function geographyLayer(map, geo) {
    var group = L.featureGroup();
    var below = L.canvas({ pane: "geoterrLand" });
    var above = L.canvas({ pane: "geoterrBorders" });
    var styles = {
      world: { renderer: below, stroke: false, fillColor: "#fbfaf5", fillOpacity: 1 },
      land: { renderer: below, stroke: false, fillColor: "#fbfaf5", fillOpacity: 1 },
      coast: { renderer: above, color: "#6f8796", weight: 0.9, opacity: 0.9, fill: false },
      country: { renderer: above, color: "#444444", weight: 1.4, opacity: 0.75, dashArray: "6 3", fill: false },
      state: { renderer: above, color: "#555555", weight: 0.8, opacity: 0.55, fill: false },
    };
    ["world", "land", "coast", "country", "state"].forEach(function (kind) {
      if (!geo[kind]) return;
      var opts = styles[kind];
      opts.interactive = false;
      group.addLayer(L.geoJSON(geo[kind], { style: opts, interactive: false, renderer: opts.renderer }));
    });
    return group;
  }

  /* Point in a (multi)polygon's rings (lat/lng arrays as Leaflet keeps them). */
  function inside(latlngs, p) {
    var hit = false;
    (function walk(a) {
      if (!a.length) return;
      if (a[0] instanceof L.LatLng) {
        for (var i = 0, j = a.length - 1; i < a.length; j = i++) {
          var yi = a[i].lat, yj = a[j].lat, xi = a[i].lng, xj = a[j].lng;
          if (yi > p.lat !== yj > p.lat && p.lng < ((xj - xi) * (p.lat - yi)) / (yj - yi) + xi) hit = !hit;
        }
      } else a.forEach(walk);
    })(latlngs);
    return hit;
  }

  function overlaps(a, b, pad) {
    return !(a.right + pad <= b.left || b.right + pad <= a.left || a.bottom + pad <= b.top || b.bottom + pad <= a.top);
  }

  /* Place the territory labels without collisions at the current view: smallest territories
   * first, each at its anchor, else shifted (staying inside its territory), else without
   * the rep's name, else hidden until the user zooms in (the legend and tooltips still name
   * it). Markers (centers, rep homes) are avoided when possible. */
  function placeLabels(map, items, markerLayers) {
    var box = map.getContainer().getBoundingClientRect();
    var markers = [];
    markerLayers.forEach(function (group) {
      if (!group || !map.hasLayer(group)) return;
      group.eachLayer(function (m) {
        if (m._icon) markers.push(m._icon.getBoundingClientRect());
      });
    });
    // The map's own controls (zoom, layers, scale, attribution) are never covered.
    var placed = Array.prototype.map.call(
      map.getContainer().querySelectorAll(".leaflet-control"),
      function (c) {
        return c.getBoundingClientRect();
      }
    );
    var shown = 0;
    var order = items.slice().sort(function (a, b) {
      return a.area - b.area || a.index - b.index;
    });
    order.forEach(function (item) {
      var text = item.node;
      if (!text) return;
      text.style.visibility = "visible";
      text.style.transform = ""; // measured at its anchor; shifts are added below
      var anchor = map.latLngToContainerPoint(item.at);
      var h = 14;
      var best = null;
      var variants = item.rep ? [true, false] : [false];
      for (var pass = 0; pass < 2 && !best; pass++) {
        for (var v = 0; v < variants.length && !best; v++) {
          if (item.rep) item.rep.style.display = variants[v] ? "" : "none";
          var rect0 = text.getBoundingClientRect();
          var w = rect0.width;
          var ht = rect0.height;
          var shifts = [[0, 0], [0, -(ht / 2 + h / 2)], [0, ht / 2 + h / 2], [w / 2 + 6, 0], [-(w / 2 + 6), 0], [0, -ht], [0, ht]];
          for (var s = 0; s < shifts.length && !best; s++) {
            var dx = shifts[s][0];
            var dy = shifts[s][1];
            var r = { left: rect0.left + dx, right: rect0.right + dx, top: rect0.top + dy, bottom: rect0.bottom + dy };
            if (r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom) continue;
            if (s > 0 && item.layer) {
              var c = map.containerPointToLatLng([anchor.x + dx, anchor.y + dy]);
              if (!inside(item.layer.getLatLngs(), c)) continue;
            }
            if (placed.some(function (p) { return overlaps(p, r, 2); })) continue;
            if (pass === 0 && markers.some(function (m) { return overlaps(m, r, 0); })) continue;
            best = { dx: dx, dy: dy, rect: r };
          }
        }
      }
      if (best) {
        text.style.transform = "translate(calc(-50% + " + best.dx + "px), calc(-50% + " + best.dy + "px))";
        placed.push(best.rect);
        shown++;
      } else {
        text.style.visibility = "hidden";
      }
    });
    return shown;
  }

  function markerIcon(cls, colour) {
    var node = el("span", cls);
    if (colour) node.style.background = colour;
    return L.divIcon({ className: "geoterr-marker", html: node, iconSize: [16, 16] });
  }

  window.geoterrMaps = window.geoterrMaps || [];

  window.geoterrPlanLayers = function (map, data) {
    var names = data.territories.map(function (t) {
      return t.name;
    });
    var colours = data.territories.map(function (t) {
      return t.colour;
    });
    var handle = { map: map, layers: {}, territoryLayers: [], data: data };
    // Customers above the territories, labels above every marker; neither takes the mouse.
    [["geoterrLand", 250], ["geoterrBorders", 420], ["geoterrPoints", 450], ["geoterrLabels", 640]].forEach(function (p) {
      var pane = map.createPane(p[0]);
      pane.style.zIndex = p[1];
      pane.style.pointerEvents = "none";
    });

    // Territories: one polygon (or multipolygon) each, tooltip on hover, popup on click.
    var territories = L.featureGroup();
    var labels = L.featureGroup();
    var labelItems = [];
    var layerOf = {};
    var popupOpen = false;
    data.territories.forEach(function (t, j) {
      if (!t.geometry) return; // no shape to draw (its customers still have its colour)
      var rows = function () {
        return infoBox(t.name, t.rows, t.colour);
      };
      var layer = L.geoJSON(t.geometry, {
        style: {
          color: "#222222",
          weight: 1.2,
          fillColor: t.colour,
          fillOpacity: data.tiles ? 0.4 : 0.55,
        },
      }).getLayers()[0];
      layer.geoterrTerritory = j;
      layerOf[j] = layer;
      layer.bindTooltip(rows, { sticky: true, className: "geoterr-tooltip" });
      layer.on("tooltipopen", function () {
        if (popupOpen) window.setTimeout(function () { layer.closeTooltip(); }, 0);
      });
      layer.on("mouseover", function () {
        layer.setStyle({ weight: 3 });
      });
      layer.on("mouseout", function () {
        layer.setStyle({ weight: 1.2 });
      });
      layer.geoterrOpen = function (latlng) {
        L.popup({ maxWidth: 360 }).setLatLng(latlng).setContent(rows()).openOn(map);
      };
      layer.on("click", function (e) {
        if (customerClick(e)) return;
        layer.geoterrOpen(e.latlng);
      });
      territories.addLayer(layer);
      handle.territoryLayers.push(layer);
      var label = el("div", "geoterr-label-text", t.name);
      var rep = t.rep ? el("div", "geoterr-label-rep", t.rep) : null;
      if (rep) label.appendChild(rep);
      labelItems.push({ index: j, area: t.area || 0, at: L.latLng(t.label_at), node: label, rep: rep, layer: layer });
      labels.addLayer(
        L.marker(t.label_at, {
          icon: L.divIcon({ className: "geoterr-label", html: label, iconSize: null }),
          interactive: false,
          keyboard: false,
          pane: "geoterrLabels",
        })
      );
    });
    handle.layers.territories = territories;
    handle.layers.labels = labels;
    if (data.geography) handle.layers.geography = geographyLayer(map, data.geography);
    // While a popup is open, no tooltip shows (it would sit under or over the popup).
    map.on("popupopen", function () {
      popupOpen = true;
      L.DomUtil.addClass(map.getContainer(), "geoterr-popup-open");
      territories.eachLayer(function (l) {
        l.closeTooltip();
      });
    });
    map.on("popupclose", function () {
      popupOpen = false;
      L.DomUtil.removeClass(map.getContainer(), "geoterr-popup-open");
    });

    var customers = data.customers ? new Customers(data.customers) : null;
    handle.customers = customers;
    var pointLayers = [];
    if (customers) {
      var dot = colours.map(function (c) {
        return { fill: c, stroke: "#222222", radius: data.customers.radius, width: data.customers.outline };
      });
      var all = new PointsLayer(customers, null, function (i) {
        return dot[customers.territory[i]];
      });
      handle.layers.customers = all;
      pointLayers.push([all, null]);
    }
    if (customers && data.moved) {
      var moved = data.moved;
      var other = {};
      moved.index.forEach(function (i, k) {
        other[i] = moved.other_names[moved.other[k]];
      });
      var movedLayer = new PointsLayer(customers, moved.index, function (i) {
        return { fill: colours[customers.territory[i]], stroke: "#000000", radius: 4, width: 1.5 };
      });
      handle.layers.moved = movedLayer;
      pointLayers.unshift([
        movedLayer,
        function (i) {
          var here = names[customers.territory[i]];
          var move = moved.direction === "in" ? other[i] + " \u2192 " + here : here + " \u2192 " + other[i];
          return [[moved.direction === "in" ? "Moved" : "Moves", move]];
        },
      ]);
    }

    /* Open the popup of the customer under a click, if any; true when one was opened. */
    function customerClick(e) {
      if (e.originalEvent && e.originalEvent.geoterrHandled) return true;
      for (var p = 0; p < pointLayers.length; p++) {
        var layer = pointLayers[p][0];
        if (!map.hasLayer(layer)) continue;
        var i = layer.nearest(e.containerPoint, 6);
        if (i < 0) continue;
        var rows = customers.rows(i, names);
        if (pointLayers[p][1]) rows = rows.concat(pointLayers[p][1](i));
        var column = data.customers.title_column;
        var title = column === null ? null : customers.value(customers.columns[column], i);
        var content = infoBox(title || customers.ids[i], rows, colours[customers.territory[i]]);
        L.popup({ maxWidth: 360 })
          .setLatLng([customers.lat[i], customers.lon[i]])
          .setContent(content)
          .openOn(map);
        if (e.originalEvent) e.originalEvent.geoterrHandled = true;
        return true;
      }
      return false;
    }
    map.on("click", customerClick);

    // Rep homes and territory centers.
    if (data.reps && data.reps.length) {
      var reps = L.featureGroup();
      data.reps.forEach(function (r) {
        reps.addLayer(
          L.marker([r.lat, r.lon], {
            icon: markerIcon("geoterr-rep", r.territory_index === null ? "#ffffff" : colours[r.territory_index]),
            title: r.name,
            alt: r.name,
          }).bindPopup(function () {
            return infoBox(r.name, r.rows, null);
          })
        );
      });
      handle.layers.reps = reps;
    }
    var centers = L.featureGroup();
    data.centers.forEach(function (c) {
      centers.addLayer(
        L.marker([c.lat, c.lon], {
          icon: markerIcon(c.fixed ? "geoterr-center geoterr-fixed" : "geoterr-center", null),
          keyboard: false,
        }).bindPopup(function () {
          return infoBox(c.title, c.rows, colours[c.territory_index]);
        })
      );
    });
    handle.layers.centers = centers;

    var extra = [];
    if (customers) extra.push(["geoterr-dot", "customer"]);
    if (handle.layers.moved) extra.push(["geoterr-ring", "moved customer (" + data.moved.index.length + ")"]);
    if (handle.layers.reps) extra.push(["geoterr-rep", "rep home"]);
    extra.push(["geoterr-center" + (data.fixed_centers ? " geoterr-fixed" : ""), data.fixed_centers ? "fixed center" : "territory center"]);
    var page = layout(map, data, layerOf);
    addSymbols(page.panel, extra);
    handle.panel = page.panel;
    handle.frame = page.frame;
    new FullscreenControl({ target: data.fullscreen_page ? document.documentElement : page.frame }).addTo(map);
    if (!data.tiles) L.DomUtil.addClass(map.getContainer(), "geoterr-no-tiles");
    var bounds = territories.getLayers().length ? territories.getBounds() : null;
    // Fit the territories; false while the map has no size yet (a frame not laid out).
    handle.fit = function () {
      var size = map.getSize();
      if (!bounds || size.x <= 16 || size.y <= 16) return false;
      map.fitBounds(bounds, { animate: false, padding: [8, 8] });
      return true;
    };
    if (bounds && !handle.fit()) {
      // A zero-size map cannot fit (Leaflet's zoom would be NaN): show the middle, then fit
      // once the page gives the map its size.
      map.setView(bounds.getCenter(), 4, { animate: false });
      var observer = null;
      var refit = function () {
        map.invalidateSize(false);
        if (!handle.fit()) return;
        window.removeEventListener("resize", refit);
        if (observer) observer.disconnect();
      };
      window.addEventListener("resize", refit);
      if (window.ResizeObserver) {
        observer = new window.ResizeObserver(refit);
        observer.observe(map.getContainer());
      }
    }
    handle.labelsShown = 0;
    var relabel = function () {
      if (!map.hasLayer(labels)) return;
      handle.labelsShown = placeLabels(map, labelItems, [handle.layers.centers, handle.layers.reps]);
    };
    handle.placeLabels = relabel;
    // Once the view has settled (markers moved, sizes known): a short debounce.
    var pending = null;
    var later = function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(relabel, 40);
    };
    map.on("zoomend moveend viewreset resize overlayadd", later);
    later();

    handle.stats = function () {
      return {
        territories: handle.territoryLayers.length,
        customers: customers ? customers.n : 0,
        customersDrawn: handle.layers.customers && map.hasLayer(handle.layers.customers) ? handle.layers.customers.drawn : 0,
        movedDrawn: handle.layers.moved && map.hasLayer(handle.layers.moved) ? handle.layers.moved.drawn : 0,
        drawnAt: handle.layers.customers ? handle.layers.customers.drawnAt : null,
        labelsShown: handle.labelsShown,
      };
    };
    window.geoterrMaps.push(handle);
    return handle;
  };

  /* Keep two maps on the same view (the before | after page). */
  window.geoterrSync = function (a, b) {
    var busy = false;
    function follow(source, target) {
      source.on("move zoomend", function () {
        if (busy) return;
        busy = true;
        target.setView(source.getCenter(), source.getZoom(), { animate: false });
        busy = false;
      });
    }
    follow(a, b);
    follow(b, a);
  };
})();
