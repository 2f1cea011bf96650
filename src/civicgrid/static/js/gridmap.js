/* Grid map: the user's visible grids over the shared base layer (basemap.js) and the grid of a clicked point. */
(function () {
  const el = document.getElementById("grid-map");
  if (!el || !window.L || !window.CGMap) return;
  const palette = ["#1d4e89", "#2e9d4f", "#c8102e", "#f29f05", "#7b2cbf", "#0096c7", "#6a994e", "#bc4749", "#3d5a80", "#e07a5f"];
  const map = CGMap.create(el, { zoomControl: true });
  const base = CGMap.hasBase(); // streets or tiles underneath: lighter fills let them show
  const communityColor = {};
  let next = 0;
  fetch(el.dataset.geojsonUrl, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((fc) => {
      const layer = L.geoJSON(fc, {
        style: (f) => {
          const c = f.properties.community_code;
          if (!(c in communityColor)) communityColor[c] = palette[next++ % palette.length];
          const dedicated = f.properties.kind === "dedicated";
          return { color: dedicated ? "#000" : communityColor[c], weight: dedicated ? 2 : 1, dashArray: dedicated ? "4 3" : null,
                   fillColor: communityColor[c], fillOpacity: (dedicated ? 0.45 : 0.22) * (base ? 0.5 : 1) };
        },
        onEachFeature: (f, l) => {
          l.bindTooltip(CGMap.label(f.properties.name, f.properties.community), { sticky: true });
        },
      }).addTo(map);
      if (fc.features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      else map.setView([30.27, 120.15], 14);
      el.dataset.loaded = String(fc.features.length);
      const legend = L.control({ position: "bottomright" });
      legend.onAdd = () => {
        const d = L.DomUtil.create("div", "cg-legend");
        const names = {};
        fc.features.forEach((f) => (names[f.properties.community_code] = f.properties.community));
        Object.keys(names).sort().forEach((c) => {
          const row = L.DomUtil.create("div", "", d);
          const swatch = L.DomUtil.create("i", "", row);
          swatch.style.background = communityColor[c];
          row.appendChild(document.createTextNode(names[c]));
        });
        return d;
      };
      legend.addTo(map);
    });
  const hint = document.getElementById("map-hint");
  map.on("click", (e) => {
    const url = `${el.dataset.lookupUrl}?lng=${e.latlng.lng.toFixed(6)}&lat=${e.latlng.lat.toFixed(6)}`;
    fetch(url, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((d) => {
        const text = d.grid ? `${d.grid.name}（${d.grid.code}）· ${d.grid.community}` : "该点不在任何网格内";
        if (hint) hint.textContent = `(${e.latlng.lng.toFixed(5)}, ${e.latlng.lat.toFixed(5)})：${text}`;
        L.popup().setLatLng(e.latlng).setContent(CGMap.label(text)).openOn(map);
      });
  });
})();
