/* Staff report forms (网格员现场上报 /field/, 交办/舆情/信访登记 /field/staff/): small behaviours next to resident.js. */
(function () {
  "use strict";
  // desk: the reference label follows the chosen source (领导交办 → 交办文号 …)
  var refLabel = document.getElementById("ref-label");
  var sources = document.querySelectorAll("input[name=source]");
  if (refLabel && sources.length) {
    var syncLabel = function () {
      var r = document.querySelector("input[name=source]:checked");
      if (r) refLabel.textContent = r.dataset.refLabel;
    };
    sources.forEach(function (r) { r.addEventListener("change", syncLabel); });
    syncLabel();
  }

  // patrol: a fresh idempotency key per page view — a page served from the offline cache carries the key of the
  // view it was saved from, which may have filed a case already
  var keyInput = document.querySelector("#rs-form[data-offline-queue] input[name=idempotency_key]");
  if (keyInput && window.CGQueue) keyInput.value = window.CGQueue.uid();

  // patrol: say so when the chosen category may be filed (立案) on the spot
  var category = document.getElementById("rs-category");
  var canFile = document.getElementById("rs-can-file");
  if (category && canFile) {
    var showNote = function () {
      var o = category.options[category.selectedIndex];
      canFile.hidden = !(o && o.dataset.canFile === "1");
    };
    category.addEventListener("change", showNote);
    showNote();
  }
})();
