// Chunlei's small enhancements; every page works without them.
(function () {
  "use strict";
  // Ask before a destructive action (cancel, block) when the form says so.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Filling a modal's form from the button that opened it (slot block/unblock, cancel).
  document.addEventListener("show.bs.modal", function (event) {
    var trigger = event.relatedTarget;
    if (!trigger) { return; }
    var modal = event.target;
    Array.prototype.forEach.call(trigger.attributes, function (attr) {
      if (attr.name.indexOf("data-fill-") === 0) {
        var key = attr.name.slice("data-fill-".length);
        modal.querySelectorAll("[data-slot='" + key + "']").forEach(function (el) {
          if (el.tagName === "FORM") { el.action = attr.value; }
          else if (el.tagName === "INPUT") { el.value = attr.value; }
          else { el.textContent = attr.value; }
        });
      }
    });
  });
  // "Select all" ticks every checkbox of the list it names (bulk actions).
  document.querySelectorAll("input[data-check-all]").forEach(function (all) {
    var name = all.getAttribute("data-check-all");
    all.addEventListener("change", function () {
      document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
  // Suggestions while typing a participant's name or code (book for a walk-in): the field's
  // datalist is filled from the server; without JavaScript the server resolves what was typed.
  document.querySelectorAll("input[data-suggest-url]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var q = input.value.trim();
      if (!list || q.length < 1) { return; }
      timer = window.setTimeout(function () {
        fetch(input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(q), {
          credentials: "same-origin", headers: { "Accept": "application/json" }
        }).then(function (r) { return r.ok ? r.json() : []; }).then(function (rows) {
          list.innerHTML = "";
          rows.forEach(function (p) {
            var opt = document.createElement("option");
            opt.value = p.code + " · " + p.name;
            opt.label = p.kind + " · " + p.region;
            list.appendChild(opt);
          });
        }).catch(function () { /* typing still works */ });
      }, 200);
    });
  });
  // The base switcher: choosing a base (or submitting its form) opens that base's page.
  document.querySelectorAll("select[data-go-to-choice]").forEach(function (select) {
    select.addEventListener("change", function () { window.location = select.value; });
    select.form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.location = select.value;
    });
  });
  // Keep the chosen day chip in view on narrow screens.
  document.querySelectorAll("[data-scroll-active] .active").forEach(function (el) {
    el.parentNode.scrollLeft = el.offsetLeft - el.parentNode.offsetLeft - 16;
  });
  // Province → city → county pickers fed by a JSON island on the profile page.
  var places = document.getElementById("cl-places");
  if (places) {
    var data = JSON.parse(places.textContent);
    var prov = document.getElementById("province");
    var city = document.getElementById("city");
    var county = document.getElementById("county");
    var fill = function (select, items, keep) {
      var first = select.options[0];
      select.innerHTML = "";
      select.appendChild(first);
      items.forEach(function (name) {
        var opt = document.createElement("option");
        opt.value = name; opt.textContent = name;
        if (name === keep) { opt.selected = true; }
        select.appendChild(opt);
      });
    };
    var onProvince = function (keepCity, keepCounty) {
      var cities = data[prov.value] || {};
      fill(city, Object.keys(cities), keepCity);
      onCity(keepCounty);
    };
    var onCity = function (keepCounty) {
      var counties = (data[prov.value] || {})[city.value] || [];
      fill(county, counties, keepCounty);
    };
    prov.addEventListener("change", function () { onProvince(null, null); });
    city.addEventListener("change", function () { onCity(null); });
    onProvince(city.getAttribute("data-value"), county.getAttribute("data-value"));
  }
})();
