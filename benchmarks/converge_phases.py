# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""First converge against the no-op converge of a Molecule scenario, from its own log.

Runs ``molecule test -s SCENARIO`` (or reads a saved log with --log) and prints, per phase, the
playbook time (the profile_tasks callback's running total at the last task), the tasks run, and
the ok/changed counts of the recap; then the no-op (idempotence) converge as a share of the first
converge, and the costliest tasks of the no-op run by role. Run from the collection root:

    source scripts/env.sh && python3 benchmarks/converge_phases.py single
    python3 benchmarks/converge_phases.py single --log /tmp/scen-single.log
"""

from __future__ import annotations

import argparse
import re
import subprocess


def seconds(stamp):
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def phases(log, scenario):
    parts = re.split(rf"INFO\s+\[{re.escape(scenario)} > (\w+)\] Executing", log)
    found = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=False):
        totals = re.findall(r"\((\d+:\d+:\d+\.\d+)\)\s+(\d+:\d+:\d+\.\d+)", body)
        recap = re.findall(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)", body, re.M)
        tasks = re.findall(r"^TASK \[(.*?)\].*?\n\S+ \d+ \S+ \d+\s+\S+ \+\d+ \((\d+:\d+:\d+\.\d+)\)", body, re.M)
        # profile_tasks prints the previous task's duration under the next task's banner.
        durations = [(seconds(tasks[i][1]), tasks[i - 1][0]) for i in range(1, len(tasks))]
        found[name] = {
            "seconds": seconds(totals[-1][1]) if totals else 0.0,
            "tasks": len(re.findall(r"^TASK \[", body, re.M)),
            "ok": sum(int(ok) for ok, _changed in recap),
            "changed": sum(int(changed) for _ok, changed in recap),
            "durations": durations,
        }
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("scenario")
    parser.add_argument("--log", help="a saved `molecule test` log instead of a new run")
    args = parser.parse_args()
    if args.log:
        with open(args.log, encoding="utf-8") as handle:
            log = handle.read()
    else:
        log = subprocess.run(["molecule", "test", "-s", args.scenario], capture_output=True, text=True,
                             check=True).stdout
    found = phases(log, args.scenario)
    print(f"{'phase':<12}{'playbook (s)':>13}{'tasks':>7}{'ok':>6}{'changed':>9}")
    for name, phase in found.items():
        print(f"{name:<12}{phase['seconds']:>13.1f}{phase['tasks']:>7}{phase['ok']:>6}{phase['changed']:>9}")
    first, noop = found["converge"]["seconds"], found["idempotence"]["seconds"]
    share = 100 * noop / first
    print(f"no-op converge / first converge: {noop:.1f} s / {first:.1f} s = {share:.1f} % (target <= 40 %)")
    by_role = {}
    for duration, task in found["idempotence"]["durations"]:
        role = task.split(" : ")[0]
        by_role[role] = by_role.get(role, 0.0) + duration
    ranked = sorted(by_role.items(), key=lambda item: -item[1])[:8]
    print("no-op converge by role (s): " + ", ".join(f"{role} {total:.1f}" for role, total in ranked))


if __name__ == "__main__":
    main()
