/* Sanjeh dashboard: draw Plotly figures embedded as JSON, drill on click, sortable tables, the filter
   box's suggestions, the upload's progress. Loaded from the app itself (no CDN); no inline scripts,
   so the Content-Security-Policy can forbid them. Every page works without it (plain forms). */
(function () {
  "use strict";
  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-figure"));
      if (!src) return;
      var fig = JSON.parse(src.textContent);
      fig.data.forEach(function (t) {
        // a waterfall's values above its bars need room: on a narrow screen the hover gives them
        if (t.type === "waterfall" && t.x && el.clientWidth / t.x.length < 72) t.textposition = "none";
      });
      var config = { displaylogo: false, responsive: true, locale: document.documentElement.lang,
                     displayModeBar: false };
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

  /* a table sorts by a column when its header is clicked (numbers by value, text by the reader's order) */
  function sortableTables() {
    var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true });
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var body = table.tBodies[0];
      if (!body) return;
      table.querySelectorAll("thead th").forEach(function (th, col) {
        var button = th.querySelector("button.sort");
        if (!button) return;
        button.addEventListener("click", function () {
          var down = th.getAttribute("aria-sort") !== "descending";
          table.querySelectorAll("thead th").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
          th.setAttribute("aria-sort", down ? "descending" : "ascending");
          var rows = Array.prototype.slice.call(body.rows);
          if (rows.length < 2) return;
          var numeric = th.classList.contains("num");
          rows.sort(function (a, b) {
            var x = a.cells[col] ? a.cells[col].getAttribute("data-sort") : "";
            var y = b.cells[col] ? b.cells[col].getAttribute("data-sort") : "";
            var r;
            if (numeric) {
              var nx = x === "" ? -Infinity : parseFloat(x), ny = y === "" ? -Infinity : parseFloat(y);
              r = nx - ny;
            } else {
              r = collator.compare(x || "", y || "");
            }
            return down ? -r : r;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  /* the filter box suggests the chosen dimension's members by name */
  function memberSuggestions() {
    var form = document.getElementById("filter-form");
    if (!form) return;
    var dim = document.getElementById("filter-dim");
    var list = document.getElementById("filter-members");
    var input = document.getElementById("filter-member");
    var loaded = {};
    function load() {
      var d = dim.value;
      if (loaded[d]) { fill(loaded[d]); return; }
      var url = form.getAttribute("data-members") + "?dim=" + encodeURIComponent(d);
      var lang = new URLSearchParams(window.location.search).get("lang");
      if (lang) url += "&lang=" + encodeURIComponent(lang);
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) { loaded[d] = items; if (dim.value === d) fill(items); })
        .catch(function () {});
    }
    function fill(items) {
      list.textContent = "";
      items.forEach(function (m) {
        var o = document.createElement("option");
        o.value = m.name;
        if (m.name !== m.id) o.label = m.id;
        list.appendChild(o);
      });
      list.setAttribute("data-loaded", dim.value);
    }
    dim.addEventListener("change", function () { input.value = ""; load(); });
    input.addEventListener("focus", load, { once: true });
    load();
  }

  /* an upload shows its progress, then the import's summary (a plain post without JavaScript) */
  function uploadProgress() {
    var form = document.getElementById("upload-form");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-bar");
    var status = document.getElementById("upload-status");
    var error = document.getElementById("upload-error");
    var submit = document.getElementById("upload-submit");
    var digits = document.documentElement.lang === "fa";
    function percent(n) {
      var s = String(n) + "%";
      return digits ? s.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹".charAt(+d); }).replace("%", "٪") : s;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var xhr = new XMLHttpRequest();
      var lang = new URLSearchParams(window.location.search).get("lang");
      xhr.open("POST", form.getAttribute("action") + (lang ? "?lang=" + encodeURIComponent(lang) : ""));
      xhr.setRequestHeader("X-Requested-With", "sanjeh-upload");
      xhr.responseType = "json";
      box.hidden = false;
      error.hidden = true;
      submit.disabled = true;
      bar.value = 0;
      status.textContent = status.getAttribute("data-uploading").replace("{percent}", percent(0));
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var p = Math.round(100 * e.loaded / e.total);
        bar.value = p;
        status.textContent = status.getAttribute("data-uploading").replace("{percent}", percent(p));
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  /* the import itself: an indeterminate bar */
        status.textContent = status.getAttribute("data-importing");
      });
      xhr.addEventListener("load", function () {
        var body = xhr.response || {};
        if (xhr.status === 200 && body.url) { window.location.assign(body.url); return; }
        box.hidden = true;
        submit.disabled = false;
        error.textContent = body.error || status.getAttribute("data-failed");
        error.hidden = false;
      });
      xhr.addEventListener("error", function () {
        box.hidden = true;
        submit.disabled = false;
        error.textContent = status.getAttribute("data-failed");
        error.hidden = false;
      });
      xhr.send(new FormData(form));
    });
  }

  /* a table box that hides rows below or columns beside says so: a shade on that edge, gone once
     scrolled there (its own scroll box kept rows out of sight with no hint) */
  function scrollCues() {
    document.querySelectorAll(".table-box .table-wrap").forEach(function (wrap) {
      function update() {
        var style = getComputedStyle(wrap);  // a box that does not scroll (a printed report's) hides nothing
        var scrolls = style.overflowY !== "visible" || style.overflowX !== "visible";
        var below = scrolls && wrap.scrollHeight - wrap.clientHeight - wrap.scrollTop > 2;
        var aside = scrolls && wrap.scrollWidth - wrap.clientWidth - Math.abs(wrap.scrollLeft) > 2;
        wrap.classList.toggle("more-below", below);
        wrap.classList.toggle("more-aside", aside);
      }
      wrap.addEventListener("scroll", update, { passive: true });
      window.addEventListener("resize", update);
      update();
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
  }
  function periodFollowsKind() {
    // a schedule's report period follows how often it runs (monthly: last month) until the
    // person picks one; a monthly report of "last week" was the new form's default
    var kind = document.getElementById("when-kind");
    var period = kind && kind.form.querySelector("select[data-period-for]");
    if (!period) return;
    var natural = JSON.parse(period.getAttribute("data-period-for"));
    // a saved schedule's period, or one unlike its kind's (a form shown again), was chosen
    var picked = period.hasAttribute("data-picked") || period.value !== natural[kind.value];
    period.addEventListener("change", function () { picked = true; });
    kind.addEventListener("change", function () {
      if (!picked && natural[kind.value]) period.value = natural[kind.value];
    });
  }
  function filePickers() {
    // the chosen files' names beside the button, in place of the browser's own words
    document.querySelectorAll("input[data-file-pick]").forEach(function (input) {
      var names = input.parentNode.querySelector(".file-pick-names");
      if (!names) return;
      input.addEventListener("change", function () {
        var chosen = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
        names.textContent = chosen.length ? chosen.join(document.documentElement.lang === "fa" ? "، " : ", ") : names.getAttribute("data-none");
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    filePickers(); formHelpers(); periodFollowsKind(); sortableTables(); scrollCues(); memberSuggestions(); uploadProgress(); drawCharts();
  });
})();
