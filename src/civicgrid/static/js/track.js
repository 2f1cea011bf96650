/* 随手拍 progress page: copy the tracking code. */
(function () {
  "use strict";
  var b = document.getElementById("rs-copy");
  if (!b) return;
  b.addEventListener("click", function () {
    var code = b.dataset.code;
    var done = function () { b.textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(done, function () {});
      return;
    }
    var r = document.createRange();
    r.selectNodeContents(document.getElementById("rs-code"));
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
    try { document.execCommand("copy"); done(); } catch (e) { /* the code stays selected for a manual copy */ }
  });
})();
