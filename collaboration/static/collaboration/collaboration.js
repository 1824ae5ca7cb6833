// The discussion's small behaviours, without inline handlers (the CSP forbids them):
// choosing a mention from the suggestions, and keeping a gate section that somebody
// is editing from being refreshed under their hands by the live page.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-mention]");
    if (!button) return;
    var field = document.getElementById(button.dataset.field || "id_body");
    if (!field) return;
    var text = field.value.replace(/@[\w.+-]*$/, "");
    field.value = text + "@" + button.dataset.mention + " ";
    var list = button.closest(".mention-suggestions");
    if (list) list.textContent = "";
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  });

  document.addEventListener("htmx:confirm", function (event) {
    var element = event.detail.elt;
    if (!element || !element.hasAttribute("data-live-refresh")) return;
    var active = document.activeElement;
    var editing = active && element.contains(active) && active.matches("input, textarea, select");
    var openDetails = element.querySelector("details[open] input, details[open] textarea");
    if (editing || openDetails) event.preventDefault();
  });
})();
