/* 安全隐患: the phone checklist (show a failed item's hazard fields, the chosen target's picker) and the 四色地图.
   No HTML strings: tooltips are CG.label() nodes (safe.js). */
(function () {
  "use strict";

  // --- the checklist form ---
  const form = document.getElementById("inspect-form");
  if (form) {
    const kind = document.getElementById("target-kind");
    const showTarget = () => {
      form.querySelectorAll("[data-target]").forEach((el) => {
        el.hidden = el.dataset.target !== kind.value;
      });
    };
    kind.addEventListener("change", showTarget);
    showTarget();
    form.querySelectorAll(".cg-check-item").forEach((card) => {
      const sync = () => {
        const checked = card.querySelector("input[type=radio]:checked");
        const failed = checked && checked.value === "fail";
        card.classList.toggle("cg-failed", failed);
        card.classList.toggle("cg-passed", !failed);
      };
      card.querySelectorAll("input[type=radio]").forEach((r) => r.addEventListener("change", sync));
      sync();
    });
  }

  // --- the 四色地图 ---
  const el = document.getElementById("hazard-map");
  if (!el || !window.L || !window.CGMap) return;
  const HEX = { red: "#d62728", orange: "#ff7f0e", yellow: "#f2c500", blue: "#1f77b4" };
  const NAMES = { red: "红", orange: "橙", yellow: "黄", blue: "蓝" };
  const KIND = { community: "社区", building: "楼宇/小区", unit: "单位" };
  const map = CGMap.create(el, { zoomControl: true });
  const tip = (p) =>
    CG.label(
      `${p.name}（${KIND[p.kind]}${p.building_kind ? " · " + p.building_kind : ""}）`,
      `${NAMES[p.color]}色 · 分值 ${p.score}`,
      `未销号隐患 ${p.open} · 逾期 ${p.overdue} · 消防设施缺陷 ${p.defects}`
    );
  fetch(el.dataset.url, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      const group = L.featureGroup().addTo(map);
      const counts = { red: 0, orange: 0, yellow: 0, blue: 0 };
      data.places.forEach((p) => {
        counts[p.color] += 1;
        const color = HEX[p.color];
        if (p.kind === "community" && p.geometry) {
          L.geoJSON(p.geometry, { style: { color: color, weight: 2, fillColor: color, fillOpacity: 0.15 } })
            .bindTooltip(tip(p), { sticky: true })
            .addTo(group);
        } else if (p.lng !== null && p.lng !== undefined && p.lat !== null && p.lat !== undefined) {
          L.circleMarker([p.lat, p.lng], {
            radius: p.kind === "unit" ? 5 : 8,
            color: "#333",
            weight: 1,
            fillColor: color,
            fillOpacity: 0.9,
          })
            .bindTooltip(tip(p))
            .addTo(group);
        }
      });
      if (group.getLayers().length) map.fitBounds(group.getBounds(), { padding: [10, 10] });
      else map.setView([30.27, 120.15], 14);
      el.dataset.loaded = String(data.places.length);
      const box = document.getElementById("map-counts");
      if (box) {
        Object.keys(counts).forEach((c) => {
          const row = document.createElement("div");
          const sw = document.createElement("span");
          sw.className = `cg-swatch cg-swatch-${c}`;
          row.appendChild(sw);
          row.appendChild(document.createTextNode(` ${NAMES[c]}色 ${counts[c]} 处`));
          row.dataset.color = c;
          box.appendChild(row);
        });
      }
    });
})();
