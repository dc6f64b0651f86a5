# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cost of one task over the lab's connections: podman exec vs SSH (pipelining on and off).

One lab host (the lab image, systemd, sshd) on a throw-away podman network; a playbook of
TASKS trivial module runs (``ansible.builtin.stat`` of /etc/hostname: a full module round trip
with almost no work on the host) run through

* ``containers.podman.podman`` (what the Molecule scenarios and ``make lab`` use),
* ``ssh`` with pipelining and ControlPersist (how real users connect, e.g. through a bastion),
* ``ssh`` without pipelining,

interleaved, REPEAT times each. Prints the median wall time per task and per playbook. Removes
its container, network and key afterwards. Run from the collection root after ``make images``:

    source scripts/env.sh && python3 benchmarks/connection_cost.py [--tasks 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

IMAGE = os.environ.get("WAENT_LAB_IMAGE", "localhost/waent-lab:bookworm")
NAME = "waent-bench-conn"
NETWORK = "waent-bench-conn"
SUBNET = "10.78.250.0/24"
ADDRESS = "10.78.250.10"


def sh(*argv, check=True, **kwargs):
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kwargs)


def cleanup():
    sh("podman", "rm", "--force", "--volumes", NAME, check=False)
    sh("podman", "network", "rm", "--force", NETWORK, check=False)


def start_host(public_key):
    cleanup()
    sh("podman", "network", "create", "--subnet", SUBNET, NETWORK)
    sh("podman", "run", "--detach", "--name", NAME, "--systemd", "always", "--network", NETWORK, "--ip", ADDRESS,
       IMAGE, "/sbin/init")
    for _attempt in range(60):
        state = sh("podman", "exec", NAME, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(1)
    sh("podman", "exec", NAME, "sh", "-c",
       f"mkdir -p /root/.ssh && chmod 700 /root/.ssh && echo '{public_key}' > /root/.ssh/authorized_keys "
       "&& chmod 600 /root/.ssh/authorized_keys && systemctl restart ssh")
    for _attempt in range(30):
        if sh("podman", "exec", NAME, "systemctl", "is-active", "ssh", check=False).stdout.strip() == "active":
            return
        time.sleep(1)
    raise SystemExit("sshd did not start in the lab host")


def write_files(work, tasks, key):
    playbook = [{"name": "Trivial module runs", "hosts": "bench", "gather_facts": False,
                 "tasks": [{"name": f"Stat {i}", "ansible.builtin.stat": {"path": "/etc/hostname"}}
                           for i in range(tasks)]}]
    with open(os.path.join(work, "play.yml"), "w", encoding="utf-8") as handle:
        json.dump(playbook, handle)
    common = {"ansible_python_interpreter": "/usr/bin/python3"}
    inventories = {
        "podman": {"ansible_connection": "containers.podman.podman", "ansible_host": NAME},
        "ssh_pipelining": {"ansible_connection": "ssh", "ansible_host": ADDRESS, "ansible_user": "root",
                           "ansible_ssh_private_key_file": key, "ansible_ssh_pipelining": True},
        "ssh_no_pipelining": {"ansible_connection": "ssh", "ansible_host": ADDRESS, "ansible_user": "root",
                              "ansible_ssh_private_key_file": key, "ansible_ssh_pipelining": False},
    }
    for variant, values in inventories.items():
        inventory = {"all": {"hosts": {"bench": dict(common, **values)}}}
        with open(os.path.join(work, f"{variant}.json"), "w", encoding="utf-8") as handle:
            json.dump(inventory, handle)
    return list(inventories)


def run(work, variant):
    ssh_args = (f"-o ControlMaster=auto -o ControlPersist=60s -o ControlPath={work}/cp-%%C "
                "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no")
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_SSH_ARGS=ssh_args,
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    start = time.monotonic()
    result = sh("ansible-playbook", "-i", os.path.join(work, f"{variant}.json"), os.path.join(work, "play.yml"),
                check=False, env=env)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="waent-bench-conn.")
    try:
        key = os.path.join(work, "id_ed25519")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
        with open(key + ".pub", encoding="utf-8") as handle:
            start_host(handle.read().strip())
        variants = write_files(work, args.tasks, key)
        for variant in variants:  # warm-up: ControlMaster, AnsiballZ cache, page cache
            run(work, variant)
        times = {variant: [] for variant in variants}
        for _round in range(args.repeat):
            for variant in variants:
                times[variant].append(run(work, variant))
        print(f"{args.tasks} tasks (ansible.builtin.stat), {args.repeat} runs each, interleaved; median wall time")
        print(f"{'connection':<20} {'playbook (s)':>12} {'per task (ms)':>14}")
        for variant in variants:
            median = statistics.median(times[variant])
            print(f"{variant:<20} {median:>12.2f} {1000 * median / args.tasks:>14.0f}")
    finally:
        cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
