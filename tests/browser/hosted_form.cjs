// The requester's side in a real browser (issue 5): headless Chromium (Debian's package) driven
// by playwright-core. Usage: node hosted_form.cjs <api base URL> <accountId> <agent API key>
// Exits non-zero, printing what failed, when anything does not behave as a customer expects.
"use strict";
const assert = require("assert");
const { launch, agentClient } = require("./support.cjs");

const [base, account, key] = process.argv.slice(2);
const agent = agentClient(base, key);

(async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: "id-ID", viewport: { width: 390, height: 844 } });  // a phone
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

    // The workspace's brand colour (its widget's) is the form's accent.
    await agent("PATCH", "/api/v1/widget", { color: "#aa3300" });
    // The form speaks the browser's language (Indonesian) and switches to English.
    await page.goto(`${base}/support/${account}`);
    await page.waitForSelector("#form-view:not([hidden])");
    assert.strictEqual(await page.textContent("#form-view h1"), "Ada yang bisa kami bantu?");
    assert.strictEqual(await page.getAttribute("html", "lang"), "id");
    await page.click("button[data-lang=en]");
    assert.strictEqual(await page.textContent("#form-view h1"), "How can we help?");
    // The workspace's own name, in both languages, as text (the e2e suite names it with markup).
    assert.strictEqual(await page.textContent(".brand"), "Toko <Browser>");
    assert.strictEqual(await page.title(), "Toko <Browser>");
    assert.strictEqual(await page.$eval("#f-submit", (b) => getComputedStyle(b).backgroundColor), "rgb(170, 51, 0)");

    // Empty required fields are named, next to the field, without a request.
    await page.click("#f-submit");
    assert.strictEqual(await page.textContent("#e-subject"), "Please fill this in.");
    assert.strictEqual(await page.textContent("#e-email"), "Please fill this in.");

    // Labels are wired to their fields (this is how the form is filled: by label).
    await page.getByLabel("Subject").fill("Paket rusak");
    await page.getByLabel("Message").fill("The box arrived crushed.\nOrder #2001");
    await page.getByLabel("Email").fill("rina@example.test");
    await page.getByLabel("Name").fill("Rina");
    await page.keyboard.press("Tab");  // reachable by keyboard
    await page.click("#f-submit");
    await page.waitForSelector("#done-view:not([hidden])");
    const link = await page.textContent("#done-link");
    assert.ok(link.startsWith(base + "/t/"), "the status link: " + link);
    assert.match(await page.textContent("#done-number"), /^#\d+$/);

    // An agent answers (with markup that must stay text) and writes an internal note.
    const list = await agent("GET", "/api/v1/tickets?requester=rina@example.test");
    const ticket = list.data.items[0].id;
    await agent("POST", `/api/v1/tickets/${ticket}/messages`, { body: "Internal: check courier", internal: true });
    await agent("POST", `/api/v1/tickets/${ticket}/messages`, { body: "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>Halo Rina, maaf!" });

    // The status page: the thread, markup shown as text, no internal note.
    await page.goto(link);
    await page.waitForSelector("#status-view:not([hidden])");
    await page.waitForFunction(() => document.querySelectorAll("#thread > li").length === 2);
    const thread = await page.textContent("#thread");
    assert.ok(thread.includes("<script>window.__pwned=2</script>Halo Rina, maaf!"), thread);
    assert.ok(!thread.includes("Internal: check courier"), "internal note leaked");
    assert.strictEqual(await page.evaluate(() => window.__pwned), undefined);
    assert.strictEqual(await page.textContent("#s-subject"), "Paket rusak");

    // The customer replies with a file; the ticket reopens.
    await page.getByLabel("Your reply").fill("Foto terlampir");
    await page.setInputFiles("#r-files", { name: "foto.txt", mimeType: "text/plain", buffer: Buffer.from("crushed box") });
    await page.click("#r-submit");
    await page.waitForFunction(() => document.querySelectorAll("#thread > li").length === 3);
    const fileLink = page.locator("#thread a", { hasText: "foto.txt" });
    assert.strictEqual(await fileLink.count(), 1);
    const download = await page.request.get(base + (await fileLink.getAttribute("href")));
    assert.strictEqual(await download.text(), "crushed box");
    assert.strictEqual((await agent("GET", `/api/v1/tickets/${ticket}`)).data.status, "open");

    // Resolved: the survey appears; one click rates.
    assert.ok(await page.isHidden("#csat"));
    await agent("PATCH", `/api/v1/tickets/${ticket}`, { status: "resolved" });
    await page.reload();
    await page.waitForSelector("#csat:not([hidden])");
    await page.fill("#csat-comment", "Cepat!");
    await page.click("button[data-score='5']");
    await page.waitForSelector("#csat-done:not([hidden])");
    assert.match(await page.textContent("#csat-done"), /5/);
    const rated = await agent("GET", `/api/v1/tickets/${ticket}`);
    assert.deepStrictEqual(rated.data.csat, { score: 5, comment: "Cepat!" });

    assert.deepStrictEqual(errors, [], "no script errors or failed requests");

    // An unknown link is a friendly page (its 404 status is expected), not an error.
    await page.goto(`${base}/t/this-link-does-not-exist-anywhere`);
    await page.waitForSelector("#missing-view:not([hidden])");
    assert.strictEqual(await page.textContent("#missing-view h1"), "Link not found");
    console.log("hosted form, status page, reply and rating work in Chromium");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
