// Ledger pages (综合执法, 舆情): the print button of a printable record (no inline script: CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-cg-print]");
    if (btn) {
      ev.preventDefault();
      window.print();
    }
  });
})();
