# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How long the API fails while playbooks/rotate_secrets.yml rotates each secret on a live lab.

Needs a converged lab (``make lab``, either topology). For each secret in turn it starts
``api_probe.py`` on the lab's admin host (calls every 0.5 s, health every 6 s, bounded), runs
``rotate_secrets.yml -e pki_rotate=[SECRET]``, waits until the probe sees the API and every node
healthy again (at most 180 s), stops the probe and reports:

* the run's duration,
* the longest stretch of failing API calls (``GET /v1/settings/application`` with a token) and of
  health checks that were not all connected,
* how many times the probe had to log in again (a token refused: a new JWT key),

then runs ``rotate_secrets.yml -e pki_drop_previous=[all]`` once at the end. Run from the
collection root:

    source scripts/env.sh && python3 benchmarks/rotation_windows.py [wa_secret ...]
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, ".cache", "lab")
INVENTORY = os.path.join(LAB, "inventory.yml")
PKI = os.path.join(LAB, ".waent-pki")
ADMIN = "waent-lab-admin1"
WEB, PORT, NAME = "10.231.3.10", 9090, "wa.lab.test"
SECRETS = ["wa_secret", "wa_web_jwt_crypto_key", "wa_db_password", "wa_admin_password"]
RECOVERY_LIMIT = 180


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def admin_password():
    with open(os.path.join(PKI, "secrets.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["secrets"]["wa_admin_password"]["value"]


def longest_failure(samples, call):
    """(seconds, first failing t) of the longest run of failing samples of ``call``."""
    best, start, first = 0.0, None, None
    rows = [s for s in samples if s["call"] == call]
    for index, sample in enumerate(rows):
        if not sample["ok"] and start is None:
            start = sample["t"]
        if sample["ok"] and start is not None:
            if sample["t"] - start > best:
                best, first = sample["t"] - start, start
            start = None
        if index == len(rows) - 1 and start is not None and sample["t"] - start > best:
            best, first = sample["t"] - start, start
    return round(best, 1), first


def recovered(samples, after):
    later = [s for s in samples if s["t"] > after]
    last = {call: next((s for s in reversed(later) if s["call"] == call), None) for call in ("settings", "health")}
    return all(s is not None and s["ok"] for s in last.values())


def measure(name, work):
    new_password = None
    passwords = [admin_password()]
    extra = {"pki_rotate": [name]}
    if name == "wa_admin_password":
        # Chosen here so the probe can log in with it as soon as the API has it.
        new_password = "Rot-" + secrets.token_urlsafe(18) + "a1A!"
        extra["pki_admin_password"] = new_password
        passwords.insert(0, new_password)
    local = os.path.join(work, f"passwords-{name}")
    with os.fdopen(os.open(local, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        handle.write("\n".join(passwords) + "\n")
    for source, target in ((os.path.join(ROOT, "benchmarks", "api_probe.py"), "/root/api_probe.py"),
                           (os.path.join(PKI, "certs", "ca.crt"), "/root/wa-ca.crt"), (local, "/root/probe-passwords")):
        sh("podman", "cp", source, f"{ADMIN}:{target}")
    sh("podman", "exec", ADMIN, "sh", "-c", "chmod 600 /root/probe-passwords; rm -f /root/probe.log /root/probe.stop")
    sh("podman", "exec", "--detach", ADMIN, "python3", "/root/api_probe.py", WEB, str(PORT), NAME, "/root/wa-ca.crt",
       "/root/probe-passwords", "/root/probe.log", "900", "/root/probe.stop")
    time.sleep(8)
    extra_file = os.path.join(work, f"extra-{name}.json")
    with os.fdopen(os.open(extra_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        json.dump(extra, handle)
    begin = time.monotonic()
    run = sh("ansible-playbook", "-i", INVENTORY, os.path.join(ROOT, "playbooks", "rotate_secrets.yml"),
             "-e", f"@{extra_file}", check=False)
    took = time.monotonic() - begin
    if run.returncode != 0:
        print(run.stdout[-3000:], file=sys.stderr)
        raise SystemExit(f"rotate_secrets.yml failed for {name}")
    deadline = time.monotonic() + RECOVERY_LIMIT
    samples = []
    while time.monotonic() < deadline:
        time.sleep(7)
        lines = sh("podman", "exec", ADMIN, "cat", "/root/probe.log").stdout.splitlines()
        samples = [json.loads(line) for line in lines]
        if samples and recovered(samples, samples[-1]["t"] - 7):
            break
    sh("podman", "exec", ADMIN, "sh", "-c", "touch /root/probe.stop; rm -f /root/probe-passwords")
    api, api_at = longest_failure(samples, "settings")
    health, health_at = longest_failure(samples, "health")
    return {"secret": name, "run_s": round(took, 1), "api_failing_s": api, "api_failing_from_s": api_at,
            "health_not_connected_s": health, "logins": sum(1 for s in samples if s["call"] == "login" and s["ok"]),
            "failed_logins": sum(1 for s in samples if s["call"] == "login" and not s["ok"]),
            "samples": len(samples), "recovered": bool(samples) and recovered(samples, samples[-1]["t"] - 7)}


def main():
    chosen = sys.argv[1:] or SECRETS
    work = tempfile.mkdtemp(prefix="waent-rotation.")
    results = []
    for name in chosen:
        result = measure(name, work)
        results.append(result)
        print(json.dumps(result), flush=True)
    sh("ansible-playbook", "-i", INVENTORY, os.path.join(ROOT, "playbooks", "rotate_secrets.yml"),
       "-e", '{"pki_drop_previous": ["all"]}')
    print(f"{'secret':<24}{'run (s)':>9}{'API failing (s)':>17}{'not connected (s)':>19}{'logins':>8}")
    for r in results:
        print(f"{r['secret']:<24}{r['run_s']:>9}{r['api_failing_s']:>17}{r['health_not_connected_s']:>19}{r['logins']:>8}")


if __name__ == "__main__":
    main()
