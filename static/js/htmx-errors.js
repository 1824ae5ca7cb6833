// Failed htmx requests, on every page: htmx drops a 4xx or 5xx answer and a lost
// connection without a word, so the person would see a control showing what was
// never saved. Here each failure gets a message next to the control that sent it,
// a choice (a radio, a box, a list) goes back to what the page last showed (what is
// saved), and the message offers a way on: reload the page to see what is current, and
// go again. What the person typed (a comment, a note, a value, a rationale) stays in
// its box, so the next attempt needs no retyping.
// Loaded from base.html as a file, so the Content-Security-Policy needs no inline code.
(function () {
  "use strict";

  var MESSAGE_CLASS = "request-error";

  var REASONS = {
    400: "Tollgate could not read this request.",
    401: "You are signed out.",
    403: "You may not do this, or this page is out of date.",
    404: "This no longer exists.",
    409: "Somebody changed this meanwhile.",
    413: "This is too large to send.",
    422: "Tollgate could not accept this.",
    429: "Too many requests; wait a moment.",
    503: "Tollgate is unavailable right now.",
  };

  // Failures the status alone does not tell apart (core/htmx.py: FAILURE_HEADER).
  var FAILURES = {
    "stale-page":
      "This page is out of date: you signed in again since it was opened (perhaps in another tab).",
  };

  function reason(status, failure) {
    if (failure && FAILURES[failure]) {
      return FAILURES[failure];
    }
    if (status === 0) {
      return "Tollgate could not be reached; check the connection.";
    }
    if (REASONS[status]) {
      return REASONS[status];
    }
    return status >= 500 ? "Something went wrong on Tollgate's side." : "The request failed.";
  }

  // The element a message belongs to: the form for a form's request, else the element itself.
  function owner(elt) {
    return (elt.closest && elt.closest("form")) || elt;
  }

  // Choices back to what the page rendered; typed text is left as the person typed it.
  function restoreChoices(form) {
    Array.prototype.forEach.call(form.elements || [], function (control) {
      if (control.type === "radio" || control.type === "checkbox") {
        control.checked = control.defaultChecked;
      } else if (control.tagName === "SELECT") {
        Array.prototype.forEach.call(control.options, function (option) {
          option.selected = option.defaultSelected;
        });
      }
    });
  }

  function messageOf(elt) {
    var next = owner(elt).nextElementSibling;
    return next && next.classList.contains(MESSAGE_CLASS) ? next : null;
  }

  function clear(elt) {
    var message = messageOf(elt);
    if (message) {
      message.remove();
    }
  }

  // A request that only loads something while the person works in a form (the mention
  // suggestions as they type) is no new attempt at what failed there: it neither takes a
  // failed save's message away nor puts its own in that message's place.
  function helperLoad(elt, config) {
    var form = owner(elt);
    return form !== elt && form.tagName === "FORM" && (config.verb || "get").toLowerCase() === "get";
  }

  function showsFailedSave(elt) {
    var message = messageOf(elt);
    return Boolean(message && message.dataset.saving === "true");
  }

  // The way on: sign in again when the session is gone, else reload to see what is current.
  function wayOn(status) {
    var link = document.createElement("a");
    if (status === 401) {
      link.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname + location.search);
      link.textContent = "Sign in again";
    } else {
      link.href = window.location.href;
      link.textContent = "Reload the page";
    }
    return link;
  }

  function show(detail, status) {
    var elt = detail.elt;
    if (!elt || !elt.isConnected) {
      return;
    }
    var config = detail.requestConfig || {};
    var saving = (config.verb || "get").toLowerCase() !== "get";
    if (helperLoad(elt, config) && showsFailedSave(elt)) {
      return;
    }
    var form = owner(elt);
    // Choices back to what the page last rendered (what is saved, or what the page shows);
    // never form.reset(), which would throw away what the person typed.
    if (form.tagName === "FORM") {
      restoreChoices(form);
    }
    clear(elt);

    var message = document.createElement("div");
    message.className = "alert alert--error " + MESSAGE_CLASS;
    message.setAttribute("role", "alert");
    message.dataset.saving = saving ? "true" : "false";
    var failure = detail.xhr ? detail.xhr.getResponseHeader("Tollgate-Failure") : null;
    var text = document.createElement("p");
    text.textContent =
      (saving ? "Not saved: " : "Not loaded: ") +
      reason(status, failure) +
      (saving ? " Your text is still here; the choices show what is saved. " : " ");
    text.appendChild(wayOn(status));
    message.appendChild(text);
    form.insertAdjacentElement("afterend", message);
  }

  // Sign-in lost before a save: the whole browser goes to sign in and comes back to this
  // page (core/htmx.py: sign_in_page_wide). What the person had typed in the page's forms
  // is kept for that return, in this tab only and for an hour, and put back in its box.
  var DRAFTS = "tollgate:drafts";
  var DRAFT_MS = 60 * 60 * 1000;
  var TYPED = /^(text|url|number|email|search|tel)$/;

  function typedText(control) {
    return (
      control.id &&
      !control.disabled &&
      (control.tagName === "TEXTAREA" || TYPED.test(control.type)) &&
      control.value !== control.defaultValue
    );
  }

  function keepDrafts(page) {
    var fields = [];
    document.querySelectorAll("form textarea, form input").forEach(function (control) {
      if (typedText(control)) {
        fields.push({ id: control.id, value: control.value });
      }
    });
    if (!fields.length) {
      return;
    }
    try {
      sessionStorage.setItem(DRAFTS, JSON.stringify({ page: page, at: Date.now(), fields: fields }));
    } catch (error) {
      // No storage (private mode, full): nothing is kept.
    }
  }

  function restoreDrafts() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(DRAFTS) || "null");
    } catch (error) {
      return;
    }
    if (!saved || saved.page !== location.pathname + location.search) {
      return;
    }
    sessionStorage.removeItem(DRAFTS);
    if (!(Date.now() - saved.at < DRAFT_MS)) {
      return;
    }
    var first = null;
    saved.fields.forEach(function (field) {
      var control = document.getElementById(field.id);
      // Only into a box the page left as it was rendered: nothing is overwritten.
      if (control && control.value === control.defaultValue) {
        control.value = field.value;
        first = first || control;
      }
    });
    if (first) {
      var form = owner(first);
      var note = document.createElement("p");
      note.className = "alert alert--warning " + MESSAGE_CLASS;
      note.setAttribute("role", "status");
      note.textContent = "You were signed out before this was saved: what you typed is back. Save it again.";
      form.insertAdjacentElement("afterend", note);
      var details = first.closest("details");
      if (details) {
        details.open = true;
      }
    }
  }

  function signInPage(redirect) {
    try {
      var url = new URL(redirect, location.href);
      return url.searchParams.get("next");
    } catch (error) {
      return null;
    }
  }

  restoreDrafts();

  document.addEventListener("htmx:responseError", function (event) {
    show(event.detail, event.detail.xhr ? event.detail.xhr.status : 0);
  });
  document.addEventListener("htmx:sendError", function (event) {
    show(event.detail, 0);
  });
  document.addEventListener("htmx:timeout", function (event) {
    show(event.detail, 0);
  });
  // A new attempt from the same control takes its old message away.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && !(helperLoad(elt, event.detail.requestConfig || {}) && showsFailedSave(elt))) {
      clear(elt);
    }
  });
  // Development as production: django-htmx's debug helper (DEBUG only) would replace the
  // whole page with the error page; this listener runs first and keeps the page.
  document.addEventListener(
    "htmx:beforeOnLoad",
    function (event) {
      var xhr = event.detail.xhr;
      if (xhr && xhr.status >= 400) {
        event.stopPropagation();
      }
      var redirect = xhr && xhr.getResponseHeader("HX-Redirect");
      var page = redirect && signInPage(redirect);
      if (page) {
        keepDrafts(page);
      }
    },
    true
  );
})();
