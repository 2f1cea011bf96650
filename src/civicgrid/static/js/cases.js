/* Case screens: the case map (grid polygon + pin over the shared base layer), the create-form map picker,
   the searchable category select and small htmx niceties. */
(function () {
  "use strict";

  const PIN_STYLE = { radius: 9, color: "#fff", weight: 3, fillColor: "#c8102e", fillOpacity: 1 };

  function newMap(el) {
    return CGMap.create(el, { zoomControl: true, preferCanvas: false, tap: true });
  }

  function fetchGrids(url) {
    return fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : { features: [] }));
  }

  /* Detail page: the case's grid polygon and its pin. */
  function initCaseMap(el) {
    if (el.dataset.ready) return;
    el.dataset.ready = "1";
    const map = newMap(el);
    const gridId = el.dataset.gridId ? Number(el.dataset.gridId) : null;
    const lng = el.dataset.lng ? Number(el.dataset.lng) : null;
    const lat = el.dataset.lat ? Number(el.dataset.lat) : null;
    const hasPin = lng !== null && lat !== null && !Number.isNaN(lng) && !Number.isNaN(lat);
    let pin = null;
    if (hasPin) {
      pin = L.circleMarker([lat, lng], PIN_STYLE).addTo(map);
      if (el.dataset.address) pin.bindTooltip(CGMap.label(el.dataset.address));
      map.setView([lat, lng], 16);
    } else {
      map.setView([30.27, 120.15], 14);
    }
    fetchGrids(el.dataset.geojsonUrl).then((fc) => {
      const own = fc.features.filter((f) => gridId !== null && f.id === gridId);
      const layer = L.geoJSON(own, {
        style: { color: "#1d4e89", weight: 2, fillColor: "#1d4e89", fillOpacity: 0.15 },
        onEachFeature: (f, l) => l.bindTooltip(CGMap.label(f.properties.name, f.properties.community)),
      }).addTo(map);
      if (pin) pin.bringToFront();
      if (own.length) {
        const bounds = layer.getBounds();
        if (pin) bounds.extend(pin.getLatLng());
        map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17, animate: false });
      }
      el.dataset.loaded = String(own.length);
    });
  }

  /* Create form: click (or tap) sets lng/lat and shows the grid it falls in. */
  function initPickerMap(el) {
    if (el.dataset.ready) return;
    el.dataset.ready = "1";
    const form = el.closest("form");
    const lngInput = form.querySelector("input[name=lng]");
    const latInput = form.querySelector("input[name=lat]");
    const hint = document.getElementById(el.dataset.hint);
    const map = newMap(el);
    let pin = null;

    function place(lng, lat, pan) {
      lngInput.value = lng.toFixed(6);
      latInput.value = lat.toFixed(6);
      if (pin) pin.setLatLng([lat, lng]);
      else pin = L.circleMarker([lat, lng], PIN_STYLE).addTo(map);
      pin.bringToFront();
      if (pan) map.panTo([lat, lng]);
      if (hint) hint.textContent = "正在查询所属网格…";
      fetch(`${el.dataset.lookupUrl}?lng=${lng.toFixed(6)}&lat=${lat.toFixed(6)}`, { credentials: "same-origin" })
        .then((r) => r.json())
        .then((d) => {
          if (!hint) return;
          hint.textContent = d.grid
            ? `已定位：${d.grid.name}（${d.grid.code}）· ${d.grid.community}`
            : "该点不在您可见的任何网格内（仍可提交，由指挥中心确定网格）";
          hint.classList.toggle("text-success", !!d.grid);
          hint.classList.toggle("text-warning", !d.grid);
          el.dataset.grid = d.grid ? d.grid.code : "";
        });
    }

    fetchGrids(el.dataset.geojsonUrl).then((fc) => {
      const layer = L.geoJSON(fc, {
        style: (f) => ({
          color: f.properties.kind === "dedicated" ? "#000" : "#1d4e89",
          weight: 1,
          fillColor: "#1d4e89",
          fillOpacity: 0.1,
        }),
        onEachFeature: (f, l) => l.bindTooltip(CGMap.label(f.properties.name), { sticky: true }),
      }).addTo(map);
      // a click on a polygon must still set the point
      layer.on("click", (e) => place(e.latlng.lng, e.latlng.lat, false));
      if (fc.features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10], animate: false });
      else map.setView([30.27, 120.15], 14);
      if (lngInput.value && latInput.value) place(Number(lngInput.value), Number(latInput.value), true);
      el.dataset.loaded = String(fc.features.length);
    });
    map.on("click", (e) => place(e.latlng.lng, e.latlng.lat, false));

    const locate = form.querySelector("[data-locate]");
    if (locate && navigator.geolocation) {
      locate.addEventListener("click", () => {
        navigator.geolocation.getCurrentPosition(
          (p) => place(p.coords.longitude, p.coords.latitude, true),
          () => hint && (hint.textContent = "无法获取当前位置，请在地图上点选"),
          { enableHighAccuracy: true, timeout: 8000 }
        );
      });
    } else if (locate) {
      locate.hidden = true;
    }
  }

  /* A text box that narrows a <select> with <optgroup>s (category picker). */
  function initSelectSearch(input) {
    if (input.dataset.ready) return;
    input.dataset.ready = "1";
    const select = document.getElementById(input.dataset.selectSearch);
    if (!select) return;
    input.addEventListener("input", () => {
      const q = input.value.trim().toLowerCase();
      let firstMatch = null;
      select.querySelectorAll("optgroup").forEach((group) => {
        let any = false;
        const groupHit = group.label.toLowerCase().includes(q);
        group.querySelectorAll("option").forEach((o) => {
          const hit = !q || groupHit || o.textContent.toLowerCase().includes(q);
          o.hidden = !hit;
          if (hit) {
            any = true;
            if (!firstMatch) firstMatch = o;
          }
        });
        group.hidden = !any;
      });
      select.querySelectorAll(":scope > option").forEach((o) => {
        if (o.value) o.hidden = q && !o.textContent.toLowerCase().includes(q);
      });
      if (q && firstMatch && (!select.value || select.selectedOptions[0].hidden)) select.value = firstMatch.value;
    });
  }

  function initAll(root) {
    if (window.L) {
      root.querySelectorAll("[data-case-map]").forEach(initCaseMap);
      root.querySelectorAll("[data-picker-map]").forEach(initPickerMap);
    }
    root.querySelectorAll("[data-select-search]").forEach(initSelectSearch);
    // forms that must not be sent twice: disable the submit button once sent
    root.querySelectorAll("form[data-once]").forEach((f) => {
      if (f.dataset.onceReady) return;
      f.dataset.onceReady = "1";
      f.addEventListener("submit", () => {
        f.querySelectorAll("button[type=submit]").forEach((b) => {
          b.disabled = true;
          b.dataset.originalText = b.textContent;
          b.textContent = "提交中…";
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    // on a phone the list filters start folded (unless some are set) so the results are on the first screen
    if (window.matchMedia("(max-width: 576px)").matches && !location.search) {
      document.querySelectorAll("details.cg-filter[open]").forEach((d) => (d.open = false));
    }
    initAll(document);
  });
  document.body.addEventListener("htmx:afterSwap", (e) => initAll(e.target));
  // htmx swaps 4xx answers we render on purpose (validation errors, 409 conflict) too
  document.body.addEventListener("htmx:beforeSwap", (e) => {
    const status = e.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
