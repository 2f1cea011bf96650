/* 智能分拨: after 采用 the panel comes back with data-picked-category / data-department; put them into the
   受理 (category) and 派遣/改派 (department) forms on the page and open the form the dispatcher needs next. */
(function () {
  "use strict";

  function setSelect(name, value) {
    const select = document.querySelector('select[name="' + name + '"]');
    if (!select || !value) return null;
    if (!Array.from(select.options).some((o) => o.value === value)) return null;
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    return select;
  }

  function apply(panel) {
    const category = panel.dataset.pickedCategory;
    const department = panel.dataset.department;
    if (!category) return;
    const filled = setSelect("accept-category", category);
    setSelect("dispatch-department", department);
    setSelect("reassign-department", department);
    const form = filled || document.querySelector('select[name="dispatch-department"]');
    const details = form && form.closest("details");
    if (details) details.open = true;
  }

  document.addEventListener("htmx:afterSettle", function () {
    const panel = document.getElementById("triage-panel");
    if (panel && panel.dataset.pickedCategory !== undefined) apply(panel);
  });
})();
