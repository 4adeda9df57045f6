#!/usr/bin/env python3
"""The benchmark report (tests/bench/run.sh): reads OUT/results.jsonl, OUT/samples.txt and
OUT/phases.txt and writes OUT/results.json, OUT/results.md (each figure beside its baseline, the
ratio and the issue's target) and, with gnuplot, OUT/latency.png (percentiles vs offered rate) and
OUT/lag.png (consumer lag over time).

Usage: report.py OUT MODE BROKER. Exits 1 when a webhook was lost or duplicated (the one
correctness property of the run); figures are never judged here.
"""
import json
import os
import platform
import subprocess
import sys

out, mode, broker = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(line) for line in open(os.path.join(out, "results.jsonl")) if line.strip()]


def of(measure):
    return [r for r in rows if r["measure"] == measure]


def one(measure):
    found = of(measure)
    return found[0] if found else {}


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def sustained(steps, p99_limit_ms, done="acknowledged_per_s"):
    """The step of the highest offered rate that kept up (≥ 95% of it `done`: acknowledged, or
    committed end to end) without errors and within the p99 limit; None if none did."""
    ok = [s for s in steps if s[done] >= 0.95 * s["offered_per_s"] and s["p99_ms"] <= p99_limit_ms
          and s.get("errors", 0) == 0]
    return max(ok, key=lambda s: s["offered_per_s"]) if ok else None


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float) and v < 100:
        return f"{v:.1f}{unit}"
    return f"{v:,.0f}{unit}"


ingress, ceiling, e2e = of("ingress"), of("http_ceiling"), of("end_to_end")
email, mailboxes, parse = of("email_end_to_end"), of("mailbox_import"), one("email_parse")
drain, broker_row, db = one("drain"), one("broker"), one("database")
rss = one("peak_rss")

# Exactly once: every acknowledged webhook is exactly one message.
lost = dup = 0
for r in [drain] + e2e + email:
    if r:
        lost += max(0, r["acknowledged"] - r["distinct_messages"])
        dup += r["messages"] - r["distinct_messages"]
for r in mailboxes:  # every mail in the mailbox, exactly once
    lost += max(0, r["in_mailbox"] - r["distinct_messages"])
    dup += r["messages"] - r["distinct_messages"]

ing_best, ceil_best = sustained(ingress, 20), sustained(ceiling, 20)
e2e_best = sustained(e2e, 500, "committed_per_s")
at_1000 = next((s for s in e2e if s["offered_per_s"] == 1000), None)
db_ceiling = db.get("messages_per_s")
broker_ceiling = min(broker_row.get("produced_per_s") or 0, broker_row.get("consumed_per_s") or 0) or None
pipeline_ceiling = min(x for x in [db_ceiling, broker_ceiling] if x) if (db_ceiling or broker_ceiling) else None

summary = []  # (figure, measured, baseline label, baseline, target, met)


def add(figure, value, unit, base_label, base, target, met):
    summary.append({"figure": figure, "value": value, "unit": unit, "baseline": base_label,
                    "baseline_value": base, "ratio": round(value / base, 3) if value is not None and base else None,
                    "target": target, "met": met})


add("ingress: highest rate sustained with p99 ack ≤ 20 ms", ing_best and ing_best["acknowledged_per_s"], "webhooks/s",
    "minimal Beast server, same generator", ceil_best and ceil_best["acknowledged_per_s"], "≥ 10,000/s",
    bool(ing_best and ing_best["acknowledged_per_s"] >= 10000))
if ing_best:
    add("ingress: p99 ack at that rate", ing_best["p99_ms"], "ms", "minimal Beast server at its best rate",
        ceil_best and ceil_best["p99_ms"], "≤ 20 ms", ing_best["p99_ms"] <= 20)
add("end to end: backlog drained (webhook → committed)", drain.get("committed_per_s"), "messages/s",
    "min(broker, pgbench of the writer's SQL)", pipeline_ceiling, "≥ 2,000/s",
    bool(drain and drain["committed_per_s"] >= 2000))
add("end to end: highest fixed rate kept up with p99 ≤ 500 ms", e2e_best and e2e_best["committed_per_s"],
    "messages/s", "pgbench of the writer's SQL", db_ceiling, "≥ 2,000/s",
    bool(e2e_best and e2e_best["offered_per_s"] >= 2000))
if at_1000:
    add("end to end: p99 webhook → committed at 1,000/s", at_1000["p99_ms"], "ms", "—", None, "≤ 500 ms",
        at_1000["p99_ms"] <= 500)
email_best = sustained(email, 500, "committed_per_s")
email_500 = next((s for s in email if s["offered_per_s"] == 500), None)
add("email: highest fixed rate kept up (MTA ingress → committed, mixed) with p99 ≤ 500 ms",
    email_best and email_best["committed_per_s"], "emails/s", "—", None, "≥ 1,000/s",
    bool(email_best and email_best["offered_per_s"] >= 1000))
if email_500:
    add("email: p99 MTA ingress → committed at 500/s", email_500["p99_ms"], "ms", "—", None, "≤ 500 ms",
        email_500["p99_ms"] <= 500)
if parse:
    add("email: parsing one message, the mix (GMime + reply split)", parse["mixed_us"], "µs", "—", None, "—", None)
for r in mailboxes:
    how = "the ingress (its importer) SIGKILLed halfway and restarted" if r["killed_halfway"] else "undisturbed"
    add(f"mailbox: {r['in_mailbox']:,} messages imported from Dovecot, {how}", r["seconds"], "s", "—", None,
        "≤ 60 s, each once", r["seconds"] <= 60 and r["messages"] == r["distinct_messages"] == r["in_mailbox"])
add("end to end: lost / duplicated messages", lost + dup, "messages", "—", None, "0", lost + dup == 0)
closed = {r["connections"]: r["rps"] for r in of("http_ceiling_closed_loop")}
for label, rows_ in (("API GET /tickets/:id", of("api_get_ticket")), ("API filtered list of 50 of 100,000" if mode == "full"
                     else "API filtered list of 50", of("api_filtered_list")),
                    ("API full-text search, 50 per page", of("api_search"))):
    for r in rows_:
        add(f"{label}, {r['connections']} connections (p99 {r['p99_ms']} ms)", r["rps"], "requests/s",
            "minimal Beast server, same closed-loop client", closed.get(r["connections"]), "—", None)
for r in of("api_reports"):
    add(f"API reports of 90 days over {r['tickets']:,} tickets (8 kinds in turn), {r['connections']} connections: p99",
        r["p99_ms"], "ms", "—", None, "≤ 300 ms", r["p99_ms"] <= 300)
for r in of("api_agent_list"):
    add(f"API list as an agent in {r['member_of']} of {r['inboxes']} inboxes (4 filters in turn), "
        f"{r['connections']} connections: p99", r["p99_ms"], "ms", "—", None, "≤ 50 ms", r["p99_ms"] <= 50)
for r in of("api_agent_search"):
    add(f"API search as that agent (one order number), {r['connections']} connections: p99", r["p99_ms"], "ms", "—",
        None, "—", None)
unassigned = next((r for r in of("auto_assignment") if r.get("mode") == "off"), None)
for r in of("auto_assignment"):
    if r.get("mode") == "off":
        continue
    add(f"auto-assignment: {r['tickets']:,} tickets created at once over {r['agents']} agents of capacity "
        f"{r['capacity']}, first created → last assigned", r["first_created_to_last_assigned_s"], "s",
        "the same tickets without auto-assignment", unassigned and unassigned["first_created_to_last_assigned_s"],
        "all assigned, spread ≤ 1",
        r["assigned"] == r["tickets"] == 1000 and r["errors"] == 0 and r["max_per_agent"] - r["min_per_agent"] <= 1)
chat = of("chat")
if chat:
    c = chat[0]
    n = c["visitors"]
    add("live chat: visitor WebSockets held by one api (ready / asked)", c["ready"], "sockets", "asked for", n,
        f"{n:,}", c["ready"] == n)
    add("live chat: api RSS with them open", c["peak_rss_mb"], "MB", "—", None, "≤ 300 MB", c["peak_rss_mb"] <= 300)
    add(f"live chat: agent replies at {c['replies_per_s']}/s → visitor, p99", c["p99_ms"], "ms", "—", None,
        "≤ 250 ms", c["p99_ms"] <= 250 and c["deliveries"] >= c["replies_posted"])
    add(f"live chat: {c['reconnected']} visitors reconnecting at once, {c['resumed_exactly']} caught up with exactly "
        "the reply they missed", c["resume_seconds"], "s", "—", None, "≤ 10 s, none lost",
        0 <= c["resume_seconds"] <= 10 and c["resumed_exactly"] == c["reconnected"])
hooks = of("webhooks")
if hooks:
    h = hooks[0]
    add(f"webhooks: deliveries/s to a local receiver (a burst of {h['burst']:,} events)", h["deliveries_per_s"],
        "deliveries/s", "—", None, "≥ 2,000/s", h["deliveries_per_s"] >= 2000)
    add(f"webhooks: event → delivered at {h['rate_per_s']}/s, p99", h["p99_ms"], "ms", "—", None, "≤ 250 ms",
        h["p99_ms"] <= 250)
    add("webhooks: the same with another endpoint timing out on every attempt, p99",
        h["with_slow_endpoint_p99_ms"], "ms", "without it", h["p99_ms"], "unchanged (≤ 250 ms)",
        h["with_slow_endpoint_p99_ms"] <= 250)
rt = of("realtime")
if rt:
    rt = rt[0]
    n = rt["connections"]
    add(f"realtime: WebSockets held by one api (ready / asked)", rt["ready"], "sockets", "asked for", n,
        f"{n:,}", rt["ready"] == n)
    add("realtime: api RSS with them open", rt["peak_rss_mb"], "MB", "—", None, "≤ 300 MB", rt["peak_rss_mb"] <= 300)
    add("realtime: api CPU while they idle", rt["idle_cpu_cores"], "cores", "—", None, "near 0",
        rt["idle_cpu_cores"] <= 0.05)
    add(f"realtime: {rt['events_per_s']:.0f} events/s fanned out to {rt['sockets_per_workspace']} sockets each, p99",
        rt["p99_ms"], "ms", "—", None, "≤ 250 ms",
        rt["p99_ms"] <= 250 and rt["deliveries"] >= rt["expected_deliveries"])
    plain = next((r for r in of("api_get_ticket") if r["connections"] == 16), None)
    with_ws = of("api_get_ticket_with_websockets")
    if plain and with_ws:
        add("GET /tickets/:id, 16 connections, with the WebSockets open", with_ws[0]["rps"], "requests/s",
            "the same without them", plain["rps"], "within 10%", with_ws[0]["rps"] >= 0.9 * plain["rps"])
    slow = of("api_get_ticket_with_slowloris")
    if slow:
        add("GET /tickets/:id among 500 slowloris connections, p99", slow[0]["p99_ms"], "ms", "—", None, "≤ 50 ms",
            slow[0]["p99_ms"] <= 50 and slow[0]["errors"] == 0)
for svc in ["api", "ingress", "inbound", "writer", "outbound"]:
    v = rss.get(f"{svc}_mb")
    add(f"peak RSS, {svc}", v, "MB", "—", None, "≤ 128 MB", v is not None and v <= 128)

machine = {"cpus": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
           "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
result = {"mode": mode, "broker": broker, "machine": machine, "summary": summary, "measurements": rows,
          "lost": lost, "duplicated": dup}
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(result, f, indent=2, ensure_ascii=False)

md = [f"# Benchmark results ({mode})", "",
      f"{machine['cpus']} CPUs ({machine['cpu']}), {machine['memory_gb']} GB, Linux {machine['kernel']}; broker: {broker}; "
      "everything (PostgreSQL, broker, five services, load generator) on this one machine.", "",
      "| figure | measured | baseline | baseline value | ratio | target | met |", "|---|---|---|---|---|---|---|"]
for s in summary:
    met = "—" if s["met"] is None else ("yes" if s["met"] else "**no**")
    md.append(f"| {s['figure']} | {fmt(s['value'])} {s['unit']} | {s['baseline']} | {fmt(s['baseline_value'])} | "
              f"{'—' if s['ratio'] is None else s['ratio']} | {s['target']} | {met} |")
md += ["", "## Steps", "", "| step | offered/s | acknowledged/s | p50 ms | p99 ms | p99.9 ms | errors |",
       "|---|---|---|---|---|---|---|"]
for s in ceiling + ingress:
    md.append(f"| {s['measure']} | {fmt(s['offered_per_s'])} | {fmt(s['acknowledged_per_s'])} | {s['p50_ms']:.1f} | "
              f"{s['p99_ms']:.1f} | {s['p999_ms']:.1f} | {s['errors']} |")
md += ["", "| end to end | offered/s | committed/s | p50 ms | p99 ms | p99.9 ms | messages | distinct | WhatsApp Cloud API | WhatsApp Twilio |",
       "|---|---|---|---|---|---|---|---|---|---|"]
if drain:
    md.append(f"| backlog drain | — | {fmt(drain['committed_per_s'])} | — | — | — | {drain['messages']} | "
              f"{drain['distinct_messages']} | {drain['cloud_messages']} | {drain['twilio_messages']} |")
for s in e2e:
    md.append(f"| fixed rate | {fmt(s['offered_per_s'])} | {fmt(s['committed_per_s'])} | {s['p50_ms']} | {s['p99_ms']} | "
              f"{s['p999_ms']} | {s['messages']} | {s['distinct_messages']} | {s['cloud_messages']} | {s['twilio_messages']} |")
if email:
    md += ["", "| email | offered/s | committed/s | ack p99 ms | p50 ms | p99 ms | max ms | messages | distinct | with attachment | refused |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in email:
        md.append(f"| MIME ingress | {fmt(s['offered_per_s'])} | {fmt(s['committed_per_s'])} | {s['ack_p99_ms']} | "
                  f"{s['p50_ms']} | {s['p99_ms']} | {s['max_ms']} | {s['messages']} | {s['distinct_messages']} | "
                  f"{s['with_attachment']} | {s['errors']} |")
if parse:
    md += ["", "Parsing one email (µs, one thread): " + ", ".join(
        f"{k} {parse[k + '_us']} ({parse[k + '_bytes']:,} bytes)" for k in ("plain", "html_only", "attachment_100kb", "iso_2022_jp"))
        + f"; the mix {parse['mixed_us']}."]
if broker_row:
    md += ["", f"Broker baseline: {fmt(broker_row['produced_per_s'])} records/s produced (acks=all), "
               f"{fmt(broker_row['consumed_per_s'])} consumed, {broker_row['record_bytes']}-byte records."]
if db:
    md += [f"Database baseline: pgbench, {db['messages_per_tx']} messages per transaction, 1 client: "
           f"{fmt(db['tx_per_s'])} transactions/s = {fmt(db['messages_per_s'])} messages/s, synchronous_commit on."]
# Where the cores went: CPU seconds used per wall second by each component in each phase.
cpu = {}
cpu_file = os.path.join(out, "cpu.txt")
for line in open(cpu_file) if os.path.exists(cpu_file) else []:
    t, comp, secs = line.split()
    cpu.setdefault(comp, []).append((float(t), float(secs)))
phase_marks = []
if os.path.exists(os.path.join(out, "phases.txt")):
    phase_marks = [(float(t), n) for t, n in (line.split() for line in open(os.path.join(out, "phases.txt")))]


def used(comp, a, b):
    """CPU seconds `comp` used between a and b (cumulative counters; a process that restarted counts from 0)."""
    pts = cpu.get(comp, [])
    inside = [v for t, v in pts if a <= t <= b]
    if len(inside) < 2:
        return 0.0
    return sum(max(0.0, y - x) for x, y in zip(inside, inside[1:]))


components = ["ingress", "inbound", "writer", "outbound", "api", "postgres", "devbroker", "generator"]
cores = []
for (a, name), (b, _next) in zip(phase_marks, phase_marks[1:]):
    if b - a >= 1 and cpu:
        cores.append({"phase": name, "seconds": round(b - a, 1),
                      **{c: round(used(c, a, b) / (b - a), 2) for c in components + ["machine"]}})
result["cores_by_phase"] = cores
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(result, f, indent=2, ensure_ascii=False)
if cores:
    md += ["", "## Where the cores went (CPU seconds per second, by phase)", "",
           "*total* is the components'; *machine* is the cores' time not idle, every process's (the harness's own, autovacuum's "
           f"and the leftovers of earlier steps included), out of {os.cpu_count()} cores: near that, "
           "a step's figures measure contention.", "",
           "| phase | seconds | " + " | ".join(components) + " | total | machine |", "|---" * (len(components) + 4) + "|"]
    for c in cores:
        md.append(f"| {c['phase']} | {c['seconds']} | " + " | ".join(f"{c[k]:.2f}" for k in components) +
                  f" | {sum(c[k] for k in components):.2f} | {c['machine']:.2f} |")
md += ["", "Plots: latency.png (percentiles vs offered rate), lag.png (consumer lag over time)."]
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# Plots (gnuplot): data files, then one script.
def write(name, lines):
    with open(os.path.join(out, name), "w") as f:
        f.write("\n".join(lines) + "\n")


write("latency-ingress.dat", [f"{s['offered_per_s']} {s['p50_ms']} {s['p99_ms']} {s['p999_ms']}" for s in ingress])
write("latency-ceiling.dat", [f"{s['offered_per_s']} {s['p50_ms']} {s['p99_ms']} {s['p999_ms']}" for s in ceiling])
write("latency-e2e.dat", [f"{s['offered_per_s']} {max(s['p50_ms'], 0.01)} {s['p99_ms']} {s['p999_ms']}" for s in e2e])
t0 = None
lag = {}
for line in open(os.path.join(out, "samples.txt")) if os.path.exists(os.path.join(out, "samples.txt")) else []:
    t, svc, _rss, records = line.split()
    t0 = float(t) if t0 is None else t0
    if svc in ("inbound", "writer"):
        lag.setdefault(svc, []).append(f"{float(t) - t0:.1f} {records}")
for svc in ("inbound", "writer"):
    write(f"lag-{svc}.dat", lag.get(svc, []) or ["0 0"])
marks = []
if os.path.exists(os.path.join(out, "phases.txt")):
    marks = [(float(t), name) for t, name in (line.split() for line in open(os.path.join(out, "phases.txt")))]
if marks:  # time runs from the first phase (the first samples may come later)
    shift = (t0 or marks[0][0]) - marks[0][0]
    for svc in lag:
        lag[svc] = [f"{float(p.split()[0]) + shift:.1f} {p.split()[1]}" for p in lag[svc]]
    t0 = marks[0][0]
phases = [(t - t0, name) for t, name in marks]
arrows = "\n".join(f'set arrow from {t:.1f}, graph 0 to {t:.1f}, graph 1 nohead dt 2 lc rgb "gray"\n'
                   f'set label "{n}" at {t:.1f}, graph 0.95 offset 0.3,0 font ",8"' for t, n in phases)
script = f"""
set terminal pngcairo size 1200,600 noenhanced
set grid
set key outside right top
set output "{out}/latency.png"
set title "Latency percentiles vs offered rate ({mode}, {broker})"
set xlabel "offered webhooks/s"
set ylabel "ms (log scale)"
set logscale y
plot "{out}/latency-ceiling.dat" u 1:3 w lp t "minimal Beast server p99", \\
     "{out}/latency-ingress.dat" u 1:2 w lp t "ingress ack p50", \\
     "{out}/latency-ingress.dat" u 1:3 w lp t "ingress ack p99", \\
     "{out}/latency-ingress.dat" u 1:4 w lp t "ingress ack p99.9", \\
     "{out}/latency-e2e.dat" u 1:2 w lp t "webhook → committed p50", \\
     "{out}/latency-e2e.dat" u 1:3 w lp t "webhook → committed p99", \\
     "{out}/latency-e2e.dat" u 1:4 w lp t "webhook → committed p99.9"
unset logscale y
set output "{out}/lag.png"
set title "Consumer lag over the run ({mode})"
set xlabel "seconds since start"
set ylabel "records behind"
{arrows}
plot "{out}/lag-inbound.dat" u 1:2 w l t "inbound (channel.webhook.*)", \\
     "{out}/lag-writer.dat" u 1:2 w l t "writer (channel.inbound)"
"""
try:
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"plots not drawn: {e}", file=sys.stderr)
    sys.exit(1)

print(open(os.path.join(out, "results.md")).read())
if lost or dup:
    print(f"EXACTLY-ONCE VIOLATED: {lost} lost, {dup} duplicated", file=sys.stderr)
    sys.exit(1)
