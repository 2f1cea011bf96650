// 信访: the detail page's 打印 button (no inline scripts: CSP)
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});
