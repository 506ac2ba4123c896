/* The KPI page's drill-through: a link to the rows behind each row of the result table, and a
   click on a point of a trend chart opens the rows behind that point (bars keep their own click:
   they drill into their member). */
(function () {
  "use strict";
  function data() {
    var src = document.getElementById("drill-rows-urls");
    return src ? JSON.parse(src.textContent) : null;
  }
  function addLinks(d) {
    var table = document.getElementById("result-table");
    if (!table) return;
    var head = table.querySelector("thead tr");
    var rows = table.querySelectorAll("tbody tr");
    if (!head || rows.length !== d.urls.length || !rows.length) return;
    var th = document.createElement("th");
    th.textContent = d.title;
    head.appendChild(th);
    rows.forEach(function (tr, i) {
      var td = document.createElement("td");
      var a = document.createElement("a");
      a.href = d.urls[i];
      a.textContent = d.label;
      a.className = "drill-row";
      td.appendChild(a);
      tr.appendChild(td);
    });
  }
  function onPoints(d) {
    var chart = document.getElementById("chart");
    if (!chart || !d.points || !Object.keys(d.points).length) return;
    function wire() {
      if (!chart.on) return;
      chart.setAttribute("data-drill-points", "1");
      chart.on("plotly_click", function (ev) {
        var p = ev && ev.points && ev.points[0];
        if (!p || (typeof p.customdata === "string" && p.customdata.charAt(0) === "/")) return;
        var url = d.points[p.x + "\u0001" + (p.data && p.data.name)] || d.points[p.x + "\u0001*"];
        if (url) window.location.assign(url);
      });
    }
    if (chart.hasAttribute("data-ready")) { wire(); return; }
    new MutationObserver(function (changes, observer) {
      if (chart.hasAttribute("data-ready")) { observer.disconnect(); wire(); }
    }).observe(chart, { attributes: true, attributeFilter: ["data-ready"] });
  }
  function start() {
    var d = data();
    if (!d) return;
    addLinks(d);
    onPoints(d);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
