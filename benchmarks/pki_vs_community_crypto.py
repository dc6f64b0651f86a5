# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: waent.onprem.pki vs the community.crypto task chain, same run, same machine.

Both playbooks (pki_bench_*.yml) produce a CA + 8 EC P-256 certificates for a 1 Webapp /
4 Coreapp / 1 Master / 1 DB topology on localhost (connection local, fresh temp directory per
repetition). For each tool and repetition: a first run (everything created) and a no-op re-run
(nothing may change). Task time = sum of the PKI tasks' durations from the ansible.posix.json
callback; wall time = the whole ansible-playbook process. Medians over the repetitions, then the
ratios community.crypto / waent.onprem.pki.

usage: source scripts/env.sh && python benchmarks/pki_vs_community_crypto.py [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

HERE = os.path.dirname(os.path.abspath(__file__))
# label -> (playbook, extra vars)
TOOLS = {
    "community.crypto": ("pki_bench_community_crypto.yml", []),
    # default: the action plugin runs the backend in-process (the target is the controller)
    "waent.onprem.pki": ("pki_bench_waent.yml", []),
    # the same task forced through a normal module execution (AnsiballZ, new interpreter)
    "waent.onprem.pki (module)": ("pki_bench_waent.yml", ["-e", "waent_onprem_pki_in_process=false"]),
}
RUN_TIMEOUT = 600


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_playbook(playbook, extra, directory):
    """Run one ansible-playbook; return (wall seconds, task seconds, changed task count)."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_JSON_INDENT="0")
    cmd = [
        "ansible-playbook",
        "-i",
        "localhost,",
        "-e",
        f"bench_dir={directory}",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        *extra,
        os.path.join(HERE, playbook),
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{playbook} failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout)
    task_seconds = 0.0
    changed = 0
    for play in report["plays"]:
        for task in play["tasks"]:
            duration = task["task"]["duration"]
            task_seconds += (parse_time(duration["end"]) - parse_time(duration["start"])).total_seconds()
            changed += sum(1 for host in task["hosts"].values() if host.get("changed"))
    return wall, task_seconds, changed


def check_output(directory):
    """Both tools must produce the same thing: 8 certificates with the right EKU, signed by the CA."""
    ca = x509.load_pem_x509_certificate(open(os.path.join(directory, "ca.crt"), "rb").read())
    found = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".crt") and name != "ca.crt":
            cert = x509.load_pem_x509_certificate(open(os.path.join(directory, name), "rb").read())
            if cert.issuer != ca.subject:
                raise SystemExit(f"{directory}/{name} is not issued by the CA")
            ca.public_key().verify  # noqa: B018  (present on every key type we use)
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            found[name] = "server" if ExtendedKeyUsageOID.SERVER_AUTH in eku else "client"
    if len(found) != 8 or sorted(found.values()).count("server") != 2:
        raise SystemExit(f"unexpected certificates in {directory}: {found}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per tool (median is reported)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args()
    if shutil.which("ansible-playbook") is None:
        raise SystemExit("ansible-playbook not on PATH: run `source scripts/env.sh` first")

    samples = {tool: {"first_task": [], "first_wall": [], "noop_task": [], "noop_wall": []} for tool in TOOLS}
    root = tempfile.mkdtemp(prefix="pki-bench-")
    try:
        for rep in range(args.repeat):
            for tool, (playbook, extra) in TOOLS.items():  # interleaved so that machine noise hits all
                directory = os.path.join(root, f"{rep}-{tool.replace(' ', '_')}")
                os.makedirs(directory, mode=0o700)
                wall, task, changed = run_playbook(playbook, extra, directory)
                if changed == 0:
                    raise SystemExit(f"{tool}: first run changed nothing")
                check_output(directory)
                samples[tool]["first_task"].append(task)
                samples[tool]["first_wall"].append(wall)
                wall, task, changed = run_playbook(playbook, extra, directory)
                if changed != 0:
                    raise SystemExit(f"{tool}: no-op run changed {changed} task(s)")
                samples[tool]["noop_task"].append(task)
                samples[tool]["noop_wall"].append(wall)
                print(
                    f"rep {rep + 1}/{args.repeat} {tool:27s} first task {samples[tool]['first_task'][-1]:6.2f}s "
                    f"wall {samples[tool]['first_wall'][-1]:6.2f}s | no-op task {task:6.2f}s wall {wall:6.2f}s",
                    flush=True,
                )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    med = {tool: {k: statistics.median(v) for k, v in s.items()} for tool, s in samples.items()}
    cc = med["community.crypto"]
    print()
    print(
        f"PKI benchmark: CA + 8 EC P-256 certificates, localhost, median of {args.repeat} "
        f"({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    print()
    print(
        "| metric                   | community.crypto | waent.onprem.pki | ratio  "
        "| pki (module path) | ratio  | target |"
    )
    print(
        "|--------------------------|------------------|------------------|--------|-------------------|--------|--------|"
    )
    rows = [
        ("first run: PKI task time", "first_task", 10),
        ("first run: playbook wall", "first_wall", None),
        ("no-op run: PKI task time", "noop_task", 20),
        ("no-op run: playbook wall", "noop_wall", None),
    ]
    verdicts = []
    for label, key, target in rows:
        we = med["waent.onprem.pki"][key]
        mod = med["waent.onprem.pki (module)"][key]
        ratio = cc[key] / we if we else float("inf")
        ratio_mod = cc[key] / mod if mod else float("inf")
        mark = "-"
        if target is not None:
            verdicts.append(ratio >= target)
            mark = f">={target}x {'met' if ratio >= target else 'MISSED'}"
            mark += f" (module path: {'met' if ratio_mod >= target else 'missed'})"
        print(
            f"| {label:24s} | {cc[key]:15.2f}s | {we:15.2f}s | {ratio:5.1f}x "
            f"| {mod:16.2f}s | {ratio_mod:5.1f}x | {mark} |"
        )
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
