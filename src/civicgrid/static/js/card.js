/* 一户一档 card: the 打印 button (no inline script: the CSP forbids it). */
(function () {
  "use strict";
  var b = document.getElementById("cg-print");
  if (b) b.addEventListener("click", function () { window.print(); });
})();
