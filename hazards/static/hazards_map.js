/* hazards: draws hazard and road layers, legend, layer toggles and search onto a Leaflet map.
   Written for this project (MIT, like the package). Every text from the data is put into the
   page with textContent, never as HTML, so survey text cannot inject markup or scripts.
   Nothing here touches L at load time, so this file may be loaded before Leaflet.

   Hazards arrive as columns (see hazards.mapping.encode_hazards) in JSON script blocks:
   "<id>-points" (delta-coded micro-degrees and a group index, parsed at once) and
   "<id>-attrs" (popup and search columns, parsed on first use). They are drawn by one canvas
   renderer per map (HazardCanvas, a L.Canvas that also draws the roads), one pre-rendered
   circle sprite per (tier, status), tier I on top; clicks are hit-tested on the same arrays.
   Linear hazards ("<id>-extents") are also drawn as lines along the road in the tier colour.

   Roads ("<id>-roads", GeoJSON) are coloured by the mode picked in the layer control (worst
   open tier, share remediated, hidden), by classes of cfg.roadStyles; a road with no hazard
   recorded (surveyed: false) is drawn "not surveyed" (cfg.unsurveyedStyle) in every mode. The
   legend lists exactly the classes in use for the mode shown (and, on a batch's page, the
   roads without a site: cfg.otherRoads, cfg.otherRoadsStyle). On a narrow screen (<= 600 px)
   the layer control and the legend start collapsed to buttons, and every control is hidden
   while a popup is open. */
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

  function narrow() {
    return !!(window.matchMedia && window.matchMedia("(max-width: 600px)").matches);
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
      costSrc: raw.costSrc, photos: raw.photos || null, measure: raw.measure || null,
      site: raw.site || null
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
    var table = fieldTable([
      [f.no, a.site ? a.site[i] : null],
      [f.id, hazardId(a, i)], [f.route, lookup(a.route, i)], [f.chainage, chainage(a.ch[i])],
      [f.extent, extentText(ds, i)],
      [f.category, lookup(a.cat, i)], [f.description, lookup(a.desc, i)],
      [f.tier, cfg.labels.tiers[gr.tier || ""] || gr.tier],
      [f.status, cfg.labels.statuses[gr.status] || gr.status], [f.batch, lookup(a.batch, i)],
      [f.event, joined(a.event, i)],
      [f.cost, cost === null || cost === undefined ? null
        : Number(cost).toLocaleString() + " " + cfg.labels.yuan + costSource(cfg, a, i)],
      [f.measure, a.measure ? lookup(a.measure, i) : null]
    ]);
    /* survey photos (hazards.mapping, out_dir): [thumb, src] paths beside the page, or URLs */
    var photos = a.photos ? a.photos[i] : null;
    if (!photos) return table;
    var box = el("div"), strip = el("div", "hz-popup-photos");
    box.appendChild(table);
    photos.forEach(function (p) {
      var link = el("a"), img = el("img");
      link.href = p[1]; link.target = "_blank"; link.rel = "noopener";
      img.src = p[0]; img.alt = f.photos; img.title = f.photos; img.loading = "lazy";
      img.style.cssText = "max-width:120px;max-height:90px;margin:2px";
      link.appendChild(img);
      strip.appendChild(link);
    });
    box.appendChild(strip);
    return box;
  }

  function extentText(ds, i) {
    /* "K0+580 – K0+909 (329 m)" for a linear hazard, null for a point. */
    var k = ds.extentOf ? ds.extentOf[i] : undefined;
    if (k === undefined) return null;
    var lo = ds.extents.f[k], hi = ds.extents.t[k];
    if (lo === null || hi === null) return null;
    return chainage(lo) + " – " + chainage(hi) + " (" + (hi - lo) + " m)";
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

  function markPath(c, mark, cx, cy, r) {
    var k = r * 0.55;
    if (mark === "check") {
      c.moveTo(cx - k, cy);
      c.lineTo(cx - k * 0.2, cy + k * 0.7);
      c.lineTo(cx + k, cy - k * 0.7);
    } else if (mark === "cross") {
      c.moveTo(cx - k, cy - k); c.lineTo(cx + k, cy + k);
      c.moveTo(cx + k, cy - k); c.lineTo(cx - k, cy + k);
    }
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
    if (style.mark) {
      /* verified: a tick; rejected: a cross (so no two statuses share a symbol) */
      c.setLineDash([]);
      c.globalAlpha = 1;
      c.lineWidth = 1.8;
      c.strokeStyle = style.color || "#333";
      c.beginPath();
      markPath(c, style.mark, half, half, r);
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
  var ROAD_MODES = ["worst", "pct"];
  var CLASS_ORDER = {worst: ["I", "II", "III", "clear"],
                     pct: ["p0", "p25", "p50", "p75", "p100", "clear"]};

  function roadClass(mode, p) {
    /* The class of a road in a colouring mode; "unsurveyed" when no hazard was ever recorded. */
    if (p.surveyed === false) return "unsurveyed";
    if (mode === "worst") return p.worst || "clear";
    var total = p.total || 0, done = p.done || 0;
    if (!total) return "clear";
    if (done >= total) return "p100";
    var pct = 100 * done / total;
    return pct >= 75 ? "p75" : pct >= 50 ? "p50" : pct >= 25 ? "p25" : "p0";
  }

  function classStyle(cfg, mode, k) {
    var st = k === "unsurveyed" ? cfg.unsurveyedStyle : cfg.roadStyles[mode][k];
    return Object.assign({color: "#666", weight: cfg.roadWeight, opacity: 0.9}, st);
  }

  function roadPopup(p, cfg) {
    var f = cfg.labels.fields, surveyed = p.surveyed !== false;
    return fieldTable([
      [f.route, p.route], [f.name, p.name], [f.township, p.township], [f.length, p.km],
      [f.surveyed, surveyed ? null : cfg.labels.unsurveyed],
      [f.open, surveyed ? p.open : null], [f.done, surveyed ? p.done : null],
      [f.worst, surveyed ? (p.worst ? cfg.labels.tiers[p.worst] : cfg.labels.none) : null],
      [f.pct, p.pct === undefined ? null : p.pct + "%"]
    ]);
  }

  function roadLayers(map, cfg, data, renderer) {
    var out = {};
    if (!data) return out;
    function popup(f, layer) {
      layer.bindPopup(function () { return roadPopup(f.properties, cfg); });
    }
    ROAD_MODES.forEach(function (mode) {
      out[mode] = L.geoJSON(data, {
        renderer: renderer,
        style: function (f) {
          var k = roadClass(mode, f.properties), st = classStyle(cfg, mode, k);
          return Object.assign({}, st, {roadClass: k});
        },
        onEachFeature: popup
      });
    });
    out.none = L.layerGroup();
    out.data = data;
    return out;
  }

  function classesInUse(cfg, roads, mode) {
    /* The classes drawn in ``mode``, in legend order (unsurveyed last). */
    if (!roads.data || !roads[mode]) return [];
    var seen = {};
    roads.data.features.forEach(function (f) { seen[roadClass(mode, f.properties)] = true; });
    return CLASS_ORDER[mode].concat(["unsurveyed"]).filter(function (k) { return seen[k]; });
  }

  function currentMode(map, roads) {
    for (var i = 0; i < ROAD_MODES.length; i++) {
      if (roads[ROAD_MODES[i]] && map.hasLayer(roads[ROAD_MODES[i]])) return ROAD_MODES[i];
    }
    return "none";
  }

  function segments(f) {
    /* A road feature's lines with their [part, from_m, to_m], when the page carries them. */
    var g = f.geometry, p = f.properties.parts;
    if (!g || !p) return [];
    var lines = g.type === "MultiLineString" ? g.coordinates
      : g.type === "LineString" ? [g.coordinates] : [];
    if (lines.length !== p.length) return [];
    return lines.map(function (c, k) {
      return {coords: c, part: p[k][0], from: Number(p[k][1]), to: Number(p[k][2])};
    });
  }

  function metres(a, b) {
    return L.CRS.Earth.distance(L.latLng(a[1], a[0]), L.latLng(b[1], b[0]));
  }

  function along(coords, t) {
    /* The [lon, lat] at fraction t of a line's length. */
    var lens = [], total = 0, i;
    for (i = 1; i < coords.length; i++) { lens.push(metres(coords[i - 1], coords[i])); total += lens[i - 1]; }
    var want = Math.max(0, Math.min(1, t)) * total;
    for (i = 1; i < coords.length; i++) {
      if (want <= lens[i - 1] || i === coords.length - 1) {
        var u = lens[i - 1] > 0 ? Math.min(1, want / lens[i - 1]) : 0, a = coords[i - 1], b = coords[i];
        return [a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1])];
      }
      want -= lens[i - 1];
    }
    return coords[0];
  }

  function locateChainage(f, m) {
    /* The point at chainage m (metres) on the main line (part 0) of a road feature, as
       hazards.chainage.locate places it: on the segment covering m, by its share of the
       segment's chainage range; in a gap, on the straight line across it. Returns
       {latlng} or {outside: [from, to]} or null when the page has no chainage for the road. */
    var segs = segments(f).filter(function (s) { return s.part === 0; });
    if (!segs.length) return null;
    segs.sort(function (a, b) { return a.from - b.from; });
    var lo = segs[0].from, hi = Math.max.apply(null, segs.map(function (s) { return s.to; }));
    if (m < lo - 0.5 || m > hi + 0.5) return {outside: [lo, hi]};
    var pt = null, prev = null, i;
    for (i = 0; i < segs.length; i++) {
      var s = segs[i];
      if (m >= s.from - 0.5 && m <= s.to + 0.5) {
        pt = along(s.coords, s.to > s.from ? (m - s.from) / (s.to - s.from) : 0);
        break;
      }
      if (s.to < m) prev = s;
      else if (prev) {  /* in the gap between prev and s */
        var a = prev.coords[prev.coords.length - 1], b = s.coords[0];
        var span = s.from - prev.to, t = span > 0 ? (m - prev.to) / span : 0;
        pt = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
        break;
      }
    }
    return pt ? {latlng: L.latLng(pt[1], pt[0])} : null;
  }

  function routeLabels(map, cfg, roads) {
    /* Route codes written on the roads in view, from cfg.labelZoom on. */
    var group = L.layerGroup().addTo(map);
    function update() {
      group.clearLayers();
      var mode = currentMode(map, roads);
      if (mode === "none" || map.getZoom() < cfg.labelZoom) return;
      var view = map.getBounds(), n = 0;
      roads[mode].eachLayer(function (layer) {
        if (n >= 200 || !view.intersects(layer.getBounds())) return;
        var inView = [];
        (function walk(lls) {
          lls.forEach(function (x) {
            if (Array.isArray(x)) walk(x);
            else if (view.contains(x)) inView.push(x);
          });
        })(layer.getLatLngs());
        if (!inView.length) return;
        n++;
        group.addLayer(L.tooltip({permanent: true, direction: "center", interactive: false,
                                  className: "hz-route-label", opacity: 0.9})
          .setLatLng(inView[Math.floor(inView.length / 2)])
          .setContent(String(layer.feature.properties.route)));
      });
    }
    map.on("moveend zoomend baselayerchange", update);
    update();
    return group;
  }

  // ------------------------------------------------------------------------- linear hazards
  function extentLayers(map, cfg, ds, renderer) {
    /* One line per linear hazard, in its tier colour, under the circles; shown with its group. */
    var raw = readJson(ds.id + "-extents");
    ds.extentOf = {};
    ds.extents = raw;
    ds.extentLines = [];
    if (!raw) return null;
    var group = L.featureGroup().addTo(map);
    raw.i.forEach(function (i, k) {
      ds.extentOf[i] = k;
      var gr = ds.groups[ds.g[i]];
      var line = L.geoJSON(raw.g[k], {
        renderer: renderer,
        style: function () {
          return {color: cfg.tierColours[gr.tier || ""] || cfg.tierColours[""], weight: 6,
                  opacity: 0.8, lineCap: "butt", hzExtent: true};
        }
      });
      line.on("click", function (e) {
        L.DomEvent.stop(e);
        openHazard(map, ds, i);
      });
      ds.extentLines.push({group: gr, layer: line});
    });
    ds.extentGroup = group;
    return group;
  }

  function showExtents(ds) {
    (ds.extentLines || []).forEach(function (x) {
      var on = ds.extentGroup.hasLayer(x.layer);
      if (x.group.visible && !on) ds.extentGroup.addLayer(x.layer);
      else if (!x.group.visible && on) ds.extentGroup.removeLayer(x.layer);
    });
  }

  // ------------------------------------------------------------------------- controls
  function toggles(map, cfg, ds, roads, renderer) {
    var tierOn = {}, statusOn = {}, overlays = {}, bases = {};
    var labels = cfg.labels;
    function refresh() {
      ds.groups.forEach(function (g) {
        g.visible = map.hasLayer(tierOn[g.tier]) && map.hasLayer(statusOn[g.status]);
      });
      showExtents(ds);
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
    map._hazardsLayers = L.control.layers(bases, overlays,
                                          {collapsed: !!cfg.collapsed || narrow()}).addTo(map);
    map.on("overlayadd overlayremove", refresh);
    map.on("baselayerchange", function () {
      /* the roads just added are drawn last: keep the extents above them */
      if (ds.extentGroup) ds.extentGroup.bringToFront();
    });
    refresh();
    return function show(tier, status) {
      /* Tick the tier and status of a hazard (the layer control follows). */
      if (tierOn[tier] && !map.hasLayer(tierOn[tier])) map.addLayer(tierOn[tier]);
      if (statusOn[status] && !map.hasLayer(statusOn[status])) map.addLayer(statusOn[status]);
      refresh();
    };
  }

  var SVG = "http://www.w3.org/2000/svg";

  function svgBox(w) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", String(w || 18));
    svg.setAttribute("height", "18");
    return svg;
  }

  function swatch(fill, style) {
    var svg = svgBox(18);
    var c = document.createElementNS(SVG, "circle");
    c.setAttribute("cx", "9"); c.setAttribute("cy", "9"); c.setAttribute("r", "6");
    c.setAttribute("fill", fill);
    c.setAttribute("fill-opacity", String(style.fillOpacity === undefined ? 0.9 : style.fillOpacity));
    c.setAttribute("stroke", style.color || "#333");
    c.setAttribute("stroke-width", String(style.weight || 1));
    if (style.dashArray) c.setAttribute("stroke-dasharray", style.dashArray);
    svg.appendChild(c);
    if (style.mark) {
      var k = 6 * 0.55, d = style.mark === "check"
        ? "M" + (9 - k) + " 9 L" + (9 - k * 0.2) + " " + (9 + k * 0.7) + " L" + (9 + k) + " " + (9 - k * 0.7)
        : "M" + (9 - k) + " " + (9 - k) + " L" + (9 + k) + " " + (9 + k) + " M" + (9 + k) + " " + (9 - k) + " L" + (9 - k) + " " + (9 + k);
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", style.color || "#333");
      path.setAttribute("stroke-width", "1.8");
      svg.appendChild(path);
    }
    return svg;
  }

  function lineSwatch(style) {
    var svg = svgBox(28), line = document.createElementNS(SVG, "line");
    line.setAttribute("x1", "1"); line.setAttribute("y1", "9");
    line.setAttribute("x2", "27"); line.setAttribute("y2", "9");
    line.setAttribute("stroke", style.color);
    line.setAttribute("stroke-width", String(Math.min(style.weight || 4, 6)));
    line.setAttribute("stroke-opacity", String(style.opacity === undefined ? 1 : style.opacity));
    if (style.dashArray) line.setAttribute("stroke-dasharray", style.dashArray);
    svg.appendChild(line);
    return svg;
  }

  function legendRow(box, svg, text) {
    var row = el("div", "hz-legend-row");
    row.appendChild(svg);
    row.appendChild(el("span", null, text));
    box.appendChild(row);
    return row;
  }

  function collapsible(box, body, label, startCollapsed) {
    /* A button (shown on narrow screens by the CSS) that folds the box away. */
    var button = el("button", "hz-toggle", label);
    button.type = "button";
    button.setAttribute("aria-expanded", String(!startCollapsed));
    if (startCollapsed) L.DomUtil.addClass(box, "hz-collapsed");
    button.addEventListener("click", function () {
      var folded = L.DomUtil.hasClass(box, "hz-collapsed");
      (folded ? L.DomUtil.removeClass : L.DomUtil.addClass)(box, "hz-collapsed");
      button.setAttribute("aria-expanded", String(folded));
    });
    box.insertBefore(button, body);
    return function fold() {
      L.DomUtil.addClass(box, "hz-collapsed");
      button.setAttribute("aria-expanded", "false");
    };
  }

  function legend(map, cfg, roads, ds) {
    var control = L.control({position: "bottomright"});
    var roadBox = null;
    function drawRoads() {
      /* The roads section follows the colouring mode picked in the layer control. */
      if (!roadBox) return;
      roadBox.textContent = "";
      var mode = currentMode(map, roads), labels = cfg.labels;
      if (mode === "none" && !cfg.otherRoads) return;
      roadBox.appendChild(el("div", "hz-legend-head", mode === "worst" ? labels.roadsWorst
                             : mode === "pct" ? labels.roadsPct : labels.legendRoads));
      if (mode !== "none") classesInUse(cfg, roads, mode).forEach(function (k) {
        var row = legendRow(roadBox, lineSwatch(classStyle(cfg, mode, k)),
                            k === "unsurveyed" ? labels.unsurveyed : labels.roadClasses[mode][k]);
        row.setAttribute("data-road-class", k);
      });
      if (cfg.otherRoads) {  /* a batch page: the roads without a site, drawn in every mode */
        legendRow(roadBox, lineSwatch(cfg.otherRoadsStyle), labels.otherRoads)
          .setAttribute("data-road-class", "other");
      }
    }
    control.onAdd = function () {
      var box = el("div", "hz-legend leaflet-bar");
      var body = el("div", "hz-legend-body");
      var labels = cfg.labels;
      body.appendChild(el("div", "hz-title", cfg.title));
      if (cfg.subtitle) body.appendChild(el("div", "hz-subtitle", cfg.subtitle));
      body.appendChild(el("div", "hz-legend-head", labels.legendTiers));
      cfg.legendTiers.forEach(function (t) {
        legendRow(body, swatch(cfg.tierColours[t], {}), labels.tiers[t]);
      });
      if (ds.extents) {
        var svg = svgBox(28);
        ["I", "II", "III"].forEach(function (t, k) {
          var line = document.createElementNS(SVG, "line");
          line.setAttribute("x1", String(1 + 9 * k)); line.setAttribute("x2", String(9 + 9 * k));
          line.setAttribute("y1", "9"); line.setAttribute("y2", "9");
          line.setAttribute("stroke", cfg.tierColours[t]); line.setAttribute("stroke-width", "5");
          svg.appendChild(line);
        });
        legendRow(body, svg, labels.legendExtent);
      }
      body.appendChild(el("div", "hz-legend-head", labels.legendStatuses));
      cfg.legendStatuses.forEach(function (s) {
        var st = cfg.statusStyles[s] || {};
        legendRow(body, swatch(st.fillColor || "#ffffff", st), labels.statuses[s]);
      });
      if (roads.worst || cfg.otherRoads) {
        roadBox = el("div", "hz-legend-roads");
        body.appendChild(roadBox);
        drawRoads();
      }
      box.appendChild(body);
      control.fold = collapsible(box, body, labels.legendButton, narrow());
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    map.on("baselayerchange", drawRoads);
    return control;
  }

  // ------------------------------------------------------------------------- search
  var CHAINAGE_RE = /(?:^|\s|(?=[Kk]))[Kk]?\s*(\d+)\s*\+\s*(\d{1,3}(?:\.\d*)?)\s*$/;

  function parseQuery(q) {
    /* {text} or {text: route part, m: chainage metres} for "Y005 K3+200", "K3+200", ... */
    /* full-width letters, digits, ＋ and spaces (as typed with a Chinese input method) */
    var s = String(q).replace(/[\uff01-\uff5e]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/\u3000/g, " ").trim();
    var m = CHAINAGE_RE.exec(s);
    if (!m || Number(m[2]) >= 1000) return {text: s};
    return {text: s.slice(0, m.index).trim(), m: Number(m[1]) * 1000 + Number(m[2])};
  }

  function search(map, cfg, ds, roads, show) {
    var control = L.control({position: "topleft"});
    var index = null, mark = L.layerGroup().addTo(map);
    function build() {
      /* Built on the first search: hazard ids, route codes and road names (upper case). */
      var a = attrs(ds), i;
      index = {hazards: new Map(), routes: new Map(), features: new Map(), names: []};
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
      ((roads.data && roads.data.features) || []).forEach(function (f) {
        var p = f.properties, key = String(p.route).toUpperCase();
        var bounds = L.geoJSON(f).getBounds();
        index.features.set(key, f);
        index.routes.set(key, (index.routes.get(key) || []).concat(
          [[bounds.getSouth(), bounds.getWest()], [bounds.getNorth(), bounds.getEast()]]));
        if (p.name) index.names.push([String(p.name).toUpperCase(), key]);
      });
    }
    function routeKey(text) {
      /* A route code, or a road name (whole, else a unique part of one); [key] or [null, list]. */
      var key = text.toUpperCase();
      if (index.routes.has(key)) return [key];
      var whole = index.names.filter(function (n) { return n[0] === key; });
      var part = key ? index.names.filter(function (n) { return n[0].indexOf(key) >= 0; }) : [];
      var hits = whole.length ? whole : part;
      if (hits.length === 1) return [hits[0][1]];
      return [null, hits.map(function (n) { return n[1]; })];
    }
    function halo(f) {
      var layer = L.geoJSON(f, {renderer: map._hazardsCanvas, interactive: false,
        style: function () { return {color: cfg.highlight, weight: 12, opacity: 0.55}; }});
      mark.addLayer(layer);
      layer.bringToBack();
    }
    function find(q, msg) {
      if (!index) build();
      msg = msg || document.createElement("div");
      msg.textContent = "";
      mark.clearLayers();
      var query = parseQuery(q), key = query.text.toUpperCase();
      var i = query.m === undefined ? index.hazards.get(key) : undefined;
      if (i !== undefined) {
        var gr = ds.groups[ds.g[i]];
        show(gr.tier, gr.status);
        mark.addLayer(L.circleMarker([ds.lat[i], ds.lon[i]], {
          renderer: map._hazardsCanvas, radius: cfg.radius + 7, color: cfg.highlight, weight: 4,
          fill: false, interactive: false}));
        map.setView([ds.lat[i], ds.lon[i]], Math.max(map.getZoom(), 16));
        openHazard(map, ds, i);
        return true;
      }
      var found = query.text === "" && query.m !== undefined && index.features.size === 1
        ? [index.features.keys().next().value] : routeKey(query.text);
      if (!found[0]) {
        msg.textContent = found[1].length > 1
          ? cfg.labels.several.replace("{list}", found[1].slice(0, 6).join(", "))
          : cfg.labels.notFound;
        return false;
      }
      var f = index.features.get(found[0]);
      if (query.m !== undefined) {
        var at = f ? locateChainage(f, query.m) : null;
        if (!at) { msg.textContent = cfg.labels.notFound; return false; }
        if (at.outside) {
          msg.textContent = cfg.labels.outside.replace("{route}", f.properties.route)
            .replace("{from}", chainage(Math.round(at.outside[0])))
            .replace("{to}", chainage(Math.round(at.outside[1])));
          return false;
        }
        var where = f.properties.route + " " + chainage(Math.round(query.m));
        mark.addLayer(L.circleMarker(at.latlng, {
          renderer: map._hazardsCanvas, radius: 10, color: cfg.highlight, weight: 4,
          fillColor: "#ffffff", fillOpacity: 0.6, interactive: false})
          .bindTooltip(where, {permanent: true, direction: "top", offset: [0, -10],
                               className: "hz-found"}));
        map.setView(at.latlng, Math.max(map.getZoom(), 16));
        entry.found = {latlng: at.latlng, route: f.properties.route, m: query.m};
        return true;
      }
      if (f) halo(f);
      map.fitBounds(L.latLngBounds(index.routes.get(found[0])).pad(0.05));
      return true;
    }
    var entry = {find: find, found: null};
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
    return entry;
  }

  // ------------------------------------------------------------------------- small screens
  function popupsFirst(map, legendControl) {
    /* While a popup is open, fold the layer control and the legend; on a narrow screen the
       CSS also hides every control (.hz-popup-open), so nothing covers the popup. */
    var box = map.getContainer();
    map.on("popupopen", function () {
      if (!narrow()) return;
      L.DomUtil.addClass(box, "hz-popup-open");
      if (map._hazardsLayers) map._hazardsLayers.collapse();
      if (legendControl && legendControl.fold) legendControl.fold();
    });
    map.on("popupclose", function () { L.DomUtil.removeClass(box, "hz-popup-open"); });
  }

  function allowPinchZoom() {
    /* Pages built before the viewport fix said user-scalable=no: let phones zoom. */
    var meta = document.querySelector('meta[name="viewport"]');
    if (meta && /user-scalable\s*=\s*no/.test(meta.content)) {
      meta.setAttribute("content", "width=device-width, initial-scale=1.0");
    }
  }

  function keepFitted(map) {
    /* The page's first view (the fitBounds folium calls once the map is drawn) is fitted
       again once the page is laid out (load, fonts, a scroll bar) and when the screen turns
       or resizes, until the user moves the map: a phone opens on the whole road, never on a
       view sized for a wider page and cut at the right edge. */
    var home = null, moved = false, fitting = false, fit0 = map.fitBounds;
    function fit(bounds, options) {
      fitting = true;
      try { return fit0.call(map, bounds, options); } finally { fitting = false; }
    }
    map.fitBounds = function (bounds, options) {
      if (home) { moved = true; return fit0.apply(map, arguments); }
      home = {bounds: L.latLngBounds(bounds), options: options || {}};
      return fit(bounds, options);
    };
    map.on("dragstart", function () { moved = true; });
    map.on("zoomstart", function () { if (!fitting) moved = true; });
    function refit() {
      var size = map.getSize();
      map.invalidateSize({pan: false});
      if (!home || moved || !map.getContainer().clientWidth) return;
      if (size.equals(map.getSize()) && map.getBounds().contains(home.bounds)) return;
      fit(home.bounds, L.extend({}, home.options, {animate: false}));
    }
    var later = function () { setTimeout(refit, 0); };
    if (window.ResizeObserver) new ResizeObserver(later).observe(map.getContainer());
    window.addEventListener("resize", later);
    window.addEventListener("orientationchange", later);
    if (document.readyState === "complete") later();
    else window.addEventListener("load", later);
  }

  function draw(map, cfg, id) {
    allowPinchZoom();
    keepFitted(map);
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    var renderer = rendererFor(map);
    var roads = roadLayers(map, cfg, cfg.roads ? readJson(id + "-roads") : null, renderer);
    var ds = dataset(map, cfg, id);
    extentLayers(map, cfg, ds, renderer);
    var show = toggles(map, cfg, ds, roads, renderer);
    renderer.addSet(ds);
    var legendControl = legend(map, cfg, roads, ds);
    var found = cfg.search ? search(map, cfg, ds, roads, show) : null;
    if (roads.worst) routeLabels(map, cfg, roads);
    popupsFirst(map, legendControl);
    var entry = {map: map, data: ds, groups: ds.groups, roads: roads,
                 find: found ? found.find : null, expected: cfg.count,
                 roadMode: function () { return currentMode(map, roads); },
                 roadClasses: function (mode) { return classesInUse(cfg, roads, mode); }};
    Object.defineProperty(entry, "count", {
      get: function () { return ds.rendered ? ds.n : 0; }
    });
    Object.defineProperty(entry, "found", {
      get: function () { return found ? found.found : null; }
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

  // el and readJson are shared with crash_map.js (loaded after this file on every page)
  window.HazardsMap = {
    draw: draw, registry: registry, featureCount: featureCount, el: el, readJson: readJson
  };
})();
