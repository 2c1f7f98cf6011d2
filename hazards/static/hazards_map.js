/* hazards: draws hazard and road layers, legend, layer toggles and search onto a Leaflet map.
   Written for this project (MIT, like the package). Every text from the data is put into the
   page with textContent, never as HTML, so survey text cannot inject markup or scripts.
   Nothing here touches L at load time, so this file may be loaded before Leaflet.

   Hazards arrive as columns (see hazards.mapping.encode_hazards) in JSON script blocks:
   "<id>-points" (delta-coded micro-degrees and a group index, parsed at once) and
   "<id>-attrs" (popup and search columns, parsed on first use). They are drawn by one canvas
   renderer per map (HazardCanvas, a L.Canvas that also draws the roads), one pre-rendered
   circle sprite per (tier, status), tier I on top; clicks are hit-tested on the same arrays. */
(function () {
  "use strict";
  var registry = [];
  var HazardCanvas = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function fieldTable(rows) {
    var table = el("table", "hz-popup");
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === "") return;
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    return table;
  }

  // ------------------------------------------------------------------------- hazard columns
  function undelta(a, Type) {
    var out = new (Type || Float64Array)(a.length), s = 0;
    for (var i = 0; i < a.length; i++) { s += a[i]; out[i] = s; }
    return out;
  }

  function mercatorZero(map, lon, lat) {
    /* Pixel coordinates at zoom 0; at zoom z they are these times map.getZoomScale(z, 0). */
    var n = lon.length, x0 = new Float64Array(n), y0 = new Float64Array(n), i;
    var crs = map.options.crs;
    if (crs === L.CRS.EPSG3857) {
      var max = 85.0511287798, d = Math.PI / 180;
      for (i = 0; i < n; i++) {
        var la = Math.max(Math.min(max, lat[i]), -max);
        x0[i] = 256 * (0.5 + lon[i] / 360);
        y0[i] = 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + la * d / 2)) / (2 * Math.PI));
      }
    } else {
      for (i = 0; i < n; i++) {
        var p = crs.latLngToPoint(L.latLng(lat[i], lon[i]), 0);
        x0[i] = p.x; y0[i] = p.y;
      }
    }
    return {x0: x0, y0: y0};
  }

  function tierRank(tier) {
    /* Drawing order: no tier first, then III, II and I last (on top). */
    var order = ["", "III", "II", "I"], r = order.indexOf(tier);
    return r < 0 ? -1 : r;
  }

  function dataset(map, cfg, id) {
    var raw = readJson(id + "-points") || {n: 0, x: [], y: [], g: []};
    var n = raw.n, lon = undelta(raw.x), lat = undelta(raw.y), i;
    for (i = 0; i < n; i++) { lon[i] /= 1e6; lat[i] /= 1e6; }
    var proj = mercatorZero(map, lon, lat);
    var g = Uint16Array.from(raw.g);
    var groups = cfg.groups.map(function (gr, k) {
      return {index: k, tier: gr.tier, status: gr.status, count: gr.count, visible: true,
              sprite: sprite(markerStyle(cfg, gr.tier, gr.status))};
    });
    /* Draw order: groups by tier rank (then their order), points of a group in data order. */
    var ranked = groups.slice().sort(function (a, b) {
      return (tierRank(a.tier) - tierRank(b.tier)) || (a.index - b.index);
    });
    var pos = 0;
    ranked.forEach(function (gr) { gr.start = pos; pos += gr.count; gr.end = pos; });
    var fill = new Uint32Array(groups.length), order = new Uint32Array(n);
    groups.forEach(function (gr) { fill[gr.index] = gr.start; });
    for (i = 0; i < n; i++) order[fill[g[i]]++] = i;
    return {
      id: id, n: n, lon: lon, lat: lat, x0: proj.x0, y0: proj.y0, g: g, order: order,
      groups: groups, ranked: ranked, rendered: false, attrs: null, cfg: cfg
    };
  }

  function pad(num, width) {
    var s = String(num);
    while (s.length < width) s = "0" + s;
    return s;
  }

  function attrs(ds) {
    /* The popup and search columns, parsed and decoded on first use. */
    if (ds.attrs) return ds.attrs;
    var raw = readJson(ds.id + "-attrs");
    ds.attrs = {
      idPrefix: raw.id.p, idWidth: raw.id.w, idCode: raw.id.c, idNum: undelta(raw.id.n),
      route: {t: raw.route.t, c: undelta(raw.route.c, Int32Array)},
      ch: raw.ch, cat: raw.cat, desc: raw.desc, batch: raw.batch, event: raw.event, cost: raw.cost,
      costSrc: raw.costSrc
    };
    return ds.attrs;
  }

  function hazardId(a, i) {
    var k = a.idCode[i], w = a.idWidth[k];
    return w ? a.idPrefix[k] + pad(a.idNum[i], w) : a.idPrefix[k];
  }

  function lookup(col, i) { return col.t[col.c[i]]; }

  function joined(cols, i) {
    var parts = cols.map(function (col) { return lookup(col, i); })
      .filter(function (v) { return v !== null && v !== undefined; });
    return parts.length ? parts.join(" ") : null;
  }

  function chainage(m) {
    if (m === null || m === undefined) return null;
    var km = m < 0 ? Math.ceil(m / 1000) : Math.floor(m / 1000);
    return "K" + km + "+" + pad(m % 1000, 3);
  }

  function costSource(cfg, a, i) {
    /* " (survey)" / " (cost library)": where the effective cost comes from. */
    var src = a.costSrc ? lookup(a.costSrc, i) : null;
    return src ? " (" + (cfg.labels.costSources[src] || src) + ")" : "";
  }

  function hazardPopup(ds, i) {
    var cfg = ds.cfg, f = cfg.labels.fields, a = attrs(ds), gr = ds.groups[ds.g[i]];
    var cost = a.cost[i];
    return fieldTable([
      [f.id, hazardId(a, i)], [f.route, lookup(a.route, i)], [f.chainage, chainage(a.ch[i])],
      [f.category, lookup(a.cat, i)], [f.description, lookup(a.desc, i)],
      [f.tier, cfg.labels.tiers[gr.tier || ""] || gr.tier],
      [f.status, cfg.labels.statuses[gr.status] || gr.status], [f.batch, lookup(a.batch, i)],
      [f.event, joined(a.event, i)],
      [f.cost, cost === null || cost === undefined ? null
        : Number(cost).toLocaleString() + " " + cfg.labels.yuan + costSource(cfg, a, i)]
    ]);
  }

  function openHazard(map, ds, i) {
    L.popup()
      .setLatLng([ds.lat[i], ds.lon[i]])
      .setContent(hazardPopup(ds, i))
      .openOn(map);
  }

  // ------------------------------------------------------------------------- drawing
  function markerStyle(cfg, tier, status) {
    var s = Object.assign({}, cfg.statusStyles[status] || {});
    if (!s.fillColor) s.fillColor = cfg.tierColours[tier || ""] || cfg.tierColours[""];
    s.radius = s.radius || cfg.radius;
    return s;
  }

  function sprite(style) {
    /* One circle drawn as Leaflet draws a CircleMarker on canvas (fill, then stroke). */
    var ratio = (window.L && L.Browser.retina) ? 2 : 1;
    var r = style.radius, w = style.weight === undefined ? 3 : style.weight;
    var half = Math.ceil(r + w / 2 + 1), size = 2 * half;
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = size * ratio;
    var c = canvas.getContext("2d");
    c.scale(ratio, ratio);
    c.beginPath();
    c.arc(half, half, r, 0, 2 * Math.PI, false);
    c.globalAlpha = style.fillOpacity === undefined ? 0.2 : style.fillOpacity;
    c.fillStyle = style.fillColor || style.color || "#3388ff";
    c.fill("evenodd");
    if (w > 0 && style.stroke !== false) {
      if (style.dashArray) c.setLineDash(String(style.dashArray).split(/[, ]+/).map(Number));
      c.globalAlpha = style.opacity === undefined ? 1 : style.opacity;
      c.lineWidth = w;
      c.strokeStyle = style.color || "#3388ff";
      c.lineCap = "round";
      c.lineJoin = "round";
      c.stroke();
    }
    return {canvas: canvas, half: half, size: size, reach: r + w / 2 + 2};
  }

  function canvasClass() {
    if (HazardCanvas) return HazardCanvas;
    HazardCanvas = L.Canvas.extend({
      initialize: function (options) {
        L.Canvas.prototype.initialize.call(this, options);
        this._sets = [];
      },

      addSet: function (ds) {
        this._sets.push(ds);
        this.redrawAll();
      },

      redrawAll: function () {
        /* A full redraw on the next animation frame (coalesced, like Leaflet's own). */
        this._full = true;
        if (this._map && !this._redrawRequest) {
          this._redrawRequest = L.Util.requestAnimFrame(this._redraw, this);
        }
      },

      _updatePaths: function () {
        if (this._postponeUpdatePaths) return;
        for (var id in this._layers) this._layers[id]._update();
        this.redrawAll();
      },

      _redraw: function () {
        if (this._full) { this._redrawBounds = null; this._full = false; }
        if (!this._map || !this._ctx || this._map._animatingZoom) {
          /* the zoomend/moveend after an animation asks for a full redraw again */
          this._redrawRequest = null;
          return;
        }
        L.Canvas.prototype._redraw.call(this);
      },

      _draw: function () {
        L.Canvas.prototype._draw.call(this);
        if (!this._map || !this._bounds) return;
        var ctx = this._ctx, rb = this._redrawBounds, b = rb || this._bounds;
        ctx.save();
        if (rb) {
          var sz = rb.getSize();
          ctx.beginPath();
          ctx.rect(rb.min.x, rb.min.y, sz.x, sz.y);
          ctx.clip();
        }
        var map = this._map, k = map.getZoomScale(map.getZoom(), 0), o = map.getPixelOrigin();
        this._sets.forEach(function (ds) {
          ds.ranked.forEach(function (gr) {
            if (!gr.visible || !gr.count) return;
            var sp = gr.sprite, m = sp.half;
            var minx = b.min.x - m, maxx = b.max.x + m, miny = b.min.y - m, maxy = b.max.y + m;
            var x0 = ds.x0, y0 = ds.y0, order = ds.order, cv = sp.canvas, size = sp.size;
            for (var j = gr.start; j < gr.end; j++) {
              var i = order[j];
              var x = Math.round(x0[i] * k) - o.x, y = Math.round(y0[i] * k) - o.y;
              if (x < minx || x > maxx || y < miny || y > maxy) continue;
              ctx.drawImage(cv, x - m, y - m, size, size);
            }
          });
          ds.rendered = true;
        });
        ctx.restore();
      },

      hit: function (point) {
        /* The hazard drawn topmost under a layer point, as [dataset, index], or null. */
        var map = this._map, k = map.getZoomScale(map.getZoom(), 0), o = map.getPixelOrigin();
        var best = null, bestD = Infinity;
        this._sets.forEach(function (ds) {
          ds.ranked.forEach(function (gr) {
            if (!gr.visible || !gr.count) return;
            var reach = gr.sprite.reach, r2 = reach * reach;
            var px = point.x + o.x, py = point.y + o.y, x0 = ds.x0, y0 = ds.y0;
            for (var j = gr.start; j < gr.end; j++) {
              var i = ds.order[j];
              var dx = Math.round(x0[i] * k) - px;
              if (dx > reach || dx < -reach) continue;
              var dy = Math.round(y0[i] * k) - py, d = dx * dx + dy * dy;
              if (d <= r2 && d <= bestD) { best = [ds, i]; bestD = d; }
            }
          });
        });
        return best;
      },

      _onClick: function (e) {
        var map = this._map;
        if (map && e.type === "click" && !map._draggableMoved(map)) {
          var hit = this.hit(map.mouseEventToLayerPoint(e));
          if (hit) { openHazard(map, hit[0], hit[1]); return; }
        }
        L.Canvas.prototype._onClick.call(this, e);
      },

      _onMouseMove: function (e) {
        var map = this._map;
        if (!map || (map.dragging && map.dragging.moving()) || map._animatingZoom) return;
        if (this.hit(map.mouseEventToLayerPoint(e))) {
          this._handleMouseOut(e);
          L.DomUtil.addClass(this._container, "leaflet-interactive");
          this._overHazard = true;
          return;
        }
        if (this._overHazard) {
          L.DomUtil.removeClass(this._container, "leaflet-interactive");
          this._overHazard = false;
        }
        L.Canvas.prototype._onMouseMove.call(this, e);
      }
    });
    return HazardCanvas;
  }

  function rendererFor(map) {
    /* One HazardCanvas per map, shared by every draw() on it and by the roads. */
    if (!map._hazardsCanvas) {
      var Cls = canvasClass();
      map._hazardsCanvas = new Cls({padding: 0.1, tolerance: 3});
      if (!map._renderer && !map.options.renderer) map.options.renderer = map._hazardsCanvas;
      map.addLayer(map._hazardsCanvas);
    }
    return map._hazardsCanvas;
  }

  // ------------------------------------------------------------------------- roads
  function roadPopup(p, cfg) {
    var f = cfg.labels.fields;
    return fieldTable([
      [f.route, p.route], [f.name, p.name], [f.township, p.township], [f.length, p.km],
      [f.open, p.open], [f.done, p.done],
      [f.worst, p.worst ? cfg.labels.tiers[p.worst] : cfg.labels.none],
      [f.pct, p.pct === undefined ? null : p.pct + "%"]
    ]);
  }

  function pctColour(pct) {
    if (pct === undefined || pct === null) return "#9e9e9e";
    var t = Math.max(0, Math.min(1, pct / 100));
    var r = Math.round(215 + (26 - 215) * t), g = Math.round(25 + (150 - 25) * t),
        b = Math.round(28 + (65 - 28) * t);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  function roadLayers(map, cfg, data, renderer) {
    var out = {};
    if (!data) return out;
    var weight = cfg.roadWeight;
    function popup(f, layer) {
      layer.bindPopup(function () { return roadPopup(f.properties, cfg); });
    }
    out.worst = L.geoJSON(data, {
      renderer: renderer,
      style: function (f) {
        var w = f.properties.worst;
        return {color: w ? cfg.tierColours[w] : cfg.noOpenColour, weight: weight, opacity: 0.9};
      },
      onEachFeature: popup
    });
    out.pct = L.geoJSON(data, {
      renderer: renderer,
      style: function (f) { return {color: pctColour(f.properties.pct), weight: weight, opacity: 0.9}; },
      onEachFeature: popup
    });
    out.none = L.layerGroup();
    return out;
  }

  // ------------------------------------------------------------------------- controls
  function toggles(map, cfg, ds, roads, renderer) {
    var tierOn = {}, statusOn = {}, overlays = {}, bases = {};
    var labels = cfg.labels;
    function refresh() {
      ds.groups.forEach(function (g) {
        g.visible = map.hasLayer(tierOn[g.tier]) && map.hasLayer(statusOn[g.status]);
      });
      renderer.redrawAll();
    }
    cfg.tiers.forEach(function (t) {
      tierOn[t] = L.layerGroup().addTo(map);
      overlays[labels.tiers[t] || t] = tierOn[t];
    });
    cfg.statuses.forEach(function (s) {
      statusOn[s] = L.layerGroup();
      if (cfg.hiddenStatuses.indexOf(s) < 0) statusOn[s].addTo(map);
      overlays[labels.statusLayer + ": " + (labels.statuses[s] || s)] = statusOn[s];
    });
    if (roads.worst) {
      bases[labels.roadsWorst] = roads.worst.addTo(map);
      bases[labels.roadsPct] = roads.pct;
      bases[labels.roadsNone] = roads.none;
    }
    /* kept on the map, so that other layers (crash_map.js) join the same control */
    map._hazardsLayers = L.control.layers(bases, overlays, {collapsed: cfg.collapsed}).addTo(map);
    map.on("overlayadd overlayremove", refresh);
    refresh();
    return function show(tier, status) {
      /* Tick the tier and status of a hazard (the layer control follows). */
      if (tierOn[tier] && !map.hasLayer(tierOn[tier])) map.addLayer(tierOn[tier]);
      if (statusOn[status] && !map.hasLayer(statusOn[status])) map.addLayer(statusOn[status]);
      refresh();
    };
  }

  function swatch(fill, style) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    var c = document.createElementNS(ns, "circle");
    c.setAttribute("cx", "9"); c.setAttribute("cy", "9"); c.setAttribute("r", "6");
    c.setAttribute("fill", fill);
    c.setAttribute("fill-opacity", String(style.fillOpacity === undefined ? 0.9 : style.fillOpacity));
    c.setAttribute("stroke", style.color || "#333");
    c.setAttribute("stroke-width", String(style.weight || 1));
    if (style.dashArray) c.setAttribute("stroke-dasharray", style.dashArray);
    svg.appendChild(c);
    return svg;
  }

  function legendRow(box, svg, text) {
    var row = el("div", "hz-legend-row");
    row.appendChild(svg);
    row.appendChild(el("span", null, text));
    box.appendChild(row);
  }

  function legend(map, cfg) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var box = el("div", "hz-legend leaflet-bar");
      var labels = cfg.labels;
      box.appendChild(el("div", "hz-title", cfg.title));
      if (cfg.subtitle) box.appendChild(el("div", "hz-subtitle", cfg.subtitle));
      box.appendChild(el("div", "hz-legend-head", labels.legendTiers));
      cfg.legendTiers.forEach(function (t) {
        legendRow(box, swatch(cfg.tierColours[t], {}), labels.tiers[t]);
      });
      box.appendChild(el("div", "hz-legend-head", labels.legendStatuses));
      cfg.legendStatuses.forEach(function (s) {
        var st = cfg.statusStyles[s] || {};
        legendRow(box, swatch(st.fillColor || "#ffffff", st), labels.statuses[s]);
      });
      if (cfg.roads) {
        box.appendChild(el("div", "hz-legend-head", labels.legendRoads));
        var line = el("div", "hz-legend-row");
        var bar = el("span", "hz-ramp");
        line.appendChild(bar);
        line.appendChild(el("span", null, labels.rampText));
        box.appendChild(line);
      }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
  }

  function search(map, cfg, ds, roads, show) {
    var control = L.control({position: "topleft"});
    var index = null;
    function build() {
      /* Built on the first search: hazard ids and route codes (upper case) to positions. */
      var a = attrs(ds), i, key;
      index = {hazards: new Map(), routes: new Map()};
      var box = {};
      for (i = 0; i < ds.n; i++) {
        index.hazards.set(hazardId(a, i).toUpperCase(), i);
        var code = a.route.c[i];
        if (!code) continue;
        var b = box[code];
        if (!b) box[code] = [ds.lat[i], ds.lon[i], ds.lat[i], ds.lon[i]];
        else {
          if (ds.lat[i] < b[0]) b[0] = ds.lat[i];
          if (ds.lon[i] < b[1]) b[1] = ds.lon[i];
          if (ds.lat[i] > b[2]) b[2] = ds.lat[i];
          if (ds.lon[i] > b[3]) b[3] = ds.lon[i];
        }
      }
      Object.keys(box).forEach(function (code) {
        var b = box[code];
        index.routes.set(String(a.route.t[code]).toUpperCase(), [[b[0], b[1]], [b[2], b[3]]]);
      });
      if (roads.worst) {
        roads.worst.eachLayer(function (l) {
          key = String(l.feature.properties.route).toUpperCase();
          var bounds = l.getBounds();
          index.routes.set(key, (index.routes.get(key) || []).concat(
            [[bounds.getSouth(), bounds.getWest()], [bounds.getNorth(), bounds.getEast()]]));
        });
      }
    }
    function find(q, msg) {
      if (!index) build();
      var key = String(q).trim().toUpperCase();
      msg.textContent = "";
      var i = index.hazards.get(key);
      if (i !== undefined) {
        var gr = ds.groups[ds.g[i]];
        show(gr.tier, gr.status);
        map.setView([ds.lat[i], ds.lon[i]], Math.max(map.getZoom(), 16));
        openHazard(map, ds, i);
        return true;
      }
      var route = index.routes.get(key);
      if (route) {
        map.fitBounds(L.latLngBounds(route).pad(0.05));
        return true;
      }
      msg.textContent = cfg.labels.notFound;
      return false;
    }
    control.onAdd = function () {
      var box = el("div", "hz-search leaflet-bar");
      var input = el("input");
      input.type = "search";
      input.placeholder = cfg.labels.searchPlaceholder;
      input.setAttribute("aria-label", cfg.labels.searchPlaceholder);
      var msg = el("div", "hz-search-msg");
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter") find(input.value, msg);
      });
      box.appendChild(input);
      box.appendChild(msg);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    return find;
  }

  function draw(map, cfg, id) {
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    var renderer = rendererFor(map);
    var roads = roadLayers(map, cfg, cfg.roads ? readJson(id + "-roads") : null, renderer);
    var ds = dataset(map, cfg, id);
    var show = toggles(map, cfg, ds, roads, renderer);
    renderer.addSet(ds);
    legend(map, cfg);
    var find = cfg.search ? search(map, cfg, ds, roads, show) : null;
    var entry = {map: map, data: ds, groups: ds.groups, roads: roads, find: find,
                 expected: cfg.count};
    Object.defineProperty(entry, "count", {
      get: function () { return ds.rendered ? ds.n : 0; }
    });
    registry.push(entry);
    return entry;
  }

  function featureCount() {
    /* Hazards in the page, counted once their canvas has been drawn. */
    var n = 0;
    registry.forEach(function (e) { n += e.count; });
    return n;
  }

  window.HazardsMap = {draw: draw, registry: registry, featureCount: featureCount};
})();
