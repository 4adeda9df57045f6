// The hosted support form and the requester's status page (seed 002). No build step, no
// dependencies: plain DOM, every text from the server set with textContent (never innerHTML).
(function () {
  "use strict";
  var T = {
    en: {
      brand: "Support", formTitle: "How can we help?",
      formIntro: "Tell us what happened. You will get a private link to follow your request.",
      subject: "Subject", message: "Message", email: "Email", name: "Name", optional: "(optional)", send: "Send",
      doneTitle: "We got your request", ticketNumber: "Ticket number",
      doneLinkIntro: "Follow it and reply here (keep this link private, like a password):",
      status: "Status", reply: "Your reply", attach: "Attach files (up to 5)", sendReply: "Send reply",
      csatTitle: "How did we do?", csatScale: "Rate from 1 (bad) to 5 (great)", csatComment: "Anything to add? (optional)",
      csatThanks: "Thank you! You rated us {score} of 5.", missingTitle: "Link not found",
      missingText: "This link is not valid. Check that you copied all of it.",
      sending: "Sending…", sent: "Sent.", failed: "Something went wrong. Please try again.",
      tooMany: "Too many requests. Please wait a minute and try again.",
      required: "Please fill this in.", badEmail: "Please enter a valid email address.", tooManyFiles: "At most 5 files.",
      you: "You", statusNames: { open: "Open", pending: "Waiting for you", resolved: "Resolved", closed: "Closed" }
    },
    id: {
      brand: "Bantuan", formTitle: "Ada yang bisa kami bantu?",
      formIntro: "Ceritakan apa yang terjadi. Anda akan mendapat link pribadi untuk memantau permintaan Anda.",
      subject: "Judul", message: "Pesan", email: "Email", name: "Nama", optional: "(opsional)", send: "Kirim",
      doneTitle: "Permintaan Anda sudah kami terima", ticketNumber: "Nomor tiket",
      doneLinkIntro: "Pantau dan balas di sini (rahasiakan link ini, seperti kata sandi):",
      status: "Status", reply: "Balasan Anda", attach: "Lampirkan file (maks. 5)", sendReply: "Kirim balasan",
      csatTitle: "Bagaimana layanan kami?", csatScale: "Nilai dari 1 (buruk) sampai 5 (sangat baik)",
      csatComment: "Ada tambahan? (opsional)", csatThanks: "Terima kasih! Anda memberi nilai {score} dari 5.",
      missingTitle: "Link tidak ditemukan", missingText: "Link ini tidak valid. Pastikan Anda menyalin seluruhnya.",
      sending: "Mengirim…", sent: "Terkirim.", failed: "Terjadi kesalahan. Silakan coba lagi.",
      tooMany: "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.",
      required: "Wajib diisi.", badEmail: "Masukkan alamat email yang valid.", tooManyFiles: "Maksimal 5 file.",
      you: "Anda", statusNames: { open: "Terbuka", pending: "Menunggu Anda", resolved: "Selesai", closed: "Ditutup" }
    }
  };
  var body = document.body, view = body.getAttribute("data-view");
  var account = body.getAttribute("data-account"), token = body.getAttribute("data-token");
  var brand = body.getAttribute("data-brand") || "";  // the workspace's name; "" keeps the generic one
  var color = body.getAttribute("data-color") || "";  // its brand colour (#rrggbb); "" keeps ours
  if (/^#[0-9a-f]{6}$/.test(color)) document.documentElement.style.setProperty("--accent", color);
  var stored = localStorage.getItem("loket.lang");
  var browser = ((navigator.languages && navigator.languages[0]) || navigator.language || "en").toLowerCase();
  var lang = stored === "en" || stored === "id" ? stored : (browser.indexOf("id") === 0 ? "id" : "en");
  var ticket = null;

  function t(key) { return (T[lang] && T[lang][key]) || T.en[key] || key; }
  function $(id) { return document.getElementById(id); }
  function show(id) { ["form-view", "done-view", "status-view", "missing-view"].forEach(function (v) { $(v).hidden = v !== id; }); }
  function notice(text, isError) { var n = $("notice"); n.textContent = text || ""; n.className = isError ? "notice error" : "notice"; }

  function applyLang() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.getAttribute("data-i18n")); });
    if (brand) document.querySelectorAll("[data-i18n=brand]").forEach(function (el) { el.textContent = brand; });
    document.querySelectorAll("[data-lang]").forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === lang)); });
    document.title = brand || t("brand");
    if (ticket) renderTicket(ticket);
  }

  function api(method, path, payload, isForm) {
    var opts = { method: method, headers: {} };
    if (payload && !isForm) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(payload); }
    if (isForm) opts.body = payload;
    return fetch("/api/v1/public/tickets" + path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) { return { status: res.status, body: j }; });
    });
  }

  function apiError(r) {
    if (r.status === 429) return t("tooMany");
    return (r.body && r.body.error && r.body.error.message) || t("failed");
  }

  // --- hosted form ---------------------------------------------------------------------------
  function initForm() {
    show("form-view");
    $("ticket-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      ["subject", "body", "email", "name"].forEach(function (f) { $("e-" + f).textContent = ""; });
      var data = { accountId: account, subject: $("f-subject").value.trim(), body: $("f-body").value,
                   email: $("f-email").value.trim(), name: $("f-name").value.trim() };
      var missing = false;
      [["subject", data.subject], ["body", data.body.trim()], ["email", data.email]].forEach(function (p) {
        if (!p[1]) { $("e-" + p[0]).textContent = t("required"); missing = true; }
      });
      if (data.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(data.email)) { $("e-email").textContent = t("badEmail"); missing = true; }
      if (missing) { var first = document.querySelector(".field-error:not(:empty)"); if (first) first.previousElementSibling.focus(); return; }
      if (!data.name) delete data.name;
      $("f-submit").disabled = true;
      notice(t("sending"));
      api("POST", "", data).then(function (r) {
        $("f-submit").disabled = false;
        if (r.status === 201) {
          notice("");
          var link = location.origin + "/t/" + r.body.data.accessToken;
          $("done-number").textContent = "#" + r.body.data.number;
          $("done-link").textContent = link;
          $("done-link").href = link;
          show("done-view");
          $("done-link").focus();
        } else if (r.body && r.body.error && r.body.error.field && $("e-" + r.body.error.field)) {
          notice("");
          $("e-" + r.body.error.field).textContent = r.body.error.message;
        } else {
          notice(apiError(r), true);
        }
      }, function () { $("f-submit").disabled = false; notice(t("failed"), true); });
    });
  }

  // --- status page ---------------------------------------------------------------------------
  function when(iso) {
    try { return new Date(iso).toLocaleString(lang === "id" ? "id-ID" : "en-GB", { dateStyle: "medium", timeStyle: "short" }); }
    catch (e) { return iso; }
  }

  function renderTicket(tk) {
    $("s-subject").textContent = tk.subject;
    $("s-number").textContent = "#" + tk.number;
    $("s-status").textContent = (T[lang].statusNames[tk.status] || tk.status);
    var list = $("thread");
    list.textContent = "";
    tk.messages.forEach(function (m) {
      var li = document.createElement("li");
      li.className = m.authorType;
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = m.authorType === "requester" ? (m.authorName || t("you")) : (m.authorName || t("brand"));
      var at = document.createElement("span");
      at.className = "when";
      at.textContent = when(m.createdAt);
      var text = document.createElement("p");
      text.className = "body";
      text.textContent = m.body;
      li.appendChild(who); li.appendChild(at); li.appendChild(text);
      if (m.attachments && m.attachments.length) {
        var files = document.createElement("ul");
        files.className = "files";
        m.attachments.forEach(function (a) {
          var item = document.createElement("li"), link = document.createElement("a");
          link.href = "/api/v1/public/tickets/" + encodeURIComponent(token) + "/attachments/" + encodeURIComponent(a.id);
          link.textContent = a.filename;
          item.appendChild(link);
          files.appendChild(item);
        });
        li.appendChild(files);
      }
      list.appendChild(li);
    });
    var closed = tk.status === "resolved" || tk.status === "closed";
    $("csat").hidden = !(closed && !tk.csat);
    $("csat-done").hidden = !tk.csat;
    if (tk.csat) $("csat-done").textContent = t("csatThanks").replace("{score}", tk.csat.score);
  }

  function load() {
    return api("GET", "/" + encodeURIComponent(token)).then(function (r) {
      if (r.status === 404) { show("missing-view"); return; }
      if (r.status !== 200) { notice(apiError(r), true); return; }
      ticket = r.body.data;
      show("status-view");
      renderTicket(ticket);
    }, function () { notice(t("failed"), true); });
  }

  function uploadAll(files) {
    var ids = [];
    return files.reduce(function (p, file) {
      return p.then(function () {
        var fd = new FormData();
        fd.append("file", file, file.name);
        return api("POST", "/" + encodeURIComponent(token) + "/attachments", fd, true).then(function (r) {
          if (r.status !== 201) throw r;
          ids.push(r.body.data.id);
        });
      });
    }, Promise.resolve()).then(function () { return ids; });
  }

  function initStatus() {
    $("reply-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("e-reply").textContent = "";
      var text = $("r-body").value, files = Array.prototype.slice.call($("r-files").files || []);
      if (!text.trim()) { $("e-reply").textContent = t("required"); $("r-body").focus(); return; }
      if (files.length > 5) { $("e-reply").textContent = t("tooManyFiles"); return; }
      $("r-submit").disabled = true;
      notice(t("sending"));
      uploadAll(files).then(function (ids) {
        var payload = { body: text };
        if (ids.length) payload.attachmentIds = ids;
        return api("POST", "/" + encodeURIComponent(token) + "/messages", payload);
      }).then(function (r) {
        if (r.status !== 201) throw r;
        $("r-body").value = "";
        $("r-files").value = "";
        notice(t("sent"));
        return load();
      }).catch(function (r) { notice(r && r.status ? apiError(r) : t("failed"), true); })
        .then(function () { $("r-submit").disabled = false; });
    });
    document.querySelectorAll("[data-score]").forEach(function (b) {
      b.addEventListener("click", function () {
        var payload = { score: Number(b.getAttribute("data-score")) };
        var comment = $("csat-comment").value.trim();
        if (comment) payload.comment = comment;
        api("POST", "/" + encodeURIComponent(token) + "/csat", payload).then(function (r) {
          if (r.status !== 201) { notice(apiError(r), true); return; }
          load().then(function () { $("csat-done").focus && $("csat-done").setAttribute("tabindex", "-1"); $("csat-done").focus(); });
        });
      });
    });
    load();
  }

  document.querySelectorAll("[data-lang]").forEach(function (b) {
    b.addEventListener("click", function () { lang = b.getAttribute("data-lang"); localStorage.setItem("loket.lang", lang); applyLang(); });
  });
  applyLang();
  if (view === "form") initForm();
  else if (view === "status") initStatus();
  else show("missing-view");
})();
