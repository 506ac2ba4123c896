/* Sanjeh dashboard: draw Plotly figures embedded as JSON, drill on click, small form helpers.
   Loaded from the app itself (no CDN); no inline scripts, so the Content-Security-Policy can forbid them. */
(function () {
  "use strict";
  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-figure"));
      if (!src) return;
      var fig = JSON.parse(src.textContent);
      var config = { displaylogo: false, responsive: true, locale: document.documentElement.lang,
                     modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"] };
      window.Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
        el.setAttribute("data-ready", "1");
      });
      if (el.getAttribute("data-drill")) {
        el.on("plotly_click", function (ev) {
          var p = ev && ev.points && ev.points[0];
          if (p && typeof p.customdata === "string" && p.customdata.charAt(0) === "/") {
            window.location.assign(p.customdata);
          }
        });
      }
    });
  }
  function formHelpers() {
    document.querySelectorAll("select.auto-submit").forEach(function (sel) {
      sel.addEventListener("change", function () {
        if (sel.name === "cal") {
          // another calendar: its quick choices, and its latest month instead of the typed period
          var input = document.getElementById("period-input");
          if (input) input.disabled = true;
        }
        sel.form.submit();
      });
    });
    var add = document.getElementById("filter-add");
    if (add) {
      add.addEventListener("click", function () {
        var dim = document.getElementById("filter-dim").value;
        var member = document.getElementById("filter-member").value.trim();
        var hidden = document.getElementById("filter-new");
        if (member) { hidden.value = dim + ":" + member; hidden.disabled = false; }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () { formHelpers(); drawCharts(); });
})();
