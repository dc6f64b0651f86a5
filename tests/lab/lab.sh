#!/usr/bin/env bash
# make lab / make lab-destroy: build the local lab, converge site.yml on it, print a report.
#   usage: lab.sh up|destroy
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../scripts/env.sh"
cd "$WAENT_ROOT"
INVENTORY=.cache/lab/inventory.yml
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
# One fork per lab host: the podman connection is slow per task, not per host.
export ANSIBLE_FORKS=${ANSIBLE_FORKS:-10}

case "${1:-up}" in
  up)
    t0=$(date +%s)
    export TOPOLOGY=${TOPOLOGY:-single}
    # Another topology's lab holds the same names and addresses: replace it.
    if [ -f .cache/lab/topology ] && [ "$(cat .cache/lab/topology)" != "$TOPOLOGY" ]; then
      echo "[lab] replacing the $(cat .cache/lab/topology) lab with a $TOPOLOGY lab"
      ansible-playbook playbooks/lab_destroy.yml
    fi
    echo "[lab] creating zone networks and hosts"
    ansible-playbook playbooks/lab_up.yml
    echo "$TOPOLOGY" > .cache/lab/topology
    t1=$(date +%s)
    echo "[lab] converging playbooks/site.yml"
    ansible-playbook -i "$INVENTORY" playbooks/site.yml | tee .cache/lab/site.log
    t2=$(date +%s)
    echo "[lab] report"
    ansible-playbook -i "$INVENTORY" playbooks/lab_report.yml
    echo "[lab] lab up in $((t1 - t0)) s, site.yml converged in $((t2 - t1)) s"
    grep -A20 '^PLAY RECAP' .cache/lab/site.log | sed -n '1,20p' | grep -E 'ok=' || true
    # site.yml's last play audited the lab (roles/audit): the report's three files.
    echo "[lab] audit report: $WAENT_ROOT/.cache/lab/.waent-audit/audit.html (.json, .junit.xml beside it)"
    echo "[lab] inventory: $INVENTORY   destroy: make lab-destroy"
    ;;
  destroy)
    ansible-playbook playbooks/lab_destroy.yml
    rm -f .cache/lab/topology
    ;;
  *) echo "usage: $0 up|destroy" >&2; exit 2 ;;
esac
