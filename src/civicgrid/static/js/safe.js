/* The one way user text becomes HTML in CivicGrid's scripts (loaded first by both base templates).

   Leaflet's bindTooltip / bindPopup / setContent, ECharts formatters and innerHTML all parse a string as HTML, so
   an address such as <img src=x onerror=…> would run as code. Never build such a string by hand:

     CG.esc(value)                         -> value with & < > " ' ` escaped ("" for null/undefined)
     CG.html`<b>${name}</b><br>${place}`   -> the literal parts as written, every ${…} escaped

     CG.label(title, subtitle…)            -> a <div> of text nodes for tooltips/popups (no HTML parsing at all)

   Text that goes into the page by DOM, not by an HTML string, uses textContent. */
(function () {
  "use strict";
  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

  function esc(value) {
    if (value === null || value === undefined) return "";
    return String(value).replace(/[&<>"'`]/g, function (c) { return ENTITIES[c]; });
  }

  // tagged template: html`<div>${text}</div>`; the template's own markup stays, the values are escaped
  function html(strings) {
    var out = strings[0];
    for (var i = 1; i < strings.length; i++) out += esc(arguments[i]) + strings[i];
    return out;
  }

  // tooltip/popup content as a DOM node: the first line plain, the rest in <small>, every line a text node
  function label() {
    var box = document.createElement("div");
    var lines = Array.prototype.filter.call(arguments, function (t) {
      return t !== undefined && t !== null && t !== "";
    });
    lines.forEach(function (t, i) {
      if (i > 0) box.appendChild(document.createElement("br"));
      var node = document.createElement(i > 0 ? "small" : "span");
      node.textContent = String(t);
      box.appendChild(node);
    });
    return box;
  }

  var CG = window.CG || {};
  CG.esc = esc;
  CG.html = html;
  CG.label = label;
  window.CG = CG;
})();
