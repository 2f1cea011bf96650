/* 上级考核 chart: the imported score (bars, left axis) beside the platform's own 三率 and composite (lines, %). */
(function () {
  "use strict";
  var el = document.getElementById("ev-chart");
  if (!el || !window.echarts) return;
  fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      var months = d.months.map(function (m) { return m.month.slice(5) + "月"; });
      var pick = function (k) { return d.months.map(function (m) { return m[k]; }); };
      var chart = echarts.init(el);
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 50, right: 50, top: 40, bottom: 30 },
        xAxis: { type: "category", data: months },
        yAxis: [
          { type: "value", name: "得分", scale: true },
          { type: "value", name: "%", min: 0, max: 100 }
        ],
        series: [
          { name: d.name + "得分", type: "bar", data: pick("score"), itemStyle: { color: "#5470c6" } },
          { name: "三率综合", type: "line", yAxisIndex: 1, data: pick("composite"), connectNulls: false, lineStyle: { width: 3 } },
          { name: "响应率", type: "line", yAxisIndex: 1, data: pick("response_rate") },
          { name: "解决率", type: "line", yAxisIndex: 1, data: pick("resolve_rate") },
          { name: "满意率", type: "line", yAxisIndex: 1, data: pick("satisfaction_rate") }
        ]
      });
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
})();
