// Small conveniences only: every page works without JavaScript.
(function () {
  "use strict";
  // Queue: "select all" on the page, and a live count of the selection.
  var all = document.getElementById("velg-alle");
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="ids"]'));
  var count = document.getElementById("valgt-antall");
  function update() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    if (count) { count.textContent = n ? "(" + n + " valgt)" : ""; }
    if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
  }
  if (all && boxes.length) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", update); });

  // Case page: show the amount / voucher field only for the action that uses it.
  var radios = Array.prototype.slice.call(document.querySelectorAll('form.decision input[name="action"]'));
  var fields = Array.prototype.slice.call(document.querySelectorAll("form.decision [data-for]"));
  function sync() {
    var chosen = radios.filter(function (r) { return r.checked; })[0];
    var need = chosen ? chosen.getAttribute("data-field") : null;
    fields.forEach(function (f) { f.hidden = need !== f.getAttribute("data-for"); });
  }
  if (radios.length && fields.length) {
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }
})();
