// A table wider than its box is laid out as cards, one per row, its cells one under the
// other (the stylesheet's .table--stacked); this names every cell after its column so a
// stacked row still says what each figure is. Checked on load, after htmx swaps and when
// the window changes size, so every table on every page fits whatever the screen.
(function () {
  "use strict";

  function label(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (heads[index] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", heads[index]);
        }
      });
    });
  }

  function fit(root) {
    var tables = root.querySelectorAll ? root.querySelectorAll("table.table") : [];
    tables.forEach(function (table) {
      label(table);
      table.classList.remove("table--stacked");
      if (table.offsetWidth > table.parentElement.clientWidth + 1) {
        table.classList.add("table--stacked");
      }
    });
  }

  var pending = false;
  function refit() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      fit(document);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { fit(document); });
  document.addEventListener("htmx:afterSettle", function (event) { fit(event.target); });
  window.addEventListener("resize", refit);
})();
