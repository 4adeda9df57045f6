// Shared by the browser tests: headless Chromium (Debian's package, or LOKET_CHROMIUM) and an
// agent's API client.
"use strict";
const { chromium } = require("playwright-core");

/// Launches headless Chromium with what a CI machine needs (no sandbox, GPU or background traffic).
exports.launch = () =>
  chromium.launch({
    executablePath: process.env.LOKET_CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

/// An agent's API call on `base` with API key `key`: agent(method, path, body) → the JSON answer.
exports.agentClient = (base, key) => (method, path, body) =>
  fetch(base + path, {
    method,
    headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  }).then((r) => r.json());
