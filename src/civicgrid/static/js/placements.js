/* 待定位队列: pick a queued case, click where it happened, confirm. Grid names are escaped into the tooltips. */
(function () {
  "use strict";
  const el = document.getElementById("placement-map");
  if (!el || !window.L) return;
  const form = document.getElementById("place-form");
  const map = L.map(el, { attributionControl: false });
  fetch(el.dataset.geojsonUrl, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((fc) => {
      const layer = L.geoJSON(fc, {
        style: { color: "#1d4e89", weight: 1, fillOpacity: 0.12 },
        onEachFeature: (f, l) => l.bindTooltip(CG.esc(f.properties.name), { sticky: true }),
      }).addTo(map);
      if (fc.features.length) map.fitBounds(layer.getBounds());
      else map.setView([30.27, 120.15], 14);
      el.dataset.loaded = String(fc.features.length);
    });
  let marker = null;
  map.on("click", (e) => {
    if (marker) marker.setLatLng(e.latlng);
    else marker = L.marker(e.latlng).addTo(map);
    document.getElementById("place-lng").value = e.latlng.lng.toFixed(6);
    document.getElementById("place-lat").value = e.latlng.lat.toFixed(6);
    document.getElementById("place-hint").textContent = `已选 (${e.latlng.lng.toFixed(5)}, ${e.latlng.lat.toFixed(5)})`;
    document.getElementById("place-submit").disabled = !form.getAttribute("action");
  });
  document
    .querySelectorAll("input[name=task]")
    .forEach((r) => r.addEventListener("change", () => form.setAttribute("action", r.dataset.action)));
})();
