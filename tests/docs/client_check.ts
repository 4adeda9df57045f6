// Calls an integrator writes against the client generated from docs/openapi.yaml by
// openapi-typescript (tests/docs/openapi_lint.sh). Each `@ts-expect-error` line is a call the
// document must refuse: the check fails if it compiles.
import type { components, operations } from "./schema";

type JsonOf<T> = T extends { content: { "application/json": infer B } } ? B : never;
/** The JSON request body of operation `Op`. */
type Body<Op extends keyof operations> = JsonOf<NonNullable<operations[Op]["requestBody"]>>;
/** The JSON answer of operation `Op` with status `S`. */
type Answer<Op extends keyof operations, S extends keyof operations[Op]["responses"]> = JsonOf<
  operations[Op]["responses"][S]
>;

/** A typed call, as a generated client makes it (the transport is not what is checked here). */
declare function call<Op extends keyof operations>(operation: Op, body: Body<Op>): Promise<unknown>;

// An agent's public reply and an internal note.
export const reply: Body<"createMessage"> = { body: "It ships today.", attachmentIds: ["att_1"] };
export const note: Body<"createMessage"> = { body: "VIP customer", internal: true };
// A WhatsApp reply after the 24-hour window, as an approved template with its variables.
export const templated: Body<"createMessage"> = { template: { id: "HXb5b6", variables: ["Budi", "#1042"] } };
// @ts-expect-error template variables are strings
export const numericVariable: Body<"createMessage"> = { template: { id: "HXb5b6", variables: [1042] } };
// @ts-expect-error a message needs its body (or a template)
export const noBody: Body<"createMessage"> = { internal: true };
// @ts-expect-error authorType is agent or requester
export const systemAuthor: Body<"createMessage"> = { body: "x", authorType: "system" };

// Connecting channels: each provider with its own fields.
export const slack: Body<"connectChannel"> = {
  provider: "slack_webhook",
  webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX",
};
export const telegram: Body<"connectChannel"> = { provider: "telegram_bot", botToken: "123:abc" };
// @ts-expect-error a Slack webhook needs its URL
export const slackWithoutUrl: Body<"connectChannel"> = { provider: "slack_webhook" };
// @ts-expect-error no such provider
export const fax: Body<"connectChannel"> = { provider: "fax", number: "+62" };

// Reading a page of tickets.
export function subjects(page: Answer<"listTickets", 200>): string[] {
  return (page.data?.items ?? []).map((t: components["schemas"]["Ticket"]) => t.subject ?? "");
}
export const status: components["schemas"]["Status"] = "pending";
// @ts-expect-error not a ticket status
export const archived: components["schemas"]["Status"] = "archived";

// The widget asks for a transcript; the body is optional.
export const transcript: Body<"requestTranscript"> = { email: "sari@example.id" };
export async function send(): Promise<void> {
  await call("updateTicket", { status: "resolved" });
  // @ts-expect-error priority is low, normal, high or urgent
  await call("updateTicket", { priority: "whenever" });
}

// An integrator subscribes to ticket events; only documented types are accepted.
export const hook: Body<"createWebhookEndpoint"> = {
  url: "https://crm.example.com/loket",
  events: ["ticket.created", "message.created"],
};
// @ts-expect-error not an event Loket sends
export const deleted: Body<"createWebhookEndpoint"> = { url: "https://crm.example.com/loket", events: ["ticket.deleted"] };
