/* The targets editor: pickers that follow each other (KPI -> its measures and levels; level ->
   its names), the unit of the value, "another period", and "add a row". Works without it too. */
(function () {
  "use strict";
  var src = document.getElementById("targets-catalogue");
  var form = document.getElementById("targets-form");
  if (!src || !form) return;
  var cat = JSON.parse(src.textContent).kpis;
  var companyLabel = null;

  function options(select, items, keep) {
    var current = keep !== undefined ? keep : select.value;
    while (select.options.length) select.remove(0);
    items.forEach(function (it) {
      var o = document.createElement("option");
      o.value = it[0];
      o.textContent = it[1];
      if (it[0] === current) o.selected = true;
      select.appendChild(o);
    });
  }
  function unitOf(kpi, measure) {
    var k = cat[kpi];
    if (!k) return "";
    for (var i = 0; i < k.measures.length; i++) if (k.measures[i][0] === measure) return k.measures[i][2];
    return "";
  }
  function kpiChanged(row) {
    var k = cat[row.querySelector(".t-kpi").value];
    if (!k) return;
    var m = row.querySelector(".t-measure");
    options(m, k.measures, k.headline);
    var d = row.querySelector(".t-dim");
    var dims = [["", companyLabel]].concat(k.dims);
    options(d, dims, "");
    dimChanged(row);
    measureChanged(row);
  }
  function measureChanged(row) {
    row.querySelector(".unit").textContent = unitOf(row.querySelector(".t-kpi").value, row.querySelector(".t-measure").value);
  }
  function dimChanged(row) {
    var dim = row.querySelector(".t-dim").value;
    var member = row.querySelector(".t-member");
    if (dim) member.setAttribute("list", "members-" + dim);
    else { member.removeAttribute("list"); member.value = ""; }
  }
  function partChanged(row) {
    var other = row.querySelector(".t-other");
    other.hidden = row.querySelector(".t-part").value !== "other";
  }
  function wire(row) {
    row.querySelector(".t-kpi").addEventListener("change", function () { kpiChanged(row); });
    row.querySelector(".t-measure").addEventListener("change", function () { measureChanged(row); });
    row.querySelector(".t-dim").addEventListener("change", function () { dimChanged(row); });
    row.querySelector(".t-part").addEventListener("change", function () { partChanged(row); });
    row.addEventListener("input", function () { row.classList.add("changed"); });
    row.addEventListener("change", function () { row.classList.add("changed"); });
  }
  var rows = form.querySelectorAll("tr.target-row");
  if (rows.length) companyLabel = rows[0].querySelector(".t-dim").options[0].textContent;
  rows.forEach(wire);

  // spreading sends the page to the server, which spreads the stored target: edits not saved yet
  // would be dropped without a word, so the person is asked first
  form.addEventListener("click", function (ev) {
    var button = ev.target.closest ? ev.target.closest("button[name=spread]") : null;
    if (!button || !form.querySelector("tr.target-row.changed")) return;
    if (!window.confirm(button.getAttribute("data-unsaved"))) ev.preventDefault();
  });

  var add = document.getElementById("add-row");
  var count = document.getElementById("rows-n");
  if (add && count) {
    add.addEventListener("click", function (ev) {
      var blanks = form.querySelectorAll("tr.target-row.new");
      var last = blanks[blanks.length - 1];
      if (!last) return;  // no blank row to copy: follow the link (the server adds rows)
      ev.preventDefault();
      var n = parseInt(count.value, 10);
      var row = last.cloneNode(true);
      var from = "r" + last.getAttribute("data-row") + ".";
      row.setAttribute("data-row", String(n));
      row.classList.remove("changed", "has-error");
      row.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(from, "r" + n + ".");
        if (el.tagName === "INPUT" && el.type !== "hidden") el.value = "";
      });
      last.parentNode.appendChild(row);
      count.value = String(n + 1);
      wire(row);
      row.querySelector(".t-kpi").focus();
    });
  }
})();
