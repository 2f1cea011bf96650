/* 随手拍 progress page: the "复制查询码" button (clipboard, or select the code where the clipboard API is absent). */
(function () {
  "use strict";
  var b = document.getElementById("rs-copy");
  if (!b) return;
  b.addEventListener("click", function () {
    var code = b.dataset.code;
    var done = function () { b.textContent = "已复制"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code).then(done, function () {});
    } else {
      var r = document.createRange();
      r.selectNodeContents(document.getElementById("rs-code"));
      var s = window.getSelection();
      s.removeAllRanges();
      s.addRange(r);
      try { document.execCommand("copy"); done(); } catch (e) { /* the code stays selected */ }
    }
  });
})();
