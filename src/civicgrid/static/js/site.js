/* Behaviour every staff page shares (no inline handlers: the Content-Security-Policy forbids them). */
(function () {
  "use strict";
  // the phone-width menu button folds the navbar open and closed
  document.querySelectorAll("[data-cg-toggle]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.cgToggle);
      if (!target) return;
      var open = target.classList.toggle("show");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  // a tab bar that scrolls sideways (phone width) shows its active tab
  document.querySelectorAll(".nav-tabs.overflow-auto").forEach(function (bar) {
    var active = bar.querySelector(".nav-link.active");
    if (active) bar.scrollLeft = Math.max(0, active.offsetLeft - bar.offsetLeft - 16);
  });
})();
