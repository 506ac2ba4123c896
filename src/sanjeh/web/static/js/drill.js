/* The KPI page's drill-through: a link to the rows behind each row of the result table. */
(function () {
  "use strict";
  function addLinks() {
    var src = document.getElementById("drill-rows-urls");
    var table = document.getElementById("result-table");
    if (!src || !table) return;
    var data = JSON.parse(src.textContent);
    var head = table.querySelector("thead tr");
    var rows = table.querySelectorAll("tbody tr");
    if (!head || rows.length !== data.urls.length || !rows.length) return;
    var th = document.createElement("th");
    th.textContent = data.title;
    head.appendChild(th);
    rows.forEach(function (tr, i) {
      var td = document.createElement("td");
      var a = document.createElement("a");
      a.href = data.urls[i];
      a.textContent = data.label;
      a.className = "drill-row";
      td.appendChild(a);
      tr.appendChild(td);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", addLinks);
  else addLinks();
})();
