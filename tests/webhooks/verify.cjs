// Verifies recorded webhook deliveries with the official Standard Webhooks library
// (npm `standardwebhooks`), as an integrator's receiver would (issue 18).
// Usage: node verify.cjs <deliveries.json> — a JSON array of
// {secret, id, timestamp, signature, body}. Exits non-zero naming the first delivery that does
// not verify, or when a tampered body or a wrong secret would (the check itself is checked).
"use strict";
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const deliveries = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
if (!Array.isArray(deliveries) || deliveries.length === 0) {
  console.error("no deliveries to verify");
  process.exit(1);
}
for (const d of deliveries) {
  const headers = { "webhook-id": d.id, "webhook-timestamp": d.timestamp, "webhook-signature": d.signature };
  try {
    new Webhook(d.secret).verify(d.body, headers);
  } catch (e) {
    console.error(`delivery ${d.id} does not verify under its secret: ${e.message}`);
    process.exit(1);
  }
  const mustFail = [
    () => new Webhook(d.secret).verify(d.body.replace(/}$/, ' }'), headers),
    () => new Webhook("whsec_" + Buffer.alloc(32, 7).toString("base64")).verify(d.body, headers),
  ];
  for (const attempt of mustFail) {
    let verified = true;
    try {
      attempt();
    } catch (e) {
      verified = false;
    }
    if (verified) {
      console.error(`delivery ${d.id}: a tampered body or a wrong secret verified`);
      process.exit(1);
    }
  }
}
console.log(`${deliveries.length} deliveries verified with standardwebhooks`);
