// Loket live chat, the panel inside the widget's iframe (issue 17; docs/channels/widget.md).
// Same origin as the API. The visitor's session token, the last message sequence number shown
// and the messages not yet sent live in this origin's localStorage (per site and account): a
// reload, a second tab or a lost connection resumes from there, and a message typed offline is
// sent once the network is back, exactly once (the server dedups on clientMessageId).
(function () {
  "use strict";
  var d = document.body.dataset;
  var KEY = "loket.chat." + d.account;
  var T = {
    en: {
      close: "Close chat", open: "Open chat", conversation: "Conversation", send: "Send", message: "Message",
      placeholder: "Write a message…", prechatIntro: "Before we start, how can we reach you?", name: "Name",
      email: "Email", phone: "Phone", optional: " (optional)", required: "Please fill in your {field}.",
      badEmail: "Please check your email address.", offline: "You are offline. Messages will be sent when you are back.",
      reconnecting: "Reconnecting…", failed: "This message could not be sent: {why}", busy: "We are very busy. Trying again shortly…",
      sending: "Sending…", you: "You", typing: "{name} is typing…", seen: "Seen", attach: "Attach a file",
      uploadFailed: "The file could not be sent: {why}",
      away: "We are away right now. Leave a message and we will answer as soon as we are back.",
      back0: "Back at {time}.", back1: "Back tomorrow at {time}.", backN: "Back on {day} at {time}.",
      transcript: "Email me this conversation", transcriptSent: "We are emailing this conversation to {email}.",
      transcriptAddress: "Which email address should we send it to?",
    },
    id: {
      close: "Tutup obrolan", open: "Buka obrolan", conversation: "Percakapan", send: "Kirim", message: "Pesan",
      placeholder: "Tulis pesan…", prechatIntro: "Sebelum mulai, bagaimana kami bisa menghubungi Anda?", name: "Nama",
      email: "Email", phone: "Telepon", optional: " (opsional)", required: "Mohon isi {field} Anda.",
      badEmail: "Mohon periksa alamat email Anda.", offline: "Anda sedang offline. Pesan akan dikirim saat tersambung kembali.",
      reconnecting: "Menyambung kembali…", failed: "Pesan ini tidak terkirim: {why}", busy: "Kami sedang sangat sibuk. Mencoba lagi sebentar…",
      sending: "Mengirim…", you: "Anda", typing: "{name} sedang mengetik…", seen: "Dilihat", attach: "Lampirkan berkas",
      uploadFailed: "Berkas tidak terkirim: {why}",
      away: "Kami sedang tidak di tempat. Tinggalkan pesan dan kami akan membalas begitu kembali.",
      back0: "Kembali pukul {time}.", back1: "Kembali besok pukul {time}.", backN: "Kembali hari {day} pukul {time}.",
      transcript: "Kirim percakapan ini ke email saya", transcriptSent: "Percakapan ini sedang kami kirim ke {email}.",
      transcriptAddress: "Ke alamat email mana kami kirim?",
    },
  };
  var browser = ((navigator.languages && navigator.languages[0]) || navigator.language || "en").toLowerCase();
  var lang = browser.indexOf("id") === 0 ? "id" : "en";
  function t(key, vars) {
    var s = T[lang][key] || T.en[key] || key;
    Object.keys(vars || {}).forEach(function (k) { s = s.replace("{" + k + "}", vars[k]); });
    return s;
  }
  function $(id) { return document.getElementById(id); }

  // What survives a reload: {token, ticketId, lastSeq, contact, outbox: [{clientMessageId, body}]}.
  var state = load();
  function load() {
    try { return Object.assign({ lastSeq: 0, contact: {}, outbox: [] }, JSON.parse(localStorage.getItem(KEY) || "{}")); }
    catch (e) { return { lastSeq: 0, contact: {}, outbox: [] }; }
  }
  function save() { try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: this tab only */ } }

  var modes = (d.prechat || "optional,optional,off").split(",");
  var fields = { name: modes[0], email: modes[1], phone: modes[2] };
  var isOpen = window.parent === window, unread = 0, socket = null, retryMs = 1000, flushing = false, timer = 0;

  function notice(text) { $("notice").textContent = text || ""; $("notice").hidden = !text; }
  function tell(message) { if (window.parent !== window) window.parent.postMessage(message, "*"); }

  // One <li> per message, ordered by seq; messages not sent yet stay last.
  function render(m, live) {
    var log = $("log");
    if (log.querySelector('[data-id="' + m.id + '"]')) return;
    var li = document.createElement("li");
    li.className = "msg " + m.authorType;
    li.dataset.id = m.id;
    li.dataset.seq = m.seq;
    if (m.authorType !== "requester") {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = m.authorName || d.brand;
      li.appendChild(who);
    }
    li.appendChild(document.createTextNode(m.body));
    (m.attachments || []).forEach(function (a) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "file";
      b.textContent = a.filename + " (" + Math.max(1, Math.round(a.size / 1024)) + " KB)";
      b.addEventListener("click", function () { download(a); });
      li.appendChild(b);
    });
    var before = Array.prototype.find.call(log.children, function (x) { return !x.dataset.seq || Number(x.dataset.seq) > m.seq; });
    log.insertBefore(li, before || null);
    log.scrollTop = log.scrollHeight;
    if (live && m.authorType !== "requester" && (!isOpen || document.hidden)) {
      unread += 1;
      tell({ loket: "unread", count: unread });
    }
  }
  function renderPending(item) {
    var li = document.createElement("li");
    li.className = "msg requester pending";
    li.dataset.client = item.clientMessageId;
    li.appendChild(document.createTextNode(item.body));
    var s = document.createElement("span");
    s.className = "state";
    s.textContent = t("sending");
    li.appendChild(s);
    $("log").appendChild(li);
    $("log").scrollTop = $("log").scrollHeight;
  }
  // "Seen" under the visitor's last message an agent has read.
  var readSeq = 0;
  // `exact`: the conversation's own figure (REST), else a live signal that can only raise it.
  function showSeen(seq, exact) {
    readSeq = exact ? seq || 0 : Math.max(readSeq, seq || 0);
    $("log").querySelectorAll(".seen").forEach(function (el) { el.remove(); });
    var mine = Array.prototype.filter.call($("log").querySelectorAll(".msg.requester[data-seq]"), function (li) { return Number(li.dataset.seq) <= readSeq; });
    if (!mine.length) return;
    var s = document.createElement("span");
    s.className = "seen";
    s.textContent = t("seen");
    mine[mine.length - 1].appendChild(s);
  }
  var typingTimer = 0;
  function showTyping(name, on) {
    clearTimeout(typingTimer);
    $("typing").textContent = on ? t("typing", { name: name || d.brand }) : "";
    $("typing").hidden = !on;
    if (on) typingTimer = setTimeout(function () { showTyping("", false); }, 6000);
  }
  var lastTyping = 0;
  function typingNow() {
    if (!state.token || !state.ticketId || Date.now() - lastTyping < 3000) return;
    lastTyping = Date.now();
    api("POST", "/api/v1/widget/typing", { typing: true }).catch(function () {});
  }

  function settle(item, m) {
    var li = $("log").querySelector('[data-client="' + item.clientMessageId + '"]');
    if (li) li.remove();
    if (m) accept([m], true);
  }

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        var wait = Number(r.headers.get("Retry-After")) || 3;
        return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, json: j, retryAfter: wait }; });
      });
  }
  // Files need the session token, which a plain link cannot carry: fetched, then saved.
  function download(a) {
    fetch("/api/v1/widget/attachments/" + encodeURIComponent(a.id), { headers: { Authorization: "Bearer " + state.token } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
      .then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = a.filename;
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      }, function (e) { $("error").textContent = t("failed", { why: e.message }); });
  }
  function upload(file) {
    return session().then(function () {
      var form = new FormData();
      form.append("file", file, file.name);
      return fetch("/api/v1/widget/attachments", { method: "POST", headers: { Authorization: "Bearer " + state.token }, body: form });
    }).then(function (r) {
      return r.json().then(function (j) {
        if (r.status !== 201) throw new Error((j.error && j.error.message) || String(r.status));
        return j.data;
      });
    });
  }

  function session() {
    if (state.token) return Promise.resolve();
    return api("POST", "/api/v1/widget/sessions", { accountId: d.account }).then(function (r) {
      if (r.status !== 201) throw new Error("the chat is not available (" + r.status + ")");
      state.token = r.json.data.visitorToken;
      state.ticketId = null;
      state.lastSeq = 0;
      save();
      connect();
    });
  }
  function forget() { state.token = null; state.ticketId = null; state.lastSeq = 0; save(); }

  // Messages in seq order of the conversation state.ticketId. The server's answer to "after n"
  // is complete; a pushed message after a gap (missed while reconnecting, or an internal note's
  // seq the visitor never sees) is checked against it.
  function accept(list, live, complete) {
    list.forEach(function (m) {
      if (m.seq <= state.lastSeq) return render(m, false);  // shown before (a reload re-renders)
      if (!complete && m.seq > state.lastSeq + 1) return catchUp();
      render(m, live);
      state.lastSeq = m.seq;
    });
    save();
  }
  var catching = null;
  function catchUp() {
    if (!state.token) return Promise.resolve();
    if (catching) return catching;
    var after = state.lastSeq;
    catching = api("GET", "/api/v1/widget/conversation?after=" + after).then(function (r) {
      catching = null;
      if (r.status === 401) return forget();
      if (r.status !== 200) return;
      var c = r.json.data;
      if (c.ticketId !== state.ticketId) {  // a new conversation: start over at seq 1
        var first = !state.ticketId;
        state.ticketId = c.ticketId;
        state.lastSeq = 0;
        if (!first) $("log").querySelectorAll("[data-seq]").forEach(function (li) { li.remove(); });
        if (after > 0) return catchUp();
      }
      accept(c.messages, after > 0, true);
      showSeen(c.agentReadSeq, true);
      $("transcript").hidden = !c.ticketId;
    }, function () { catching = null; });
    return catching;
  }

  function connect() {
    if (!state.token || socket || !navigator.onLine) return;
    var url = location.origin.replace(/^http/, "ws") + "/api/v1/widget/realtime?visitor_token=" + encodeURIComponent(state.token);
    var ws = socket = new WebSocket(url);
    ws.onopen = function () { retryMs = 1000; notice(""); catchUp(); flush(); };
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.ticketId !== state.ticketId) return m.type === "message" ? catchUp() : undefined;
      if (m.type === "typing") return showTyping(m.name, m.typing);
      if (m.type === "read") return showSeen(m.seq);
      if (m.type !== "message") return;
      if (m.message.authorType !== "requester") showTyping("", false);
      accept([m.message], true);
    };
    ws.onclose = function () {
      if (socket === ws) socket = null;
      if (!navigator.onLine) return;
      notice(t("reconnecting"));
      clearTimeout(timer);
      timer = setTimeout(connect, retryMs + Math.random() * 500);
      retryMs = Math.min(retryMs * 2, 30000);
    };
  }

  // Sends what the outbox holds, oldest first; a network failure leaves it for later.
  function flush() {
    if (flushing || !state.outbox.length || !navigator.onLine) return;
    flushing = true;
    var item = state.outbox[0];
    session().then(function () {
      return api("POST", "/api/v1/widget/conversation/messages", Object.assign({ clientMessageId: item.clientMessageId, body: item.body, attachmentIds: item.attachmentIds }, state.contact));
    }).then(function (r) {
      flushing = false;
      if (r.status === 401) { forget(); return flush(); }
      if (r.status === 429 || r.status >= 500) {  // kept, and sent when the server says it may be
        notice(r.status === 429 && r.json.error ? r.json.error.message : t("busy"));
        setTimeout(flush, Math.min(r.retryAfter, 600) * 1000);
        return;
      }
      state.outbox.shift();
      save();
      if (r.status < 300) notice("");
      if (r.status === 200 || r.status === 201) {
        settle(item, r.json.data);
        if (r.status === 201 && !state.ticketId) catchUp();
      } else {
        settle(item, null);
        $("error").textContent = t("failed", { why: (r.json.error && r.json.error.message) || r.status });
      }
      flush();
    }, function () { flushing = false; setTimeout(flush, 3000); });
  }

  // Outside business hours an email is asked for (optional) even when the form leaves it out,
  // so the answer can reach a visitor who has left.
  var away = false;
  function mode(f) { return f === "email" && away && fields.email === "off" ? "optional" : fields[f]; }
  function availability() {
    return fetch("/api/v1/widget/availability?accountId=" + d.account).then(function (r) { return r.json(); }).then(function (j) {
      var a = j.data;
      if (!a) return;
      away = !a.open;
      var text = "";
      if (away) {
        text = a.awayMessage || t("away");
        if (a.backAt) {
          var time = a.backAt.localTime + " " + a.backAt.zone;
          var day = new Date(Date.UTC(2024, 0, a.backAt.weekday)).toLocaleDateString(lang === "id" ? "id-ID" : "en-GB", { weekday: "long", timeZone: "UTC" });
          text += " " + t(a.backAt.inDays === 0 ? "back0" : a.backAt.inDays === 1 ? "back1" : "backN", { time: time, day: day });
        }
      }
      $("away").textContent = text;
      $("away").hidden = !away;
      showPrechat();
    }, function () { /* offline: asked again when the panel opens */ });
  }

  function contactOk() {
    var contact = {};
    for (var f in fields) {
      if (mode(f) === "off" || state.contact[f]) continue;
      var v = document.querySelector('input[data-field="' + f + '"]').value.trim();
      if (!v && mode(f) === "required") return { error: t("required", { field: t(f).toLowerCase() }), field: f };
      if (f === "email" && v && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) return { error: t("badEmail"), field: f };
      if (v) contact[f] = v;
    }
    return { contact: contact };
  }
  function showPrechat() {
    var any = false;
    for (var f in fields) {
      var show = mode(f) !== "off" && !state.contact[f] && (!state.ticketId || (f === "email" && away));
      document.querySelectorAll('[data-field="' + f + '"]').forEach(function (el) { el.hidden = !show; });
      if (show) {
        any = true;
        var label = document.querySelector('label[data-field="' + f + '"] span');
        label.textContent = t(f) + (mode(f) === "optional" ? t("optional") : "");
      }
    }
    $("prechat").hidden = !any;
  }

  // Queues the typed text (with an uploaded file's id) for sending; false when the pre-chat
  // form still needs something.
  function queue(text, attachmentIds) {
    $("error").textContent = "";
    var c = contactOk();
    if (c.error) {
      $("error").textContent = c.error;
      document.querySelector('input[data-field="' + c.field + '"]').focus();
      return false;
    }
    Object.assign(state.contact, c.contact);
    var item = { clientMessageId: crypto.randomUUID(), body: text, attachmentIds: attachmentIds };
    state.outbox.push(item);
    save();
    $("text").value = "";
    showPrechat();
    renderPending(item);
    flush();
    return true;
  }
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    if ($("text").value.trim()) queue($("text").value);
  });
  $("attach").addEventListener("click", function () { $("file").click(); });
  $("file").addEventListener("change", function () {
    var file = $("file").files[0];
    $("file").value = "";
    if (!file) return;
    var c = contactOk();
    if (c.error) { $("error").textContent = c.error; return; }
    upload(file).then(function (a) { queue($("text").value.trim() || file.name, [a.id]); },
      function (e) { $("error").textContent = t("uploadFailed", { why: e.message }); });
  });
  $("text").addEventListener("input", typingNow);
  $("text").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("close").addEventListener("click", function () { tell({ loket: "close" }); });
  // A new identity or none: the conversation shown so far is someone else's.
  function restart() {
    state.ticketId = null;
    state.lastSeq = 0;
    save();
    $("log").querySelectorAll("[data-seq]").forEach(function (li) { li.remove(); });
    if (socket) { var s = socket; socket = null; s.onclose = null; s.close(); }
    showPrechat();
    connect();
    return catchUp();
  }
  var calls = {
    identify: function (who) {
      return session().then(function () {
        return api("POST", "/api/v1/widget/identify", { identifier: String(who.identifier || ""), name: who.name || undefined, email: who.email || undefined, hash: who.hash || undefined });
      }).then(function (r) {
        if (r.status !== 200) throw new Error((r.json.error && r.json.error.message) || "refused (" + r.status + ")");
        if (who.name) state.contact.name = who.name;
        if (who.email) state.contact.email = who.email;
        return (r.json.data.verified ? restart() : Promise.resolve()).then(function () { return { verified: r.json.data.verified }; });
      });
    },
    reset: function () {
      forget();
      state.contact = {};
      state.outbox = [];
      return restart().then(function () { return {}; });
    },
  };
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || !e.data) return;
    var m = e.data;
    if (m.loket === "open") {
      isOpen = !!m.open;
      if (isOpen) { unread = 0; $("text").focus(); availability(); }
    } else if (calls[m.loket] && m.args) {
      calls[m.loket](m.args).then(function (result) { tell({ loket: "answer", id: m.id, ok: true, result: result }); },
        function (err) { tell({ loket: "answer", id: m.id, ok: false, error: String(err && err.message || err) }); });
    }
  });
  window.addEventListener("offline", function () { notice(t("offline")); if (socket) socket.close(); });
  // The conversation by email: to the address the visitor left, else one they type now.
  function requestTranscript(email) {
    return api("POST", "/api/v1/widget/conversation/transcript", email ? { email: email } : {}).then(function (r) {
      var err = r.json.error || {};
      if (r.status === 202) {
        $("t-address").hidden = true;
        return notice(t("transcriptSent", { email: r.json.data.email }));
      }
      if (r.status === 400 && err.field === "email") {
        $("t-address").hidden = false;
        $("t-email").focus();
        return notice(email ? t("badEmail") : t("transcriptAddress"));
      }
      notice(err.message || String(r.status));
    }, function () { notice(t("offline")); });
  }
  $("t-ask").addEventListener("click", function () { requestTranscript(""); });
  $("transcript").addEventListener("submit", function (e) { e.preventDefault(); requestTranscript($("t-email").value.trim()); });

  window.addEventListener("online", function () { notice(""); connect(); flush(); catchUp(); });
  window.addEventListener("storage", function (e) {  // another tab of this site sent or started a session
    if (e.key !== KEY) return;
    var other = load();
    if (other.token && other.token !== state.token) { state.token = other.token; connect(); }
    if (other.lastSeq > state.lastSeq) catchUp();
  });

  // Labels and texts in the visitor's language; the workspace's colour and greeting.
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.getAttribute("data-i18n")); });
  document.querySelectorAll("[data-i18n-label]").forEach(function (el) { el.setAttribute("aria-label", t(el.getAttribute("data-i18n-label"))); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) { el.placeholder = t(el.getAttribute("data-i18n-placeholder")); });
  document.documentElement.style.setProperty("--accent", d.color);
  $("heading").textContent = d.heading;
  $("tagline").textContent = d.tagline;
  showPrechat();
  availability();
  setInterval(availability, 5 * 60 * 1000);
  state.outbox.forEach(renderPending);
  state.lastSeq = 0;  // render the whole conversation again
  catchUp();
  connect();
  flush();
  tell({ loket: "ready", color: d.color, openLabel: t("open"), closeLabel: t("close") });
})();
