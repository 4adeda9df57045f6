#!/usr/bin/python3
"""Checks a `helm template` rendering of helm/loket (issue 6): what operators expect of every object.

Usage: check_chart.py RENDERED.yaml [--existing-secret NAME] [--tls]
Exits 1 listing every violation.
"""
import sys

import yaml

SERVICES = ["api", "ingress", "inbound", "writer", "outbound"]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def main():
    path = sys.argv[1]
    existing_secret = sys.argv[sys.argv.index("--existing-secret") + 1] if "--existing-secret" in sys.argv else None
    tls = "--tls" in sys.argv
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)

    def component(d):
        return d["metadata"]["labels"].get("app.kubernetes.io/component")

    deployments = {component(d): d for d in by_kind.get("Deployment", [])}
    check(sorted(deployments) == sorted(SERVICES), f"a Deployment per service, got {sorted(deployments)}")
    for name, d in deployments.items():
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        where = f"Deployment {name}"
        check(c["command"] == [f"/usr/local/bin/loket-{name}"], f"{where}: runs loket-{name}")
        check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{where}: readiness probe on /readyz")
        check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{where}: liveness probe on /healthz")
        check(c["readinessProbe"]["httpGet"]["port"] == "admin", f"{where}: probes on the admin port")
        res = c.get("resources", {})
        check(res.get("requests", {}).get("cpu") and res.get("limits", {}).get("memory"), f"{where}: cpu requests and memory limits")
        sc = c["securityContext"]
        check(sc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
        check(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
        check(sc.get("allowPrivilegeEscalation") is False, f"{where}: no privilege escalation")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: drops all capabilities")
        check(pod.get("terminationGracePeriodSeconds", 0) >= 10, f"{where}: a termination grace period")
        refs = [list(e.values())[0]["name"] for e in c["envFrom"]]
        check(any(r.endswith("-config") for r in refs), f"{where}: environment from the ConfigMap")
        if existing_secret:
            check(existing_secret in refs, f"{where}: environment from Secret {existing_secret}")
        admin = [p for p in c["ports"] if p["name"] == "admin"]
        check(len(admin) == 1, f"{where}: an admin port")
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        check(env.get("LOKET_ADMIN_PORT") == str(admin[0]["containerPort"]) if admin else False,
              f"{where}: LOKET_ADMIN_PORT matches the admin port")

    hpas = {component(d) for d in by_kind.get("HorizontalPodAutoscaler", [])}
    for name, d in deployments.items():
        # A Deployment either has a fixed replica count or an HPA owns it.
        check((name in hpas) != ("replicas" in d["spec"]), f"Deployment {name}: replicas xor an HPA")
    for h in by_kind.get("HorizontalPodAutoscaler", []):
        check(h["spec"]["scaleTargetRef"]["name"].endswith("-" + component(h)), f"HPA {component(h)} targets its Deployment")
    check(len(hpas) >= 1, "at least one HPA")

    pdbs = {component(d) for d in by_kind.get("PodDisruptionBudget", [])}
    check(pdbs == set(SERVICES), f"a PodDisruptionBudget per service, got {sorted(pdbs)}")
    services = {component(d) for d in by_kind.get("Service", [])}
    check(services == set(SERVICES), f"a Service per service (admin port for scraping), got {sorted(services)}")

    ingresses = by_kind.get("Ingress", [])
    check(len(ingresses) == 1, "one Ingress")
    if ingresses:
        paths = {p["path"]: p["backend"]["service"]["name"] for r in ingresses[0]["spec"]["rules"] for p in r["http"]["paths"]}
        check(paths.get("/api/v1/webhooks", "").endswith("-ingress"), "webhooks route to the ingress service")
        check(paths.get("/", "").endswith("-api"), "everything else routes to the api service")
        check(bool(ingresses[0]["spec"].get("tls")) == tls, f"ingress TLS {'set' if tls else 'unset'}")

    jobs = by_kind.get("Job", [])
    check(len(jobs) == 1, "one migrations Job")
    if jobs:
        ann = jobs[0]["metadata"]["annotations"]
        check(ann.get("helm.sh/hook") == "pre-install,pre-upgrade", "migrations run as a pre-install/pre-upgrade hook")
        c = jobs[0]["spec"]["template"]["spec"]["containers"][0]
        check(c["command"] == ["/usr/local/bin/loket-admin", "migrate"], "the Job runs loket-admin migrate")
        check(c["securityContext"].get("readOnlyRootFilesystem") is True, "the Job is read-only too")

    configs = by_kind.get("ConfigMap", [])
    check(len(configs) == 1, "one ConfigMap")
    if configs:
        data = configs[0]["data"]
        for k in ["LOKET_KAFKA_BROKERS", "LOKET_PUBLIC_WEBHOOK_URL", "LOKET_PUBLIC_APP_URL", "LOKET_RESEND_API_BASE", "LOKET_TELEGRAM_API_BASE", "LOKET_TWILIO_API_BASE",
                  "LOKET_GRAPH_API_BASE"]:
            check(k in data, f"ConfigMap has {k}")
        check(not any(k in data for k in ["LOKET_MASTER_KEY", "LOKET_DATABASE_URL"]), "no secrets in the ConfigMap")
        check(int(configs[0]["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0, "the ConfigMap exists before the Job")
    secrets = by_kind.get("Secret", [])
    if existing_secret:
        check(not secrets, "no Secret rendered when secret.existingSecret is set")
    else:
        check(len(secrets) == 1, "one Secret")
        if secrets:
            data = secrets[0]["stringData"]
            check(data.get("LOKET_MASTER_KEY", "").startswith("k1:") and len(data["LOKET_MASTER_KEY"]) == 67,
                  "a generated master key k1:<64 hex>")
            check("LOKET_DATABASE_URL" in data, "the Secret has the database URL")

    if errors:
        print("\n".join("FAIL: " + e for e in errors))
        sys.exit(1)
    print(f"{path}: {len(docs)} objects; " + ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items())))


main()
