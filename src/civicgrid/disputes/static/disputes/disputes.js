// 矛盾纠纷: the print button of the detail page; on the 登记 form, the fields that belong to one source only
// (警调衔接: 派出所/警情号, 12345/网格: 关联工单, 法院委派: 法院) show for that source.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (btn) {
    btn.addEventListener("click", function () { window.print(); });
  });
  var source = document.querySelector("select[name=source]");
  if (!source) { return; }
  var blocks = document.querySelectorAll("[data-source-only]");
  function sync() {
    blocks.forEach(function (el) {
      var on = el.getAttribute("data-source-only") === source.value || el.querySelector(".cg-field-error");
      el.hidden = !on;
    });
  }
  source.addEventListener("change", sync);
  sync();
  document.documentElement.dataset.disputesReady = "1";
}());
