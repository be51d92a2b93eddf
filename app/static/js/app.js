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

  // Dismissible toasts.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) {
      var toast = button.closest(".toast");
      if (toast) toast.remove();
    }
  });

  // Selects that submit their form when changed (the company switcher).
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) form.requestSubmit();
  });
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

  // The bell is polled every 30 s only while the socket is not connected.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (live.connected && event.detail.elt && event.detail.elt.id === "bell-poll") {
      event.preventDefault();
    }
  });

  function openSocket() {
    var socket = window.io({ withCredentials: true });
    socket.on("connect", function () { live.connected = true; });
    socket.on("disconnect", function () { live.connected = false; });
    socket.on("connect_error", function () { live.connected = false; });
    socket.on("notification:new", function () {
      var badge = document.querySelector("[data-bell-badge]");
      if (badge) setBadge((parseInt(badge.textContent, 10) || 0) + 1);
      refreshBell();
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
