# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time a full audit (playbooks/audit.yml) of the running lab (make lab), N times, and print the
wall time of each run, the median, and where the time goes (the slowest tasks of the last run,
from ansible.posix.profile_tasks).

    usage: python3 benchmarks/audit_time.py [RUNS]      (source scripts/env.sh first; default 5 runs)
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORY = os.path.join(ROOT, ".cache", "lab", "inventory.yml")


def run_once():
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", ANSIBLE_FORKS="10")
    start = time.monotonic()
    done = subprocess.run(["ansible-playbook", "-i", INVENTORY, os.path.join(ROOT, "playbooks", "audit.yml")],
                          capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"audit.yml failed (rc={done.returncode}): {done.stdout[-2000:]}")
    summary = re.search(r'"(\d+) pass, (\d+) fail, (\d+) warn, (\d+) skip; report', done.stdout)
    return wall, summary.groups() if summary else None, done.stdout


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not os.path.exists(INVENTORY):
        sys.exit("no lab: run make lab first")
    topology = open(os.path.join(ROOT, ".cache", "lab", "topology"), encoding="utf-8").read().strip()
    walls = []
    for index in range(runs):
        wall, counts, out = run_once()
        walls.append(wall)
        print(f"run {index + 1}: {wall:.1f} s  (pass, fail, warn, skip) = {counts}")
    print(f"lab {topology}: median {statistics.median(walls):.1f} s, min {min(walls):.1f} s, max {max(walls):.1f} s "
          f"over {runs} runs")
    tasks = [line for line in out.splitlines() if re.search(r" -+ [0-9.]+s$", line)]
    print("slowest tasks of the last run:")
    print("\n".join(tasks[:8]))


if __name__ == "__main__":
    main()
