// Portal front-end glue: no inline scripts (the CSP forbids them).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Let 422 responses (a form with its messages) and error pages swap in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 404 || status === 403 || status === 409 || status === 413 || status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // ---- A live refresh keeps what the person was doing. A region that re-fetches itself on a
  // "…-changed" event (hx-trigger="order-changed from:body", the tray, a payment) is drawn anew
  // by the server; whatever was typed, ticked or chosen in it and not sent yet (a field whose
  // value is not the one the page came with), the "Changes" sections opened and the field being
  // typed in (with its cursor) are put back on the new drawing wherever the same field is still
  // there. A field the new state no longer offers (the order was answered meanwhile) is gone.
  function fieldKey(field) {
    var form = field.form;
    var scope = form ? (form.id || form.getAttribute("action") || "") : "";
    if (field.id) return scope + "#" + field.id;
    if (!field.name) return null;
    if (field.type === "checkbox" || field.type === "radio") return scope + "|" + field.name + "=" + field.value;
    var same = (form || document).querySelectorAll('[name="' + CSS.escape(field.name) + '"]');
    return scope + "|" + field.name + "@" + Array.prototype.indexOf.call(same, field);
  }

  function keptField(field) {
    if (field.disabled || field.type === "hidden" || field.type === "file" || field.type === "submit" || field.type === "button") return null;
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked ? { checked: field.checked } : null;
    }
    if (field.tagName === "SELECT") {
      var changed = Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
      return changed ? { value: field.value } : null;
    }
    return field.value !== field.defaultValue ? { value: field.value } : null;
  }

  var keptWork = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    var target = event.detail.target;
    if (!event.detail.shouldSwap || !target || !target.id || !trigger || !/-changed$/.test(trigger.type)) return;
    var fields = {};
    target.querySelectorAll("input, textarea, select").forEach(function (field) {
      var state = keptField(field);
      var key = state && fieldKey(field);
      if (key) fields[key] = state;
    });
    var opened = Array.prototype.map.call(target.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    var active = document.activeElement;
    var focus = null;
    if (active && active !== document.body && target.contains(active)) {
      focus = { key: active.matches("input, textarea, select") ? fieldKey(active) : null, id: active.id || null };
      try { focus.start = active.selectionStart; focus.end = active.selectionEnd; } catch (e) { /* no cursor */ }
    }
    keptWork = { id: target.id, xhr: event.detail.xhr, fields: fields, opened: opened, focus: focus };
  });
  // Put back right after the swap, in the same task: a second refresh cannot read the new
  // drawing before what was kept is on it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var work = keptWork;
    if (!work || (event.detail && event.detail.xhr !== work.xhr)) return;
    keptWork = null;
    var region = document.getElementById(work.id);
    if (!region) return;
    work.opened.forEach(function (id) {
      var details = document.getElementById(id);
      if (details && region.contains(details)) details.open = true;
    });
    var focusAt = null;
    region.querySelectorAll("input, textarea, select").forEach(function (field) {
      var key = fieldKey(field);
      var state = key && work.fields[key];
      if (state && !field.disabled) {
        if ("checked" in state) {
          if (field.checked !== state.checked) {
            field.checked = state.checked;
            field.dispatchEvent(new Event("change", { bubbles: true }));
          }
        } else {
          field.value = state.value;
        }
      }
      if (work.focus && work.focus.key && key === work.focus.key) focusAt = field;
    });
    if (!focusAt && work.focus && work.focus.id) focusAt = document.getElementById(work.focus.id);
    if (focusAt && region.contains(focusAt)) {
      focusAt.focus();
      if (work.focus.start != null) {
        try { focusAt.setSelectionRange(work.focus.start, work.focus.end); } catch (e) { /* no cursor */ }
      }
    }
  });

  // ---- Irreversible actions ask first (app/web/confirm.py). A form or submit button marked
  // data-confirm is posted once with "X-Confirm: ask": the server answers what will happen as a
  // <dialog> (shown modally: focus stays inside, Escape cancels, focus returns to the button),
  // or 204 when there is nothing to confirm. Any other answer (a form's errors): the form is
  // submitted as it was, and the server shows it. Without JavaScript the server asks on a page.
  function submitAsItWas(form, submitter) {
    form.setAttribute("data-confirm-skip", "");
    if (submitter && form.requestSubmit) form.requestSubmit(submitter);
    else if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function showConfirmDialog(dialog, returnTo) {
    document.querySelectorAll("dialog[data-confirm-dialog]").forEach(function (old) { old.remove(); });
    document.body.appendChild(dialog);
    dialog.addEventListener("click", function (event) {
      if (event.target.closest("[data-confirm-cancel]")) dialog.close("cancel");
    });
    dialog.addEventListener("close", function () {
      dialog.remove();
      // A live refresh may have replaced the opener meanwhile: focus its successor (same id).
      if (returnTo && !document.contains(returnTo) && returnTo.id) {
        returnTo = document.getElementById(returnTo.id);
      }
      if (returnTo && document.contains(returnTo) && returnTo.focus) returnTo.focus();
    });
    dialog.showModal();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    if (form.hasAttribute("data-confirm-skip")) { form.removeAttribute("data-confirm-skip"); return; }
    var marked = form.hasAttribute("data-confirm") || (submitter && submitter.hasAttribute("data-confirm"));
    if (!marked || typeof window.fetch !== "function" || typeof HTMLDialogElement !== "function") return;
    event.preventDefault();
    event.stopImmediatePropagation(); // before htmx's boost sees it (this listener captures)
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-Confirm": "ask", "X-CSRFToken": csrfToken() }
    })
      .then(function (response) {
        if (response.status === 204) return null;
        return response.text().then(function (html) { return response.ok ? html : null; });
      })
      .then(function (html) {
        var holder = document.createElement("div");
        if (html) holder.innerHTML = html;
        var dialog = holder.querySelector("dialog[data-confirm-dialog]");
        if (dialog) showConfirmDialog(dialog, submitter || form.querySelector("[type=submit]"));
        else submitAsItWas(form, submitter);
      })
      .catch(function () { submitAsItWas(form, submitter); });
  }, true);

  // The bulk bar: a button no ticked document allows is disabled (the server checks anyway).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches('#bulk-form input[name="document_ids"]')) return;
    var form = box.form;
    var ticked = form.querySelectorAll('input[name="document_ids"]:checked');
    form.querySelectorAll("[data-bulk-action]").forEach(function (button) {
      var action = button.getAttribute("data-bulk-action");
      var allowed = ticked.length === 0 || Array.prototype.some.call(ticked, function (t) {
        var row = t.closest("[data-actions]");
        return row && (" " + row.getAttribute("data-actions") + " ").indexOf(" " + action + " ") >= 0;
      });
      button.disabled = !allowed;
    });
  });

  // A document's lifecycle refreshes live, but not under a claim being written.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "lifecycle" && elt.querySelector("details[open]")) event.preventDefault();
  });

  // Dismissible toasts.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      var toast = button.closest(".toast");
      if (toast) toast.remove();
    }
  });

  // The top bar's menus (the phone's navigation, the bell, the account) are <details> and work
  // without this; with it, Escape closes the open one and gives the focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest && event.target.closest(".topbar details[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });

  // Selects that submit their form when changed (the company switcher).
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) form.requestSubmit();
  });
  // ---- Issuing form (app/templates/issuing/_line.html, invoice.html) --------------------------
  // "Remove" submits remove_line=<index> without JavaScript (the server draws the form again);
  // here the row goes at once (the server renumbers the gap), the rows' numbers follow, focus
  // moves to the next row's Remove (or "Add line"), and the live totals are asked again.
  function renumberLines(body) {
    body.querySelectorAll("tr[data-line]").forEach(function (row, position) {
      var number = String(position + 1);
      var cell = row.querySelector("[data-line-number]");
      var remove = row.querySelector("button[data-remove-line]");
      if (cell) cell.textContent = number;
      if (remove) remove.setAttribute("aria-label", (remove.getAttribute("data-label") || "").replace("{n}", number));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-remove-line]") : null;
    var row = button && button.closest("tr[data-line]");
    if (!row || !row.parentNode) return;
    event.preventDefault();
    var body = row.parentNode;
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumberLines(body);
    var problems = document.getElementById("line-problems");
    if (problems) problems.textContent = "";
    var focus = next ? next.querySelector("button[data-remove-line]") : document.querySelector("[data-add-line]");
    if (focus) focus.focus();
    body.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Enter in the customer search searches now; in a line it stays put (without JavaScript it
  // presses the form's first button, "Search", which draws the form again with nothing lost).
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches) return;
    if (input.matches("input[data-active-search]")) {
      event.preventDefault();
      if (window.htmx) window.htmx.trigger(input, "search");
    } else if (input.matches("#lines-table input")) {
      event.preventDefault();
    }
  });
  // ---- end of the issuing form -------------------------------------------------------------

  // ---- Live: the socket says what changed; the page re-fetches what it shows (STYLE.md §7).
  // The server picks the rooms on connect (user:<id>, company:<id> of the acting company), so the
  // socket reconnects when a boosted navigation signs in, switches company or signs out.
  var live = { socket: null, connected: false, company: null };

  function setBadge(count) {
    var badge = document.querySelector("[data-bell-badge]");
    if (!badge) return;
    badge.textContent = String(count);
    badge.hidden = !(count > 0);
  }

  function refreshBell() {
    document.body.dispatchEvent(new CustomEvent("bell-refresh"));
  }

  // The bell fragment carries the unread count: the badge follows every swap of it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var panel = target && target.querySelector ? target.querySelector("[data-unread]") : null;
    if (panel) setBadge(parseInt(panel.getAttribute("data-unread"), 10) || 0);
  });

  // The bell and the chat are polled while the socket is not connected. While it is, the chat
  // still asks every 30 s (one tick in ten): a server whose message queue (Redis) was down may
  // have missed announcements, and the page catches up from its last id.
  var chatTicks = 0;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var id = event.detail.elt && event.detail.elt.id;
    if (!live.connected) return;
    if (id === "bell-poll") event.preventDefault();
    if (id === "chat-poll" && (chatTicks++ % 10) !== 9) event.preventDefault();
  });

  // ---- Dispute chat: messages are fetched as HTML after the last id shown (STYLE.md §7);
  // the socket only says "there is more". Without a socket the panel polls, and sends by htmx.
  var chat = { joined: null, typingSent: 0, typingTimer: null, fetching: false, again: false, panel: null };

  function chatPanel() { return document.querySelector("[data-dispute-chat]"); }
  function lastId(panel) { return parseInt(panel.getAttribute("data-last-id"), 10) || 0; }
  function newClientId() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  // One fetch at a time; a message announced meanwhile triggers one more fetch after it.
  function fetchNewMessages() {
    var panel = chatPanel();
    if (!panel) return;
    if (chat.fetching) { chat.again = true; return; }
    chat.fetching = true;
    chat.again = false;
    var url = panel.getAttribute("data-messages-url") + "?after=" + lastId(panel);
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var current = chatPanel();
        if (html && current === panel) {
          panel.insertAdjacentHTML("beforeend", html);
          settleChat();
        }
      })
      .catch(function () { /* the next announcement or poll fetches again */ })
      .then(function () {
        chat.fetching = false;
        if (chat.again) fetchNewMessages();
      });
  }

  function joinChat() {
    var panel = chatPanel();
    if (!panel) { chat.joined = null; return; }
    if (!live.socket || !live.connected) return;
    var id = panel.getAttribute("data-dispute-id");
    if (chat.joined === id) return;
    chat.joined = id;
    live.socket.emit("dispute:join", { dispute_id: parseInt(id, 10), after: lastId(panel) },
      function (ack) {
        if (ack && ack.ok && ack.messages && ack.messages.length) fetchNewMessages();
      });
  }

  // Each request of the chat says which message the page has last; each send carries its own
  // id, so a retried send is stored once.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var panel = chatPanel();
    if (!panel || !elt || (elt.id !== "chat-form" && elt.id !== "chat-poll")) return;
    event.detail.parameters.after = String(lastId(panel));
    if (elt.id === "chat-form") {
      if (!elt.getAttribute("data-client-id")) elt.setAttribute("data-client-id", newClientId());
      event.detail.parameters.client_id = elt.getAttribute("data-client-id");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "chat-form" && event.detail.successful) {
      elt.reset();
      elt.removeAttribute("data-client-id");
      var errors = document.getElementById("chat-errors");
      if (errors) errors.innerHTML = "";
    }
  });

  // After messages are appended: drop repeats (by id), remember the last id, scroll down.
  document.addEventListener("htmx:afterSettle", settleChat);

  function settleChat() {
    var panel = chatPanel();
    if (!panel) { chat.joined = null; return; }
    var seen = {}, max = 0;
    panel.querySelectorAll("[data-message-id]").forEach(function (el) {
      var id = el.getAttribute("data-message-id");
      if (seen[id]) { el.remove(); return; }
      seen[id] = true;
      max = Math.max(max, parseInt(id, 10) || 0);
    });
    if (max !== lastId(panel)) {
      panel.setAttribute("data-last-id", String(max));
      panel.scrollTop = panel.scrollHeight;
    }
    joinChat();
    // A panel rendered (re)placed now may have been rendered before a message it was announced
    // with: ask once for anything after its last id.
    if (panel !== chat.panel) {
      chat.panel = panel;
      fetchNewMessages();
    }
  }

  document.addEventListener("input", function (event) {
    var panel = chatPanel();
    if (!panel || !live.connected || event.target.id !== "chat-body") return;
    var now = Date.now();
    if (now - chat.typingSent < 2000) return;
    chat.typingSent = now;
    live.socket.emit("dispute:typing", { dispute_id: parseInt(panel.getAttribute("data-dispute-id"), 10) });
  });

  function showTyping(payload) {
    var panel = chatPanel();
    var line = document.getElementById("chat-typing");
    if (!panel || !line || String(payload.dispute_id) !== panel.getAttribute("data-dispute-id")) return;
    line.textContent = (line.getAttribute("data-template") || "{name}").replace("{name}", payload.name);
    clearTimeout(chat.typingTimer);
    chat.typingTimer = setTimeout(function () { line.textContent = ""; }, 3000);
  }

  function openSocket() {
    var socket = window.io({ withCredentials: true });
    socket.on("connect", function () {
      live.connected = true;
      chat.joined = null;
      joinChat();
      fetchNewMessages(); // whatever arrived while disconnected
    });
    socket.on("disconnect", function () { live.connected = false; chat.joined = null; });
    socket.on("connect_error", function () { live.connected = false; });
    socket.on("notification:new", function () {
      var badge = document.querySelector("[data-bell-badge]");
      if (badge) setBadge((parseInt(badge.textContent, 10) || 0) + 1);
      refreshBell();
    });
    socket.on("message:new", function (payload) {
      var panel = chatPanel();
      if (panel && String(payload.dispute_id) === panel.getAttribute("data-dispute-id") &&
          payload.id > lastId(panel)) {
        fetchNewMessages();
      }
    });
    socket.on("dispute:typing", showTyping);
    socket.on("dispute:read", function () {
      document.body.dispatchEvent(new CustomEvent("dispute-read"));
    });
    socket.on("dispute:activity", function () {
      document.body.dispatchEvent(new CustomEvent("dispute-activity"));
      refreshBell(); // its line of unread dispute messages
    });
    socket.on("dispute:changed", function (payload) {
      document.body.dispatchEvent(new CustomEvent("dispute-changed", { detail: payload }));
    });
    // A PDF's review waiting for its extraction (hx-trigger="pdf-extracted from:body").
    socket.on("pdf:extracted", function (payload) {
      document.body.dispatchEvent(new CustomEvent("pdf-extracted", { detail: payload }));
    });
    // A payment's status page re-fetches itself on hx-trigger="payment-changed from:body".
    socket.on("payment:changed", function (payload) {
      document.body.dispatchEvent(new CustomEvent("payment-changed", { detail: payload }));
    });
    // An order's page and the order lists re-fetch themselves on "order-changed from:body".
    socket.on("order:changed", function (payload) {
      document.body.dispatchEvent(new CustomEvent("order-changed", { detail: payload }));
    });
    // Any element with hx-trigger="document-changed from:body" re-fetches itself.
    ["document:received", "document:changed", "document:sent"].forEach(function (name) {
      socket.on(name, function (payload) {
        document.body.dispatchEvent(
          new CustomEvent("document-changed", { detail: { event: name, payload: payload } })
        );
      });
    });
    return socket;
  }

  function syncLive() {
    var marker = document.getElementById("live");
    if (!marker) {
      if (live.socket) live.socket.disconnect();
      live.socket = null;
      live.connected = false;
      return;
    }
    var company = marker.getAttribute("data-company") || "";
    if (live.socket) {
      if (company !== live.company) {
        live.company = company;
        live.socket.disconnect().connect();
      }
      return;
    }
    if (typeof window.io !== "function") {
      // Signed in by a boosted navigation: the client library is not loaded yet.
      if (!document.querySelector("script[data-socket-io]")) {
        var script = document.createElement("script");
        script.src = marker.getAttribute("data-socket-src");
        script.setAttribute("data-socket-io", "");
        script.addEventListener("load", syncLive);
        document.head.appendChild(script);
      }
      return;
    }
    live.company = company;
    live.socket = openSocket();
  }

  document.addEventListener("htmx:afterSettle", syncLive);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", syncLive);
  } else {
    syncLive();
  }
})();
