/* 指挥中心 leader view: the trend and category charts from <script id="cg-command-charts"> (JSON). Every bar links
   to its case list; the toolbox saves each chart as PNG. */
(function () {
  "use strict";
  const data = document.getElementById("cg-command-charts");
  if (!data || !window.echarts) return;
  const charts = JSON.parse(data.textContent);
  const toolbox = { right: 6, feature: { saveAsImage: { title: "保存为PNG", pixelRatio: 2 } } };
  const made = {};
  window.CGCommand = { charts: made };

  const t = charts.trend;
  made.trend = echarts.init(document.getElementById("chart-trend"));
  made.trend.setOption({
    toolbox: toolbox, tooltip: { trigger: "axis" }, legend: { left: 0 },
    grid: { left: 46, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: t.labels }, yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "受理", type: "line", smooth: true, data: t.received, areaStyle: { opacity: 0.12 } },
      { name: "办结", type: "line", smooth: true, data: t.done },
    ],
  });

  const c = charts.categories;
  made.categories = echarts.init(document.getElementById("chart-categories"));
  made.categories.setOption({
    toolbox: toolbox,
    tooltip: { trigger: "item", formatter: function (p) { return CG.esc(p.name) + "：" + CG.esc(p.value); } },
    grid: { left: 110, right: 36, top: 30, bottom: 10 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: c.labels.slice().reverse() },
    series: [{ type: "bar", label: { show: true, position: "right" },
      data: c.values.map(function (v, i) { return { value: v, name: c.labels[i], link: c.urls[i] }; }).reverse() }],
  });
  made.categories.on("click", function (p) { if (p.data && p.data.link) window.location.href = p.data.link; });
  window.addEventListener("resize", function () { made.trend.resize(); made.categories.resize(); });
  document.body.dataset.chartsReady = "1";
})();
