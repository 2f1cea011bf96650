/* The shared base layer of every map page (首页网格地图, 案件详情/上报, 随手拍, 网格员上报, 人工定位).

   The deployment's choice arrives as JSON in <script id="cg-basemap"> (settings.CIVICGRID["BASEMAP"], see
   civicgrid/core/basemap.py): tile layers (天地图, any XYZ server, 高德/腾讯) or, without tiles, the stored vector
   base (roads, buildings, labels) drawn under the grids. Data stays in WGS-84: on GCJ-02 tiles (高德/腾讯) the map
   projects through GCJ-02 (a Leaflet CRS), so polygons, pins and clicks line up with the tiles with no per-layer
   shifting. CGMap.wgsToGcj / gcjToWgs are the same formulas as civicgrid/core/gcj02.py.

   Usage: const map = CGMap.create(el, { zoomControl: true });  (instead of L.map(el, …)) */
(function () {
  "use strict";

  // --- WGS-84 ↔ GCJ-02 -----------------------------------------------------------------------------
  const A = 6378245.0;
  const EE = 0.00669342162296594323;
  const PI = Math.PI;

  function outOfChina(lng, lat) {
    return !(lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  function dLat(x, y) {
    let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
    r += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
    r += ((160.0 * Math.sin((y / 12.0) * PI) + 320.0 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
    return r;
  }

  function dLng(x, y) {
    let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
    r += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
    r += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
    return r;
  }

  /* [lng, lat] WGS-84 → [lng, lat] GCJ-02 (unchanged outside China). */
  function wgsToGcj(lng, lat) {
    if (outOfChina(lng, lat)) return [lng, lat];
    let la = dLat(lng - 105.0, lat - 35.0);
    let lo = dLng(lng - 105.0, lat - 35.0);
    const rad = (lat / 180.0) * PI;
    const s = Math.sin(rad);
    const magic = 1 - EE * s * s;
    const sq = Math.sqrt(magic);
    la = (la * 180.0) / (((A * (1 - EE)) / (magic * sq)) * PI);
    lo = (lo * 180.0) / ((A / sq) * Math.cos(rad) * PI);
    return [lng + lo, lat + la];
  }

  /* [lng, lat] GCJ-02 → [lng, lat] WGS-84: the exact inverse, by fixed-point iteration. */
  function gcjToWgs(lng, lat) {
    if (outOfChina(lng, lat)) return [lng, lat];
    let wl = lng;
    let wa = lat;
    for (let i = 0; i < 30; i++) {
      const g = wgsToGcj(wl, wa);
      const el = g[0] - lng;
      const ea = g[1] - lat;
      wl -= el;
      wa -= ea;
      if (Math.abs(el) < 1e-10 && Math.abs(ea) < 1e-10) break;
    }
    return [wl, wa];
  }

  // --- configuration -------------------------------------------------------------------------------
  function readConfig() {
    const node = document.getElementById("cg-basemap");
    let conf = null;
    if (node) {
      try {
        conf = JSON.parse(node.textContent);
      } catch (e) {
        conf = null;
      }
    }
    return conf || { kind: "none", crs: "wgs84", layers: [], vector: null };
  }

  function escapeText(s) {
    return String(s || "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  const maps = []; // every map made here (pages keep theirs in closures; tests and tools find them here)
  let gcjCrs = null;
  function crsFor(conf) {
    if (!window.L || conf.crs !== "gcj02") return window.L ? L.CRS.EPSG3857 : null;
    if (!gcjCrs) {
      const merc = L.Projection.SphericalMercator;
      const projection = {
        bounds: merc.bounds,
        project(latlng) {
          const g = wgsToGcj(latlng.lng, latlng.lat);
          return merc.project(L.latLng(g[1], g[0]));
        },
        unproject(point) {
          const ll = merc.unproject(point);
          const w = gcjToWgs(ll.lng, ll.lat);
          return L.latLng(w[1], w[0]);
        },
      };
      // Web Mercator over GCJ-02: the tile grid is the providers' own; every latlng given to or read from the
      // map (GeoJSON, markers, clicks) is WGS-84
      gcjCrs = L.extend({}, L.CRS.EPSG3857, { code: "GCJ02:3857", projection });
    }
    return gcjCrs;
  }

  // --- the vector base -----------------------------------------------------------------------------
  const ROAD_CASING = { color: "#c9c2b8", opacity: 1, lineCap: "butt", lineJoin: "round" };
  const ROAD_FILL = { color: "#ffffff", opacity: 1, lineCap: "butt", lineJoin: "round" };
  const AREA_STYLE = {
    estate: { color: "#e3dccf", weight: 1, fillColor: "#efe9df", fillOpacity: 1 },
    green: { color: "#b5d99c", weight: 1, fillColor: "#d4ecc0", fillOpacity: 1 },
    water: { color: "#8fc1d8", weight: 1, fillColor: "#aad3df", fillOpacity: 1 },
  };
  const BUILDING_STYLE = { color: "#b9aea2", weight: 1, fillColor: "#d9cfc4", fillOpacity: 1 };

  function labelMarker(feature, pane) {
    const p = feature.properties || {};
    const c = feature.geometry.coordinates;
    const span = document.createElement("span");
    span.textContent = p.name || ""; // data → text node, never HTML
    const cls = `cg-base-label cg-base-label-${(p.subtype || "place").replace(/[^a-z]/g, "")}`;
    const icon = L.divIcon({ className: cls, html: span, iconSize: null });
    return L.marker([c[1], c[0]], { icon, pane, interactive: false, keyboard: false });
  }

  function drawVector(map, url, el) {
    if (!map.getPane("cg-base")) {
      map.createPane("cg-base").style.zIndex = 250; // under the grids (overlayPane 400)
      map.createPane("cg-base-labels").style.zIndex = 450; // over the grid fills, under pins (markerPane 600)
      map.getPane("cg-base-labels").style.pointerEvents = "none";
    }
    return fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { features: [] }))
      .then((fc) => {
        const feats = fc.features || [];
        const by = (kind) => feats.filter((f) => f.properties && f.properties.kind === kind);
        const areas = L.geoJSON(by("area"), {
          pane: "cg-base",
          interactive: false,
          style: (f) => AREA_STYLE[f.properties.subtype] || AREA_STYLE.estate,
        });
        const roads = by("road");
        const width = (f) => [5, 8, 12][Math.min(f.properties.level || 0, 2)];
        const casing = L.geoJSON(roads, { pane: "cg-base", interactive: false, style: (f) => ({ ...ROAD_CASING, weight: width(f) + 2 }) });
        const fill = L.geoJSON(roads, {
          pane: "cg-base",
          interactive: false,
          style: (f) => ({ ...ROAD_FILL, weight: width(f), color: (f.properties.level || 0) >= 2 ? "#fde7b5" : "#ffffff" }),
        });
        const buildings = L.geoJSON(by("building"), { pane: "cg-base", interactive: false, style: BUILDING_STYLE });
        const labels = by("label").map((f) => ({ level: f.properties.level || 0, marker: labelMarker(f, "cg-base-labels") }));
        [areas, casing, fill, buildings].forEach((l) => l.addTo(map));
        // labels by importance: level 3 from zoom 12, 2 from 14, 1 from 15, 0 from 16
        const minZoom = { 3: 12, 2: 14, 1: 15, 0: 16 };
        function showLabels() {
          const z = map.getZoom();
          labels.forEach((l) => {
            const on = z >= (minZoom[Math.min(l.level, 3)] || 16);
            if (on && !map.hasLayer(l.marker)) l.marker.addTo(map);
            else if (!on && map.hasLayer(l.marker)) map.removeLayer(l.marker);
          });
        }
        map.on("zoomend", showLabels);
        if (map._loaded) showLabels();
        else map.whenReady(showLabels);
        el.dataset.basemapFeatures = String(feats.length);
        return fc;
      })
      .catch(() => {
        el.dataset.basemapFeatures = "error";
      });
  }

  // --- the map -------------------------------------------------------------------------------------
  function create(el, options) {
    const conf = readConfig();
    const layers = conf.layers || [];
    const attributions = layers.map((l) => l.attribution).filter(Boolean);
    const map = L.map(el, {
      maxZoom: 19,
      ...(options || {}),
      crs: crsFor(conf),
      attributionControl: attributions.length > 0,
    });
    if (map.attributionControl) map.attributionControl.setPrefix(false);
    const tiles = layers.map((l) =>
      L.tileLayer(l.url, {
        subdomains: l.subdomains && l.subdomains.length ? l.subdomains : "abc",
        minZoom: l.minZoom || 0,
        maxZoom: 19,
        maxNativeZoom: l.maxZoom || 18,
        attribution: escapeText(l.attribution), // Leaflet writes attributions as HTML
      }).addTo(map)
    );
    el.classList.add(`cg-basemap-${conf.kind}`);
    el.dataset.basemap = conf.kind;
    el.dataset.basemapCrs = conf.crs;
    map.cgTiles = tiles;
    map.cgVector = conf.vector ? drawVector(map, conf.vector, el) : Promise.resolve(null);
    if (conf.vector) el.classList.add("cg-basemap-vector");
    maps.push(map);
    return map;
  }

  /* Tooltip/popup content from data: safe.js's CG.label (text nodes, never HTML). */
  const label = (...lines) => CG.label(...lines);

  /* Whether a base (tiles or the vector base) is drawn: overlays then use lighter fills so it shows through. */
  function hasBase() {
    const conf = readConfig();
    return Boolean(conf.vector) || (conf.layers || []).length > 0;
  }

  window.CGMap = { create, config: readConfig, wgsToGcj, gcjToWgs, outOfChina, crsFor, label, maps, hasBase };
})();
