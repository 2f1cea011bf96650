/* 入户走访 on the phone without a network: the visit form (a page the service worker keeps, /registers/
   households/<id>/visit/) is not posted but put in the offline queue (CGQueue, static/js/offline.js) as the JSON
   the API takes (POST /api/v1/registers/visits), with the id made on the phone (client_id) and the time it was
   recorded; offline.js sends it when the connection returns and the server stores it once however often it is
   re-sent. Online the form posts as usual (with the same client_id). No HTML strings. */
(function () {
  "use strict";

  var form = document.getElementById("rv-form");
  if (!form || !window.CGQueue) return;
  var clientInput = form.querySelector("input[name=client_id]");
  // a fresh id per page view: a page served from the offline cache carries the id of the view it was saved from
  if (!document.querySelector("[data-testid=visit-error]")) clientInput.value = window.CGQueue.uid();

  form.addEventListener("submit", function (e) {
    if (navigator.onLine || !form.dataset.kind) return;
    e.preventDefault();
    var note = document.getElementById("rv-note");
    var fd = new FormData(form);
    var answers = [];
    form.querySelectorAll("[data-item]").forEach(function (row) {
      var id = row.dataset.item;
      var v = fd.get("item-" + id);
      if (v === "ok" || v === "bad") {
        answers.push({ item: parseInt(id, 10), ok: v === "ok", note: String(fd.get("item-" + id + "-note") || "") });
      }
    });
    var finding = fd.get("to_case") === "on" ? String(fd.get("finding") || "").trim() : "";
    if (fd.get("to_case") === "on" && !finding) {
      note.textContent = "请填写发现的问题";
      return;
    }
    var method = fd.get("method");
    var title = document.querySelector("[data-testid=visit-target]");
    var item = {
      id: "visit-" + clientInput.value,
      kind: "visit",
      label: (title ? title.textContent : "") + (finding ? "（并上报）" : ""),
      url: form.dataset.api + "/visits",
      json: {
        client_id: clientInput.value,
        target_kind: form.dataset.kind,
        target_id: parseInt(form.dataset.target, 10),
        method: method,
        answers: answers,
        persons: fd.getAll("persons").map(function (p) { return parseInt(p, 10); }),
        met_note: String(fd.get("met_note") || ""),
        notes: String(fd.get("notes") || ""),
        visited_at: new Date().toISOString(),
        finding: finding,
        report_as: String(fd.get("report_as") || "case"),
      },
    };
    window.CGQueue.add(item).then(function () {
      window.location.assign(form.dataset.back);
    }, function () {
      note.textContent = "手机存储不可用，无法离线保存，请联网后提交";
    });
  });
})();
