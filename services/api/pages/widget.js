// Loket live chat, the loader (issue 17; docs/channels/widget.md). A site adds
//   <script src="https://<loket>/widget.js" data-account="acc_…" async></script>
// and this puts a launcher button in a shadow root (the page's CSS cannot reach it) and
// the chat itself in an iframe from Loket's origin. The frame is served only to the sites the
// workspace allows (Content-Security-Policy frame-ancestors): elsewhere it never says "ready"
// and nothing is shown. The frame and this script talk by postMessage, checked both ways.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__loketChat) return;
  var account = script.getAttribute("data-account") || "";
  if (!/^acc_[0-9a-f]{24}$/.test(account)) return;
  var origin = new URL(script.src).origin;
  var state = { open: false, unread: 0, ready: false, queue: [], calls: {}, next: 1 };

  var host = document.createElement("div");
  host.setAttribute("data-loket-chat", "");
  var root = host.attachShadow({ mode: "open" });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(
    ":host{all:initial}" +
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483647;width:56px;height:56px;border:0;" +
    "border-radius:50%;background:var(--accent,#1f6feb);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);" +
    "display:flex;align-items:center;justify-content:center;padding:0}" +
    ".launcher:focus-visible{outline:3px solid #000;outline-offset:3px}" +
    ".launcher svg{width:28px;height:28px;fill:currentColor}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d1242f;" +
    "color:#fff;font:bold 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box}" +
    ".frame{position:fixed;right:20px;bottom:88px;z-index:2147483647;width:370px;height:560px;" +
    "max-height:calc(100vh - 108px);border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff}" +
    "@media (max-width:480px){.frame{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}}" +
    "[hidden]{display:none!important}");
  root.adoptedStyleSheets = [sheet];

  var frame = document.createElement("iframe");
  frame.className = "frame";
  frame.hidden = true;
  frame.title = "Chat";
  frame.src = origin + "/widget/frame?accountId=" + account;

  var button = document.createElement("button");
  button.type = "button";
  button.className = "launcher";
  button.hidden = true;
  button.setAttribute("aria-expanded", "false");
  button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9' +
    'l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg><span class="badge" hidden></span>';
  var badge = button.querySelector(".badge");
  root.appendChild(frame);
  root.appendChild(button);

  function post(message) {
    if (frame.contentWindow) frame.contentWindow.postMessage(message, origin);
  }
  function setOpen(open) {
    state.open = open;
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) state.unread = 0;
    showUnread();  // the label says what a click does next
    post({ loket: "open", open: open });
  }
  function showUnread() {
    badge.hidden = state.unread === 0;
    badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    button.setAttribute("aria-label", state.open ? button.dataset.close :
      button.dataset.open + (state.unread ? " (" + state.unread + ")" : ""));
  }
  button.addEventListener("click", function () { setOpen(!state.open); });

  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow || !e.data || typeof e.data.loket !== "string") return;
    var m = e.data;
    if (m.loket === "ready") {
      state.ready = true;
      host.style.setProperty("--accent", /^#[0-9a-f]{6}$/.test(m.color) ? m.color : "#1f6feb");
      button.dataset.open = String(m.openLabel || "Open chat");
      button.dataset.close = String(m.closeLabel || "Close chat");
      button.hidden = false;
      showUnread();
      state.queue.forEach(post);
      state.queue = [];
    } else if (m.loket === "answer" && state.calls[m.id]) {
      var call = state.calls[m.id];
      delete state.calls[m.id];
      if (m.ok) call.resolve(m.result); else call.reject(new Error(m.error || "refused"));
    } else if (m.loket === "unread" && !state.open) {
      state.unread = Math.max(0, Math.min(999, Number(m.count) || 0));
      showUnread();
    } else if (m.loket === "close") {
      setOpen(false);
      button.focus();
    }
  });

  // Asks the panel to do `what`; a Promise of its answer (sent once the panel is ready).
  function ask(what, args) {
    return new Promise(function (resolve, reject) {
      var m = { loket: what, id: state.next++, args: args };
      state.calls[m.id] = { resolve: resolve, reject: reject };
      if (state.ready) post(m); else state.queue.push(m);
    });
  }

  // For the site's own code: open() from a "chat with us" link; identify({identifier, name,
  // email, hash}) for a signed-in user (resolves to {verified}, rejects when refused); reset()
  // when they sign out (the next visitor starts a conversation of their own).
  window.__loketChat = true;
  window.loket = {
    open: function () { if (state.ready) setOpen(true); },
    identify: function (who) { return ask("identify", who || {}); },
    reset: function () { return ask("reset", {}); },
  };

  function attach() { document.body.appendChild(host); }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
})();
