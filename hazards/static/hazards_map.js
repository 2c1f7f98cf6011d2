/* hazards: draws hazard and road layers, legend, layer toggles and search onto a Leaflet map.
   Written for this project (MIT, like the package). Every text from the data is put into the
   page with textContent, never as HTML, so survey text cannot inject markup or scripts.
   Nothing here touches L at load time, so this file may be loaded before Leaflet. */
(function () {
  "use strict";
  var registry = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
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

  function hazardPopup(p, cfg) {
    var f = cfg.labels.fields;
    var cat = cfg.lang === "zh" ? (p.cat_raw || p.cat) : (p.cat || p.cat_raw);
    var cost = p.cost === undefined ? null : Number(p.cost).toLocaleString() + " " + cfg.labels.yuan;
    return fieldTable([
      [f.id, p.id], [f.route, p.route], [f.chainage, p.ch], [f.category, cat],
      [f.description, p.desc], [f.tier, cfg.labels.tiers[p.tier || ""] || p.tier],
      [f.status, cfg.labels.statuses[p.status] || p.status], [f.batch, p.batch],
      [f.event, p.event], [f.cost, cost]
    ]);
  }

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

  function markerStyle(cfg, tier, status) {
    var s = Object.assign({}, cfg.statusStyles[status] || {});
    if (!s.fillColor) s.fillColor = cfg.tierColours[tier || ""] || cfg.tierColours[""];
    s.radius = s.radius || cfg.radius;
    return s;
  }

  function roadLayers(map, cfg) {
    var out = {};
    if (!cfg.roads) return out;
    var weight = cfg.roadWeight;
    out.worst = L.geoJSON(cfg.roads, {
      style: function (f) {
        var w = f.properties.worst;
        return {color: w ? cfg.tierColours[w] : cfg.noOpenColour, weight: weight, opacity: 0.9};
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return roadPopup(f.properties, cfg); });
      }
    });
    out.pct = L.geoJSON(cfg.roads, {
      style: function (f) { return {color: pctColour(f.properties.pct), weight: weight, opacity: 0.9}; },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return roadPopup(f.properties, cfg); });
      }
    });
    out.none = L.layerGroup();
    return out;
  }

  function hazardLayers(cfg) {
    return cfg.groups.map(function (g) {
      var layer = L.geoJSON(g.data, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, markerStyle(cfg, g.tier, g.status));
        },
        onEachFeature: function (f, layer) {
          layer.bindPopup(function () { return hazardPopup(f.properties, cfg); });
        }
      });
      return {tier: g.tier, status: g.status, layer: layer};
    });
  }

  function toggles(map, cfg, groups, roads) {
    var tierOn = {}, statusOn = {}, overlays = {}, bases = {};
    var labels = cfg.labels;
    function refresh() {
      groups.forEach(function (g) {
        var show = map.hasLayer(tierOn[g.tier]) && map.hasLayer(statusOn[g.status]);
        if (show && !map.hasLayer(g.layer)) g.layer.addTo(map);
        if (!show && map.hasLayer(g.layer)) map.removeLayer(g.layer);
      });
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
    L.control.layers(bases, overlays, {collapsed: cfg.collapsed}).addTo(map);
    map.on("overlayadd overlayremove", refresh);
    refresh();
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

  function search(map, cfg, groups, roads) {
    var control = L.control({position: "topleft"});
    var index = null;
    function build() {
      index = {hazards: {}, routes: {}};
      groups.forEach(function (g) {
        g.layer.eachLayer(function (m) {
          var p = m.feature.properties;
          index.hazards[String(p.id).toUpperCase()] = {marker: m, group: g};
          if (p.route) {
            var key = String(p.route).toUpperCase();
            (index.routes[key] = index.routes[key] || []).push(m.getLatLng());
          }
        });
      });
      if (roads.worst) {
        roads.worst.eachLayer(function (l) {
          var key = String(l.feature.properties.route).toUpperCase();
          index.routes[key] = (index.routes[key] || []).concat([l.getBounds()]);
        });
      }
    }
    function find(q, msg) {
      if (!index) build();
      var key = q.trim().toUpperCase();
      msg.textContent = "";
      var hit = index.hazards[key];
      if (hit) {
        if (!map.hasLayer(hit.group.layer)) hit.group.layer.addTo(map);
        map.setView(hit.marker.getLatLng(), Math.max(map.getZoom(), 16));
        hit.marker.openPopup();
        return true;
      }
      var route = index.routes[key];
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

  function draw(map, cfg) {
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    var roads = roadLayers(map, cfg);
    var groups = hazardLayers(cfg);
    toggles(map, cfg, groups, roads);
    legend(map, cfg);
    var find = cfg.search ? search(map, cfg, groups, roads) : null;
    var entry = {map: map, groups: groups, roads: roads, find: find, expected: cfg.count};
    registry.push(entry);
    return entry;
  }

  function featureCount() {
    var n = 0;
    registry.forEach(function (e) {
      e.groups.forEach(function (g) { n += g.layer.getLayers().length; });
    });
    return n;
  }

  window.HazardsMap = {draw: draw, registry: registry, featureCount: featureCount};
})();
