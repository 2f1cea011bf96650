/* 重点项目 on the map: the board's map of the year's projects (red: 滞后, green: on track; a popup links to the
   project) and the project page's small map (its point; a click moves it when the user can edit, and the form
   below posts it). Points come as JSON in <script id="goals-points"> (json_script); text goes in as text nodes. */
(function () {
  "use strict";

  const FALLBACK = [30.27, 120.15];

  function pin(kind) {
    return L.divIcon({ className: `goals-pin goals-pin-${kind}`, iconSize: [16, 16], iconAnchor: [8, 8] });
  }

  function center(el) {
    const lng = Number(el.dataset.centerLng);
    const lat = Number(el.dataset.centerLat);
    return el.dataset.centerLng && el.dataset.centerLat && !Number.isNaN(lng) && !Number.isNaN(lat)
      ? [lat, lng]
      : FALLBACK;
  }

  function popup(p) {
    const box = document.createElement("div");
    const a = document.createElement("a");
    a.href = p.url;
    a.textContent = p.name;
    a.className = "fw-semibold";
    box.appendChild(a);
    const line = document.createElement("div");
    line.className = "small";
    line.textContent = `${p.category} · 完成率 ${p.rate === null ? "—" : p.rate + "%"}${p.lagging ? " · 滞后" : ""}`;
    box.appendChild(line);
    return box;
  }

  // --- the board ---
  const board = document.getElementById("goals-map");
  const data = document.getElementById("goals-points");
  if (board && data && window.L && window.CGMap) {
    const points = JSON.parse(data.textContent);
    const map = CGMap.create(board, { zoomControl: true });
    const group = L.featureGroup().addTo(map);
    points.forEach((p) => {
      L.marker([p.lat, p.lng], { icon: pin(p.lagging ? "lag" : "ok"), title: p.name, alt: p.name })
        .bindPopup(popup(p))
        .addTo(group);
    });
    if (points.length) map.fitBounds(group.getBounds(), { padding: [24, 24], maxZoom: 16, animate: false });
    else map.setView(center(board), 14);
    board.dataset.loaded = String(points.length);
  }

  // --- a project ---
  const one = document.getElementById("project-map");
  if (one && window.L && window.CGMap) {
    const map = CGMap.create(one, { zoomControl: true });
    const lng = one.dataset.lng ? Number(one.dataset.lng) : null;
    const lat = one.dataset.lat ? Number(one.dataset.lat) : null;
    let marker = null;
    const put = (la, lo) => {
      if (marker) marker.setLatLng([la, lo]);
      else marker = L.marker([la, lo], { icon: pin(one.dataset.lagging === "1" ? "lag" : "ok") }).addTo(map);
    };
    if (lng !== null && lat !== null && !Number.isNaN(lng) && !Number.isNaN(lat)) {
      put(lat, lng);
      map.setView([lat, lng], 16);
    } else {
      map.setView(center(one), 14);
    }
    const form = document.getElementById("location-form");
    if (form) {
      const inLng = form.querySelector("[name=lng]");
      const inLat = form.querySelector("[name=lat]");
      map.on("click", (e) => {
        put(e.latlng.lat, e.latlng.lng);
        inLng.value = e.latlng.lng.toFixed(6);
        inLat.value = e.latlng.lat.toFixed(6);
        form.dataset.picked = "1";
      });
    }
    one.dataset.loaded = "1";
  }
})();
