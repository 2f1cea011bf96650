/* 人工定位 (intake placements): pick the point of an imported case that could not be located, over the shared
   base layer (basemap.js); the chosen task's form posts lng/lat. */
(function () {
  "use strict";
  const el = document.getElementById("placement-map");
  if (!el || !window.L || !window.CGMap) return;
  const form = document.getElementById("place-form");
  const map = CGMap.create(el, {});
  fetch(el.dataset.geojsonUrl, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((fc) => {
      const layer = L.geoJSON(fc, {
        style: { color: "#1d4e89", weight: 1, fillOpacity: 0.12 },
        onEachFeature: (f, l) => l.bindTooltip(CGMap.label(f.properties.name), { sticky: true }),
      }).addTo(map);
      layer.on("click", (e) => choose(e.latlng));
      if (fc.features.length) map.fitBounds(layer.getBounds());
      else map.setView([30.27, 120.15], 14);
      el.dataset.loaded = String(fc.features.length);
    });
  let marker = null;
  function choose(latlng) {
    if (marker) marker.setLatLng(latlng);
    else marker = L.marker(latlng).addTo(map);
    document.getElementById("place-lng").value = latlng.lng.toFixed(6);
    document.getElementById("place-lat").value = latlng.lat.toFixed(6);
    document.getElementById("place-hint").textContent = `已选 (${latlng.lng.toFixed(5)}, ${latlng.lat.toFixed(5)})`;
    document.getElementById("place-submit").disabled = !form.getAttribute("action");
  }
  map.on("click", (e) => choose(e.latlng));
  document
    .querySelectorAll("input[name=task]")
    .forEach((r) => r.addEventListener("change", () => form.setAttribute("action", r.dataset.action)));
})();
