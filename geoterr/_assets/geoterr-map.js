/* geoterr map layers (written for geoterr, MIT license).
 *
 * geoterrPlanLayers(map, data) draws a plan from the data geoterr/map_data.py writes:
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

  function legendControl(data, extra) {
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      var outer = L.DomUtil.create("details", "geoterr-legend");
      outer.open = true;
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      outer.appendChild(el("summary", "geoterr-legend-title", data.legend.title));
      var box = el("div", "geoterr-legend-body");
      outer.appendChild(box);
      data.territories.forEach(function (t) {
        var row = el("div", "geoterr-legend-row");
        var swatch = el("span", "geoterr-swatch");
        swatch.style.background = t.colour;
        row.appendChild(swatch);
        row.appendChild(el("span", "geoterr-legend-name", t.name));
        if (t.legend) row.appendChild(el("span", "geoterr-legend-value", t.legend));
        box.appendChild(row);
      });
      extra.forEach(function (item) {
        var row = el("div", "geoterr-legend-row");
        row.appendChild(el("span", "geoterr-symbol " + item[0]));
        row.appendChild(el("span", "geoterr-legend-name", item[1]));
        box.appendChild(row);
      });
      return outer;
    };
    return control;
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
    [["geoterrPoints", 450], ["geoterrLabels", 640]].forEach(function (p) {
      var pane = map.createPane(p[0]);
      pane.style.zIndex = p[1];
      pane.style.pointerEvents = "none";
    });

    // Territories: one polygon (or multipolygon) each, tooltip on hover, popup on click.
    var territories = L.featureGroup();
    var labels = L.featureGroup();
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
      layer.bindTooltip(rows, { sticky: true, className: "geoterr-tooltip" });
      layer.on("mouseover", function () {
        layer.setStyle({ weight: 3 });
      });
      layer.on("mouseout", function () {
        layer.setStyle({ weight: 1.2 });
      });
      layer.on("click", function (e) {
        if (customerClick(e)) return;
        L.popup({ maxWidth: 360 }).setLatLng(e.latlng).setContent(rows()).openOn(map);
      });
      territories.addLayer(layer);
      handle.territoryLayers.push(layer);
      var label = el("div", "geoterr-label-text", t.name);
      if (t.rep) label.appendChild(el("div", "geoterr-label-rep", t.rep));
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
    legendControl(data, extra).addTo(map);
    new FullscreenControl({ target: data.fullscreen_page ? document.documentElement : null }).addTo(map);
    if (data.title) {
      var titleControl = L.control({ position: "topright" });
      titleControl.onAdd = function () {
        return el("div", "geoterr-title", data.title);
      };
      titleControl.addTo(map);
    }
    if (!data.tiles) L.DomUtil.addClass(map.getContainer(), "geoterr-no-tiles");

    handle.stats = function () {
      return {
        territories: handle.territoryLayers.length,
        customers: customers ? customers.n : 0,
        customersDrawn: handle.layers.customers && map.hasLayer(handle.layers.customers) ? handle.layers.customers.drawn : 0,
        movedDrawn: handle.layers.moved && map.hasLayer(handle.layers.moved) ? handle.layers.moved.drawn : 0,
        drawnAt: handle.layers.customers ? handle.layers.customers.drawnAt : null,
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
