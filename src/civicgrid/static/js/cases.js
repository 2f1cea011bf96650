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

    initAddressProposal(el, form, map, place);

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

  /* Create form: the typed address is looked up in the address index; a match is proposed on the map as a
     draggable marker with its grid. "采用此位置" (or dragging the marker) sets the point; nothing is set before. */
  function initAddressProposal(el, form, map, place) {
    const input = form.querySelector("input[name=address]");
    const box = document.getElementById(el.dataset.proposal || "");
    if (!input || !box || !el.dataset.addressUrl) return;
    const text = box.querySelector("[data-proposal-text]");
    const accept = box.querySelector("[data-proposal-accept]");
    let marker = null;
    let proposed = null;
    let timer = null;
    let seq = 0;

    function clear() {
      if (marker) map.removeLayer(marker);
      marker = null;
      proposed = null;
      accept.hidden = true;
    }
    function show(message, tone) {
      text.textContent = message;
      box.className = `alert py-2 px-2 small mt-1 mb-0 alert-${tone}`;
      box.hidden = false;
    }
    function adopt(lng, lat) {
      place(lng, lat, true);
      clear();
      box.hidden = true;
    }
    let lastQuery = "";
    function lookup() {
      const q = input.value.trim();
      if (q === lastQuery) return; // e.g. the change event after typing: already looked up
      lastQuery = q;
      if (q.length < 2) {
        clear();
        box.hidden = true;
        return;
      }
      const mine = ++seq;
      fetch(`${el.dataset.addressUrl}?q=${encodeURIComponent(q)}`, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : { found: false }))
        .then((d) => {
          if (mine !== seq) return; // a newer lookup is under way
          clear();
          if (!d.found || !d.point) {
            show("地址库中未找到该地址，请在地图上点选问题位置。", "light");
            box.dataset.state = "none";
            return;
          }
          proposed = d.point;
          const where = d.building ? d.building.name : d.grid.name;
          show(
            `地址匹配：${where} · ${d.grid.name}（${d.grid.community}）。` +
              (d.point_source === "grid" ? "该楼宇无坐标，已标在网格中部；" : "") +
              "请确认位置，或拖动标记调整。",
            "info"
          );
          box.dataset.state = "proposed";
          box.dataset.grid = d.grid.code;
          accept.hidden = false;
          const icon = L.divIcon({ className: "cg-proposal-pin", iconSize: [22, 22], iconAnchor: [11, 11] });
          marker = L.marker([d.point.lat, d.point.lng], { draggable: true, icon, title: "拖动以调整位置" }).addTo(map);
          marker.bindTooltip(CG.label(where, d.grid.name));
          marker.on("dragend", () => {
            const p = marker.getLatLng();
            adopt(p.lng, p.lat);
          });
          map.setView([d.point.lat, d.point.lng], Math.max(map.getZoom(), 16));
        })
        .catch(() => {});
    }
    accept.addEventListener("click", () => {
      if (proposed) adopt(proposed.lng, proposed.lat);
    });
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(lookup, 500);
    });
    input.addEventListener("change", () => {
      clearTimeout(timer);
      lookup();
    });
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
