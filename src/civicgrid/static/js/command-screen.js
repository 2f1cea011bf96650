/* 指挥中心大屏: draws everything from screen/data.json (civicgrid.command.selectors.screen) and reloads it every
   data-refresh seconds. Every figure is a link to the case list behind it. Text reaches the page only through
   textContent or CG.esc (see safe.js). Charts: ECharts (toolbox → 保存为 PNG); the grid heat map: Leaflet. */
(function () {
  "use strict";
  const root = document.getElementById("cg-screen");
  if (!root || !window.echarts || !window.L) return;
  const url = root.dataset.url;
  const refresh = Math.max(10, parseInt(root.dataset.refresh, 10) || 60) * 1000;
  const TEXT = "#cfe3ff";
  const AXIS = { axisLine: { lineStyle: { color: "#3d5a80" } }, axisLabel: { color: TEXT }, splitLine: { lineStyle: { color: "#1b2b45" } } };
  const LIGHT_COLORS = { green: "#2ecc71", yellow: "#f1c40f", red: "#e74c3c", none: "#7f8c8d" };
  const toolbox = { right: 6, top: 0, iconStyle: { borderColor: TEXT }, feature: { saveAsImage: { title: "保存为PNG", backgroundColor: "#0b1a33", pixelRatio: 2 } } };
  const charts = {};
  window.CGCommand = { charts: charts, loads: 0 };

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }
  function go(link) {
    if (link) window.location.href = link;
  }
  function fmt(v, pct) {
    if (v === null || v === undefined) return "—";
    return pct ? v.toFixed(1) + "%" : String(v);
  }
  function tip(p) {
    return CG.esc(p.name) + "：" + CG.esc(p.value) + (p.percent !== undefined ? "（" + p.percent + "%）" : "");
  }

  function kpis(h) {
    const links = { received_today: h.received_today_url, done_today: h.done_today_url, open: h.open_url };
    Object.keys(h).forEach(function (k) {
      const el = document.getElementById("kpi-" + k);
      if (!el) return;
      el.querySelector("b").textContent = fmt(h[k], k.indexOf("rate") >= 0);
      if (links[k]) el.href = links[k];
    });
  }

  function pie(id, rows, colors) {
    const c = chart(id);
    c.setOption({
      backgroundColor: "transparent", animation: false, toolbox: toolbox,
      tooltip: { trigger: "item", formatter: tip },
      legend: { bottom: 0, textStyle: { color: TEXT }, type: "scroll", pageTextStyle: { color: TEXT } },
      series: [{ type: "pie", radius: ["38%", "66%"], center: ["50%", "45%"], label: { color: TEXT, formatter: "{b}\n{c}" },
        data: rows.map(function (r) { return { name: r.label, value: r.n, link: r.url, itemStyle: colors ? { color: colors[r.light] } : undefined }; }) }],
    }, true);
    c.off("click");
    c.on("click", function (p) { go(p.data && p.data.link); });
  }

  function bars(id, rows) {
    const c = chart(id);
    const top = rows.slice().reverse();
    c.setOption({
      backgroundColor: "transparent", animation: false, toolbox: toolbox, grid: { left: 110, right: 40, top: 24, bottom: 10 },
      tooltip: { trigger: "item", formatter: tip },
      xAxis: Object.assign({ type: "value" }, AXIS),
      yAxis: Object.assign({ type: "category", data: top.map(function (r) { return r.label; }) }, AXIS),
      series: [{ type: "bar", barWidth: "55%", itemStyle: { color: "#00b4d8" }, label: { show: true, position: "right", color: TEXT },
        data: top.map(function (r) { return { value: r.n, name: r.label, link: r.url }; }) }],
    }, true);
    c.off("click");
    c.on("click", function (p) { go(p.data && p.data.link); });
  }

  function trend(t) {
    chart("ch-trend").setOption({
      backgroundColor: "transparent", animation: false, toolbox: toolbox, grid: { left: 46, right: 20, top: 34, bottom: 28 },
      tooltip: { trigger: "axis" }, legend: { top: 0, left: 0, textStyle: { color: TEXT } },
      xAxis: Object.assign({ type: "category", data: t.labels }, AXIS),
      yAxis: Object.assign({ type: "value", minInterval: 1 }, AXIS),
      series: [
        { name: "受理", type: "line", smooth: true, smoothMonotone: "x", data: t.received, areaStyle: { opacity: 0.15 }, itemStyle: { color: "#4cc9f0" } },
        { name: "办结", type: "line", smooth: true, smoothMonotone: "x", data: t.done, itemStyle: { color: "#2ecc71" } },
      ],
    }, true);
  }

  let map = null;
  let gridLayer = null;
  function heat(fc) {
    if (!map) {
      map = L.map("cgs-map", { zoomControl: false, attributionControl: false });
      map.setView([30.27, 120.15], 14);
    }
    if (gridLayer) map.removeLayer(gridLayer);
    const max = Math.max(1, fc.max || 0);
    gridLayer = L.geoJSON(fc, {
      style: function (f) {
        const x = f.properties.received / max;
        const hue = 200 - Math.round(200 * x); // blue (few) → red (many)
        return { color: "#8ecae6", weight: 1, fillColor: "hsl(" + hue + ",85%,50%)", fillOpacity: 0.25 + 0.55 * x };
      },
      onEachFeature: function (f, layer) {
        const p = f.properties;
        layer.bindTooltip(CG.label(p.name + "：" + p.received + " 件", p.community + " · 在办 " + p.open + " 件"), { sticky: true });
        layer.on("click", function () { go(p.url); });
      },
    }).addTo(map);
    root.querySelector("#cgs-map").dataset.grids = String(fc.features.length);
    if (fc.features.length && !map._cgFitted) {
      map.fitBounds(gridLayer.getBounds(), { padding: [8, 8] });
      map._cgFitted = true;
    }
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function table(boxId, head, rows, fill) {
    const box = document.getElementById(boxId);
    const t = document.createElement("table");
    const hr = document.createElement("tr");
    head.forEach(function (h) { const th = document.createElement("th"); th.textContent = h; hr.appendChild(th); });
    const thead = document.createElement("thead");
    thead.appendChild(hr);
    t.appendChild(thead);
    const tb = document.createElement("tbody");
    rows.forEach(function (r) { const tr = document.createElement("tr"); fill(tr, r); tb.appendChild(tr); });
    if (!rows.length) { const tr = document.createElement("tr"); cell(tr, "无", "cgs-empty").colSpan = head.length; tb.appendChild(tr); }
    t.appendChild(tb);
    box.replaceChildren(t);
  }

  function link(td, text, href) {
    td.textContent = "";
    const a = document.createElement("a");
    a.textContent = text;
    a.href = href;
    td.appendChild(a);
  }

  function ledgers(list) {
    const box = document.getElementById("cgs-ledgers");
    box.replaceChildren();
    list.forEach(function (l) {
      const card = document.createElement("a");
      card.className = "cgs-ledger";
      card.dataset.ledger = l.code;
      if (l.url) card.href = l.url;
      const h = document.createElement("h3");
      h.textContent = l.label + "（本月）";
      card.appendChild(h);
      l.figures.forEach(function (f) {
        const row = document.createElement("div");
        const b = document.createElement("b");
        b.textContent = f.value === null ? "—" : String(f.value);
        row.appendChild(document.createTextNode(f.label + " "));
        row.appendChild(b);
        row.appendChild(document.createTextNode(" " + f.unit));
        card.appendChild(row);
      });
      box.appendChild(card);
    });
  }

  function warnings(a) {
    const box = document.getElementById("cgs-warnings");
    const all = document.getElementById("cgs-warnings-all");
    document.getElementById("cgs-warnings-total").textContent = a && a.registered ? String(a.total) : "—";
    all.hidden = !(a && a.url);
    if (a && a.url) all.href = a.url;
    box.replaceChildren();
    if (!a || !a.registered || !a.items.length) {
      const p = document.createElement("div");
      p.className = "cgs-empty";
      p.dataset.testid = "screen-warnings-empty";
      p.textContent = a && a.registered ? "暂无未处置的预警" : "未接入预警";
      box.appendChild(p);
      return;
    }
    a.items.forEach(function (w) {
      const row = document.createElement(w.url ? "a" : "div");
      row.className = "cgs-warn";
      row.dataset.testid = "screen-warning";
      if (w.url) row.href = w.url;
      row.title = w.title + "：" + w.message;
      const tag = document.createElement("span");
      tag.className = "cgs-tag cgs-tag-" + w.level;
      tag.textContent = w.tag;
      const at = document.createElement("time");
      at.textContent = w.at;
      const msg = document.createElement("small");
      msg.textContent = w.message;
      row.appendChild(at);
      row.appendChild(tag);
      row.appendChild(document.createTextNode(w.title));
      row.appendChild(msg);
      box.appendChild(row);
    });
  }

  function draw(d) {
    document.getElementById("cgs-time").textContent = d.generated_at;
    document.getElementById("cgs-street").textContent = d.street ? " · " + d.street : "";
    kpis(d.headline);
    pie("ch-intake", d.intake);
    pie("ch-lights", d.lights, LIGHT_COLORS);
    bars("ch-categories", d.categories);
    trend(d.trend);
    heat(d.grids);
    table("cgs-overdue", ["编号", "标题", "处置部门", "超时(小时)"], d.overdue, function (tr, r) {
      link(cell(tr, ""), r.number || "—", r.url);
      cell(tr, r.title, "cgs-ellipsis");
      cell(tr, r.department);
      cell(tr, r.overdue_hours === null ? "—" : String(r.overdue_hours), "cgs-num cgs-red");
    });
    table("cgs-depts", ["部门", "派遣", "办结", "按期率", "响应率", "在办", "超时"], d.departments, function (tr, r) {
      cell(tr, r.name, "cgs-ellipsis");
      cell(tr, String(r.dispatched), "cgs-num");
      cell(tr, String(r.done), "cgs-num");
      cell(tr, fmt(r.on_time_rate, true), "cgs-num");
      cell(tr, fmt(r.response_rate, true), "cgs-num");
      link(cell(tr, "", "cgs-num"), String(r.open), r.url);
      cell(tr, String(r.red), "cgs-num" + (r.red ? " cgs-red" : ""));
    });
    ledgers(d.ledgers);
    warnings(d.alerts);
    window.CGCommand.data = d;
    window.CGCommand.loads += 1;
    root.dataset.loaded = String(window.CGCommand.loads);
  }

  function load() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(draw)
      .catch(function (e) { document.getElementById("cgs-time").textContent = "加载失败（" + e.message + "），稍后重试"; });
  }
  load();
  setInterval(load, refresh);
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
})();
