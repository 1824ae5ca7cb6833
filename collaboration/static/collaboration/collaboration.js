// The discussion's small behaviours, without inline handlers (the CSP forbids them):
// choosing a mention from the suggestions, and keeping a gate section that somebody
// is editing from being refreshed under their hands by the live page.
(function () {
  "use strict";

  // Where the caret is: the text before it is what a mention being typed ends.
  function caret(field) {
    var at = field.selectionStart;
    return typeof at === "number" ? at : field.value.length;
  }

  // The suggestions are for the @word at the caret, wherever it is in the text: the
  // request sends the text up to the caret, not the whole comment.
  document.addEventListener("htmx:configRequest", function (event) {
    var field = event.detail.elt;
    if (!field || !field.hasAttribute || !field.hasAttribute("data-mentions")) return;
    event.detail.parameters.body = field.value.slice(0, caret(field));
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-mention]");
    if (!button) return;
    var field = document.getElementById(button.dataset.field || "id_body");
    if (!field) return;
    // The @word before the caret becomes the mention; the text after the caret stays.
    var at = caret(field);
    var before = field.value.slice(0, at).replace(/@[\w.+-]*$/, "");
    var after = field.value.slice(at);
    var mention = "@" + button.dataset.mention + (/^\s/.test(after) ? "" : " ");
    field.value = before + mention + after;
    var list = button.closest(".mention-suggestions");
    if (list) list.textContent = "";
    field.focus();
    // The caret after the mention and the space that follows it.
    var end = before.length + mention.length + (/^\s/.test(after) ? 1 : 0);
    field.setSelectionRange(end, end);
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
