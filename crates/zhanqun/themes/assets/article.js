// Article tools on the public sites: font size (大/中/小) and print. A file of the platform's
// own, since the pages' Content-Security-Policy runs no inline script.
(function () {
  var sizes = { large: "1.25rem", medium: "", small: "0.875rem" };
  var body = document.querySelector("article .body");
  var buttons = document.querySelectorAll("[data-font]");
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      if (body) body.style.fontSize = sizes[b.getAttribute("data-font")] || "";
      buttons.forEach(function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
    });
  });
  var print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", function () { window.print(); });
})();
