/* hazards: crash layers (symbol by severity), black-spot windows and network screening sites,
   drawn onto a Leaflet map (MIT, like the package). Every text from the data goes into the page
   with textContent, never as HTML. Nothing here touches L at load time.

   HazardsCrashes.draw(map, cfg, id) reads JSON script blocks "<id>-crashes" (columns: x, y in
   integer micro-degrees, s severity, d date, t time, ty type, f killed, i injured, se seriously
   injured, w weather, l light, r route, ch chainage m, j junction, a attached 0/1, src source
   index into cfg.sources, id crash id), and when present "<id>-spots" (black-spot windows),
   "<id>-sites" (screening sites) and "<id>-roads" (background roads), all GeoJSON. Its layers
   join the map's layer control (the one hazards_map.js made, or a new one). */
(function () {
  "use strict";
  var registry = [];

  var el = HazardsMap.el; // the page's DOM helpers (hazards_map.js, loaded first)
  var readJson = HazardsMap.readJson;

  function fieldTable(title, rows) {
    var box = el("div");
    if (title) box.appendChild(el("div", "hz-title", title));
    var table = el("table", "hz-popup");
    rows.forEach(function (row) {
      if (row[1] === undefined || row[1] === null || row[1] === "") return;
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  function pad(num, width) {
    var s = String(num);
    while (s.length < width) s = "0" + s;
    return s;
  }

  function chainage(m) {
    if (m === null || m === undefined) return null;
    m = Math.round(m);
    return "K" + Math.floor(m / 1000) + "+" + pad(m % 1000, 3);
  }

  function narrow() {
    return !!(window.matchMedia && window.matchMedia("(max-width: 600px)").matches);
  }

  function layerControl(map, cfg) {
    if (!map._hazardsLayers) {
      map._hazardsLayers = L.control.layers(null, null, {collapsed: !!cfg.collapsed || narrow()})
        .addTo(map);
    }
    return map._hazardsLayers;
  }

  // ------------------------------------------------------------------------- crashes
  function crashPopup(cfg, c, i) {
    var f = cfg.labels.fields, sev = c.s[i] || "";
    var where = c.a[i] ? [c.r[i], chainage(c.ch[i])].filter(Boolean).join(" ")
      : cfg.labels.unattached;
    if (c.j[i]) where += " · " + cfg.labels.junction.replace("{id}", c.j[i]);
    return fieldTable(cfg.labels.severities[sev] || sev, [
      [f.date, c.d[i]], [f.time, c.t[i]], [f.type, c.ty[i]],
      [f.fatalities, c.f[i]], [f.injuries, c.i[i]], [f.serious, c.se[i] || null],
      [f.weather, c.w[i]], [f.light, c.l[i]], [f.where, where],
      [f.source, cfg.sources[c.src[i]]], [f.id, c.id[i]]
    ]);
  }

  function crashLayer(map, cfg, c) {
    var group = L.featureGroup(), renderer = map._hazardsCanvas;
    var n = c.x.length, x = 0, y = 0;
    for (var i = 0; i < n; i++) {
      x += c.x[i]; y += c.y[i];
      var st = cfg.styles[c.s[i] || ""] || cfg.styles[""];
      var marker = L.circleMarker([y / 1e6, x / 1e6], {
        renderer: renderer, radius: st.radius, color: st.color, weight: st.weight,
        fillColor: st.fillColor, fillOpacity: 0.9, opacity: 1, crash: i
      });
      marker.bindPopup((function (k) {
        return function () { return crashPopup(cfg, c, k); };
      })(i));
      group.addLayer(marker);
    }
    return group;
  }

  // ------------------------------------------------------------------------- sites
  function sitePopup(cfg, p) {
    var f = cfg.labels.fields;
    var range = p.from === p.to ? p.from : p.from + " – " + p.to;
    return fieldTable(cfg.labels[cfg.kind === "spots" ? "blackSpots" : "screen"] + " " + p.rank, [
      [f.rank, p.rank], [f.site, p.id], [f.route, p.route], [f.range, range],
      [f.crashes, p.crashes], [f.ksi, p.ksi], [f.epdo, p.epdo],
      [f.value + (cfg.measure ? " (" + cfg.measure + ")" : ""), p.value], [f.routes, p.routes]
    ]);
  }

  function rampColour(cfg, value) {
    var lo = cfg.valueRange[0], hi = cfg.valueRange[1], ramp = cfg.ramp;
    var t = hi > lo ? (value - lo) / (hi - lo) : 1;
    return ramp[Math.max(0, Math.min(ramp.length - 1, Math.floor(t * ramp.length)))];
  }

  function siteLayer(map, cfg, data, kind) {
    var renderer = map._hazardsCanvas;
    var sub = Object.assign({}, cfg, {kind: kind});
    return L.geoJSON(data, {
      renderer: renderer,
      style: function (f) {
        if (kind === "spots") return cfg.spotStyle;
        return {color: rampColour(cfg, f.properties.value), weight: 8, opacity: 0.85};
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {
          renderer: renderer, radius: 9, weight: 2, color: "#333",
          fillColor: rampColour(cfg, f.properties.value), fillOpacity: 0.9
        });
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return sitePopup(sub, f.properties); });
      }
    });
  }

  function roadLayer(map, data) {
    return L.geoJSON(data, {
      renderer: map._hazardsCanvas,
      /* plain background roads: a grey no tier, status or "not surveyed" style uses */
      style: function () { return {color: "#b4b4b4", weight: 3, opacity: 0.8}; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(String(f.properties.route + " " + (f.properties.name || "")));
      }
    });
  }

  // ------------------------------------------------------------------------- legend
  function swatch(style, line) {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "18");
    var s;
    if (line) {
      s = document.createElementNS(ns, "line");
      s.setAttribute("x1", "1"); s.setAttribute("y1", "9");
      s.setAttribute("x2", "21"); s.setAttribute("y2", "9");
      s.setAttribute("stroke", style.color);
      s.setAttribute("stroke-width", String(Math.min(style.weight || 6, 8)));
      s.setAttribute("stroke-opacity", String(style.opacity || 1));
    } else {
      s = document.createElementNS(ns, "circle");
      s.setAttribute("cx", "11"); s.setAttribute("cy", "9");
      s.setAttribute("r", String(style.radius || 6));
      s.setAttribute("fill", style.fillColor);
      s.setAttribute("stroke", style.color || "#333");
      s.setAttribute("stroke-width", String(style.weight || 1));
    }
    svg.appendChild(s);
    return svg;
  }

  function row(box, svg, text) {
    var r = el("div", "hz-legend-row");
    r.appendChild(svg);
    r.appendChild(el("span", null, text));
    box.appendChild(r);
  }

  function legend(map, cfg, hasSites) {
    var control = L.control({position: cfg.screen ? "bottomright" : "bottomleft"});
    control.onAdd = function () {
      var outer = el("div", "hz-crash-legend leaflet-bar"), labels = cfg.labels;
      var box = el("div", "hz-legend-body");
      if (cfg.title) box.appendChild(el("div", "hz-title", cfg.title));
      if (cfg.subtitle) box.appendChild(el("div", "hz-subtitle", cfg.subtitle));
      if (hasSites) {
        box.appendChild(el("div", "hz-legend-head", cfg.measure));
        var r = el("div", "hz-legend-row"), bar = el("span", "hz-ramp");
        bar.style.background = "linear-gradient(to right, " + cfg.ramp.join(", ") + ")";
        r.appendChild(bar);
        r.appendChild(el("span", null, labels.rampText));
        box.appendChild(r);
      }
      if (cfg.spots) {
        row(box, swatch(cfg.spotStyle, true), labels.blackSpots);
        if (cfg.spotRule) box.appendChild(el("div", "hz-subtitle", cfg.spotRule));
      }
      box.appendChild(el("div", "hz-legend-head", labels.crashCount.replace("{n}", cfg.count)));
      cfg.severities.forEach(function (s) {
        row(box, swatch(cfg.styles[s]), labels.severities[s]);
      });
      /* on a narrow screen: a button that unfolds the legend (hazards_map.css shows it) */
      var button = el("button", "hz-toggle", cfg.legendButton || labels.crashes);
      button.type = "button";
      button.addEventListener("click", function () {
        outer.classList.toggle("hz-collapsed");
      });
      if (narrow()) outer.classList.add("hz-collapsed");
      outer.appendChild(button);
      outer.appendChild(box);
      control.fold = function () { outer.classList.add("hz-collapsed"); };
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      return outer;
    };
    control.addTo(map);
    /* a popup on a narrow screen: fold the legend and hide the controls (hazards_map.css) */
    map.on("popupopen", function () {
      if (!narrow()) return;
      map.getContainer().classList.add("hz-popup-open");
      if (map._hazardsLayers) map._hazardsLayers.collapse();
      control.fold();
    });
    map.on("popupclose", function () { map.getContainer().classList.remove("hz-popup-open"); });
  }

  function draw(map, cfg, id) {
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    var control = layerControl(map, cfg), labels = cfg.labels;
    var entry = {map: map, crashes: null, spots: null, sites: null, roads: null,
                 data: null, expected: cfg.count};
    var roads = readJson(id + "-roads");
    if (roads) entry.roads = roadLayer(map, roads).addTo(map);
    var spots = readJson(id + "-spots");
    if (spots) {
      entry.spots = siteLayer(map, cfg, spots, "spots");
      if (cfg.spotsOn) entry.spots.addTo(map);
      control.addOverlay(entry.spots, labels.blackSpots);
    }
    var crashes = readJson(id + "-crashes");
    if (crashes) {
      entry.data = crashes;  /* marker.options.crash is its index in these columns */
      entry.crashes = crashLayer(map, cfg, crashes);
      if (cfg.crashesOn) entry.crashes.addTo(map);
      control.addOverlay(entry.crashes, labels.crashCount.replace("{n}", cfg.count));
    }
    var sites = readJson(id + "-sites");  /* last: on top of the crashes */
    if (sites) {
      entry.sites = siteLayer(map, cfg, sites, "sites").addTo(map);
      control.addOverlay(entry.sites, cfg.measure);
    }
    legend(map, cfg, !!sites);
    registry.push(entry);
    return entry;
  }

  function size(layer) {
    return layer ? layer.getLayers().length : 0;
  }

  function counts() {
    /* What the page drew: crash markers, black-spot windows and screening sites (features on
       the map; a layer switched off counts 0). */
    var out = {crashes: 0, spots: 0, sites: 0};
    registry.forEach(function (e) {
      ["crashes", "spots", "sites"].forEach(function (k) {
        if (e[k] && e.map.hasLayer(e[k])) out[k] += size(e[k]);
      });
    });
    return out;
  }

  window.HazardsCrashes = {draw: draw, registry: registry, counts: counts};
})();
