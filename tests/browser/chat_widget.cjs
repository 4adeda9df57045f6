// The live-chat widget in a real browser (issue 17): headless Chromium (Debian's package) driven
// by playwright-core, the widget embedded by its one script tag in a page of another origin.
// Usage: node chat_widget.cjs <api base URL> <accountId> <agent API key>
// Exits non-zero, printing what failed, when anything does not behave as a visitor expects.
"use strict";
const assert = require("assert");
const crypto = require("crypto");
const http = require("http");
const zlib = require("zlib");
const { launch, agentClient } = require("./support.cjs");

const [base, account, key] = process.argv.slice(2);
const agent = agentClient(base, key);

// A shop's page with the snippet and CSS that would wreck a widget living in the page itself.
function hostPage() {
  return `<!doctype html><html><head><title>Shop</title><style>
    * { all: unset !important; } button { display: none !important; } iframe { width: 1px !important; }
  </style></head><body><h1>Shop</h1>
  <script src="${base}/widget.js" data-account="${account}" async></script></body></html>`;
}

async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

(async () => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(hostPage());
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const site = `http://127.0.0.1:${server.address().port}`;
  const saved = await agent("PATCH", "/api/v1/widget", {
    enabled: true, color: "#aa3300", welcomeHeading: "Halo dari Toko", preChatForm: { email: "required", name: "optional" },
    allowedOrigins: [site],
  });
  assert.strictEqual(saved.data.enabled, true, JSON.stringify(saved));

  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: "en-GB" });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // The panel's realtime socket: it must close when the network goes and come back after.
    let sockets = 0, closed = 0;
    page.on("websocket", (ws) => { sockets += 1; ws.on("close", () => { closed += 1; }); });
    await page.goto(site + "/");

    // The launcher shows in the workspace's colour despite the page's CSS; the panel opens on click.
    const launcher = page.getByRole("button", { name: "Open chat" });
    await launcher.waitFor({ timeout: 10000 });
    assert.strictEqual(await launcher.evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(170, 51, 0)");
    await launcher.click();
    const frame = page.frameLocator("iframe[title=Chat]");
    await frame.locator("#heading").waitFor();
    assert.strictEqual(await frame.locator("#heading").textContent(), "Halo dari Toko");

    // The pre-chat form asks for the required email before anything is sent.
    await frame.getByLabel("Message").fill("Where is my <b>order</b>?");
    await frame.getByRole("button", { name: "Send" }).click();
    assert.match(await frame.locator("#error").textContent(), /email/);
    await frame.getByLabel("Email", { exact: true }).fill("sari@example.test");
    await frame.getByLabel("Name (optional)").fill("Sari");
    await frame.getByLabel("Message").press("Enter");
    await frame.locator(".msg.requester:not(.pending)").waitFor();
    assert.strictEqual(await frame.locator(".msg.requester").textContent(), "Where is my <b>order</b>?");  // as typed
    assert.ok(await frame.locator("#prechat").isHidden(), "the form is asked once");

    // An agent answers through the API; the reply appears without a reload, the note never does.
    const list = await waitFor(async () => {
      const l = await agent("GET", "/api/v1/tickets?channel=chat");
      return l.data.items.length === 1 && l;
    }, "the chat ticket");
    const ticket = list.data.items[0].id;
    assert.strictEqual(list.data.items[0].requesterEmail, "sari@example.test");
    await agent("POST", `/api/v1/tickets/${ticket}/messages`, { body: "Internal: VIP", internal: true });
    await agent("POST", `/api/v1/tickets/${ticket}/messages`, { body: "Hi Sari, it ships <i>today</i>." });
    await frame.locator(".msg.agent").waitFor();
    assert.strictEqual(await frame.locator(".msg.agent").evaluate((li) => li.lastChild.textContent), "Hi Sari, it ships <i>today</i>.");
    assert.strictEqual(await frame.locator("text=Internal: VIP").count(), 0);

    // Typing and read receipts: the visitor sees the agent typing, and "Seen" once read.
    await agent("POST", `/api/v1/tickets/${ticket}/typing`, { typing: true });
    await frame.locator("#typing:not([hidden])").waitFor();
    assert.strictEqual(await frame.locator("#typing").textContent(), "Support is typing…");
    const lastSeq = (await agent("GET", `/api/v1/tickets/${ticket}/messages`)).data.slice(-1)[0].seq;
    await agent("POST", `/api/v1/tickets/${ticket}/read`, { seq: lastSeq });
    await frame.locator(".msg.requester .seen").waitFor();
    assert.strictEqual(await frame.locator(".seen").textContent(), "Seen");

    // A reload keeps the conversation.
    await page.reload();
    await page.getByRole("button", { name: "Open chat" }).click();
    await waitFor(async () => (await frame.locator(".msg").count()) === 2, "the conversation after a reload");

    // Offline: three agent replies and one visitor message; back online, each appears once, in order.
    const closedBefore = closed;
    await context.setOffline(true);
    await frame.locator("#notice:not([hidden])").waitFor();
    for (const n of [1, 2, 3]) await agent("POST", `/api/v1/tickets/${ticket}/messages`, { body: `offline reply ${n}` });
    await frame.getByLabel("Message").fill("typed while offline");
    await frame.getByLabel("Message").press("Enter");
    await frame.locator(".msg.pending").waitFor();
    await new Promise((r) => setTimeout(r, 1000));
    await waitFor(async () => closed > closedBefore, "the socket to close when the network went");
    await context.setOffline(false);
    await waitFor(async () => (await frame.locator(".msg:not(.pending)").count()) === 6, "the messages sent meanwhile", 20000);
    assert.ok(sockets - closed >= 1, "a socket is open again");
    const bodies = await frame.locator(".msg").evaluateAll((els) => els.map((e) => e.lastChild.textContent));
    assert.deepStrictEqual(bodies.slice(2).filter((b) => b.startsWith("offline")), ["offline reply 1", "offline reply 2", "offline reply 3"]);
    assert.strictEqual(bodies.filter((b) => b === "typed while offline").length, 1);
    const full = await agent("GET", `/api/v1/tickets/${ticket}/messages`);
    assert.strictEqual(full.data.filter((m) => m.body === "typed while offline").length, 1, "stored once");

    // A second tab shows the same conversation.
    const tab = await context.newPage();
    await tab.goto(site + "/");
    await tab.getByRole("button", { name: "Open chat" }).click();
    const tabFrame = tab.frameLocator("iframe[title=Chat]");
    await waitFor(async () => (await tabFrame.locator(".msg").count()) === 6, "the conversation in a second tab");
    await tab.close();

    // A file from the visitor: uploaded, sent, shown with its name; the agent gets it.
    await frame.locator("#file").setInputFiles({ name: "receipt.txt", mimeType: "text/plain", buffer: Buffer.from("paid 42") });
    await frame.locator(".msg.requester .file", { hasText: "receipt.txt" }).waitFor();
    const withFile = (await agent("GET", `/api/v1/tickets/${ticket}/messages`)).data.filter((m) => m.attachments.length);
    assert.strictEqual(withFile.length, 1);
    assert.strictEqual(withFile[0].attachments[0].filename, "receipt.txt");

    // Closed panel: a new reply shows as an unread badge on the launcher.
    await page.getByRole("button", { name: "Close chat" }).first().click();
    await agent("POST", `/api/v1/tickets/${ticket}/messages`, { body: "Anything else?" });
    await page.getByRole("button", { name: "Open chat (1)" }).waitFor();

    // Resolved, the visitor asks for the conversation by email: it goes to the address they left.
    await agent("PATCH", `/api/v1/tickets/${ticket}`, { status: "resolved" });
    await page.getByRole("button", { name: "Open chat (1)" }).click();
    await frame.getByRole("button", { name: "Email me this conversation" }).click();
    await frame.locator("#notice", { hasText: "We are emailing this conversation to sari@example.test." }).waitFor();
    await page.getByRole("button", { name: "Close chat" }).first().click();

    // Identity: a signed-in user verified on a second device continues on the first one; a
    // wrong hash is refused (the promise rejects), not ignored.
    const secret = saved.data.identitySecret;
    const sign = (id) => crypto.createHmac("sha256", secret).update(id).digest("hex");
    const device = await (await browser.newContext({ locale: "id-ID" })).newPage();
    await device.goto(site + "/");
    await device.getByRole("button", { name: "Buka obrolan" }).waitFor();
    const refused = await device.evaluate(() => window.loket.identify({ identifier: "user-9", hash: "0".repeat(64) })
      .then(() => "accepted", (e) => e.message));
    assert.match(refused, /does not match/);
    assert.deepStrictEqual(await device.evaluate((h) => window.loket.identify({ identifier: "user-9", name: "Budi", email: "budi@example.test", hash: h }), sign("user-9")), { verified: true });
    await device.getByRole("button", { name: "Buka obrolan" }).click();
    const deviceFrame = device.frameLocator("iframe[title=Chat]");
    await deviceFrame.getByLabel("Pesan").fill("dari ponsel saya");
    await deviceFrame.getByLabel("Pesan").press("Enter");
    await deviceFrame.locator(".msg.requester:not(.pending)").waitFor();
    assert.deepStrictEqual(await page.evaluate((h) => window.loket.identify({ identifier: "user-9", hash: h }), sign("user-9")), { verified: true });
    await page.getByRole("button", { name: /Open chat/ }).click();
    await waitFor(async () => (await frame.locator(".msg").allTextContents()).join("|") === "dari ponsel saya", "the user's conversation on the first device");
    await device.close();

    // Outside business hours the panel says when the team is back, in the visitor's language.
    const inTwo = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][(new Date().getUTCDay() + 2) % 7];
    const away = await agent("PATCH", "/api/v1/widget", { awayMessage: "We are at the warehouse.",
      businessHours: { timeZone: "UTC", week: { [inTwo]: [["09:00", "10:00"]] } } });
    assert.strictEqual(away.data.businessHours.timeZone, "UTC", JSON.stringify(away));
    await page.reload();
    await page.getByRole("button", { name: "Open chat" }).click();
    await frame.locator("#away:not([hidden])").waitFor();
    const weekday = new Date(Date.now() + 2 * 864e5).toLocaleDateString("en-GB", { weekday: "long", timeZone: "UTC" });
    assert.strictEqual(await frame.locator("#away").textContent(), `We are at the warehouse. Back on ${weekday} at 09:00 UTC.`);
    await agent("PATCH", "/api/v1/widget", { businessHours: null });

    // The size budget: loader ≤ 10 KB and the whole widget ≤ 60 KB, gzip.
    const gz = async (url) => zlib.gzipSync(Buffer.from(await (await fetch(url)).arrayBuffer())).length;
    const frameHtml = await (await fetch(`${base}/widget/frame?accountId=${account}`)).text();
    const assets = [...frameHtml.matchAll(/(?:src|href)="(\/assets\/chat\/[^"]+)"/g)].map((m) => base + m[1]);
    assert.strictEqual(assets.length, 2, frameHtml);
    const loader = await gz(`${base}/widget.js`);
    let total = loader + zlib.gzipSync(Buffer.from(frameHtml)).length;
    for (const a of assets) total += await gz(a);
    assert.ok(loader <= 10 * 1024, `loader ${loader} bytes gzip`);
    assert.ok(total <= 60 * 1024, `widget ${total} bytes gzip`);
    console.log(`widget size: loader ${loader} B, all ${total} B gzip`);

    // Another origin (same server, other host name) gets nothing: no launcher, no panel.
    const stranger = await context.newPage();
    await stranger.goto(site.replace("127.0.0.1", "localhost") + "/");
    await new Promise((r) => setTimeout(r, 3000));
    assert.strictEqual(await stranger.getByRole("button", { name: "Open chat" }).count(), 0);
    assert.deepStrictEqual(errors, [], "no script errors");
    console.log("chat widget: send, reply, reload, offline resume, second tab, unread badge and origins work in Chromium");
  } finally {
    await browser.close();
    server.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
