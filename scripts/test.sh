#!/usr/bin/env bash
# make test and its parts. Every step runs even when an earlier one failed; the summary
# lists each step with its time, and the exit status is non-zero when any step failed.
#   usage: test.sh all|lint|sanity|units|units-floor|preflight|integration|simulator|molecule
set -uo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/env.sh"
cd "$WAENT_ROOT" || exit 1
PYV=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
results=()
passed=0
failed=0

step() {  # step NAME COMMAND...
  local name=$1; shift
  local t0 rc
  t0=$(date +%s)
  printf '\n===== %s =====\n' "$name"
  "$@"; rc=$?
  local dt=$(( $(date +%s) - t0 ))
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); results+=("PASS  ${dt}s  $name")
  else
    failed=$((failed + 1)); results+=("FAIL  ${dt}s  $name (exit $rc)")
  fi
}

# ansible-test needs the collection at a real path inside an ansible_collections tree, with
# its dependencies as siblings: copy what git knows about (tracked or not ignored), once per
# run (sanity and integration share the copy).
TEST_TREE=
sync_test_tree() {
  [ -n "$TEST_TREE" ] && return 0
  local dest="$WAENT_DEPS/ansible_collections/waent/onprem"
  rm -rf "$dest" && mkdir -p "$dest"
  git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ "$dest/" || return 1
  TEST_TREE=$dest
}

run_lint() {
  local rc=0
  ruff check plugins tests scripts benchmarks extensions || rc=1
  ansible-lint --profile production || rc=1
  antsibull-changelog lint || rc=1
  return $rc
}

run_sanity() {
  sync_test_tree || return 1
  (cd "$TEST_TREE" && ansible-test sanity --venv --python "$PYV" --color no)
}

run_units() {
  python -m pytest -q -n 2 -p no:cacheprovider tests/unit
  local rc=$?
  [ "$rc" -eq 5 ] && { echo "no unit tests collected"; return 1; }
  return $rc
}

# The bad-input table: site.yml refuses each row before any host is contacted.
# The X.509/pki/db_tls unit tests again with the oldest cryptography the collection supports
# (the venv-floor of setup.sh, built from _cryptography_dep.MINIMUM_CRYPTOGRAPHY_VERSION).
FLOOR_TESTS=(tests/unit/plugins/module_utils/test_{x509,pki,pki_interop,db_tls,cryptography_dep}.py
             tests/unit/plugins/modules/test_{pki,db_tls_check}_module.py tests/unit/plugins/action/test_pki_action.py)
run_units_floor() {
  local floor_py=${WAENT_VENV_FLOOR:-$WAENT_HOME/venv-floor}/bin/python
  [ -x "$floor_py" ] || { echo "no floor venv: run make setup"; return 1; }
  "$floor_py" -c 'import cryptography; print("cryptography", cryptography.__version__)' || return 1
  "$floor_py" -m pytest -q -p no:cacheprovider "${FLOOR_TESTS[@]}"
}

run_preflight() {
  python -m pytest -q -n 2 -p no:cacheprovider tests/preflight
}

run_integration() {
  local targets
  targets=$(find tests/integration/targets -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort)
  [ -z "$targets" ] && { echo "no integration targets"; return 0; }
  sync_test_tree || return 1
  # shellcheck disable=SC2086
  (cd "$TEST_TREE" && ansible-test integration --local --python "$PYV" --color no $targets)
}

# The simulator's conformance suite (issue 10): builds the simulator images (cached by the hash of
# their sources) and checks every documented behaviour from outside, with real clients.
run_simulator() {
  bash tests/simulator/conformance/run.sh
}

run_scenario() {
  # From the collection root molecule finds extensions/molecule/<scenario> and merges the
  # shared extensions/molecule/config.yml (it does not from inside extensions/).
  molecule test -s "$1"
}

# Molecule scenarios run in MOLECULE_LANES parallel lanes (default 2): they spend most of their
# time waiting on hosts (SSH round trips, services starting, probe timeouts), not on the CPU, and
# each has its own network, subnet and container names. A lane takes the longest scenario left
# (the costs below, seconds measured alone) until none is left; each scenario's output goes to
# tests/output/molecule/<scenario>.log and is printed when the scenario ends.
declare -A SCENARIO_COST=([multiconnect]=730 [faults]=850 [single]=570 [firewall]=305 [firewall_single]=265
                          [database_postgresql]=155 [database_mariadb]=130 [timesync]=120)
LOGS=tests/output/molecule

run_lane() {  # run_lane LANE SCENARIO...: one line "rc seconds scenario" per scenario in $LOGS/lane-LANE
  local lane=$1; shift
  local s t0 rc
  for s in "$@"; do
    t0=$(date +%s)
    run_scenario "$s" >"$LOGS/$s.log" 2>&1; rc=$?
    echo "$rc $(( $(date +%s) - t0 )) $s" >>"$LOGS/lane-$lane"
    printf '\n===== molecule %s (lane %s, exit %s) =====\n' "$s" "$lane" "$rc"
    if [ "$rc" -eq 0 ]; then tail -n 40 "$LOGS/$s.log"; else cat "$LOGS/$s.log"; fi
  done
}

run_molecule_lanes() {
  local lanes=${MOLECULE_LANES:-2} list=() i lane rc dt s
  mkdir -p "$LOGS" && rm -f "$LOGS"/lane-*
  # Longest first, each to the lane with the least work so far.
  mapfile -t list < <(for s in $(scenarios); do echo "${SCENARIO_COST[$s]:-300} $s"; done | sort -rn | awk '{print $2}')
  local -a load=() members=()
  for ((i = 0; i < lanes; i++)); do load[i]=0; members[i]=""; done
  for s in "${list[@]}"; do
    lane=0
    for ((i = 1; i < lanes; i++)); do [ "${load[i]}" -lt "${load[lane]}" ] && lane=$i; done
    load[lane]=$(( load[lane] + ${SCENARIO_COST[$s]:-300} )); members[lane]="${members[lane]} $s"
  done
  local pids=()
  for ((i = 0; i < lanes; i++)); do
    [ -n "${members[i]}" ] || continue
    echo "lane $i:${members[i]}"
    # shellcheck disable=SC2086  # the scenario names are words
    run_lane "$i" ${members[i]} &
    pids+=($!)
  done
  wait "${pids[@]}"
  for ((i = 0; i < lanes; i++)); do
    [ -f "$LOGS/lane-$i" ] || continue
    while read -r rc dt s; do
      if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); results+=("PASS  ${dt}s  molecule $s (lane $i)")
      else
        failed=$((failed + 1)); results+=("FAIL  ${dt}s  molecule $s (lane $i, exit $rc; $LOGS/$s.log)")
      fi
    done <"$LOGS/lane-$i"
  done
}

scenarios() {
  if [ -n "${SCENARIOS:-}" ]; then
    echo "$SCENARIOS"
  else
    find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -rn1 basename | sort
  fi
}

what=${1:-all}
case "$what" in
  all|lint|sanity|units|units-floor|preflight|integration|simulator|molecule) ;;
  *) echo "usage: $0 all|lint|sanity|units|units-floor|preflight|integration|simulator|molecule" >&2; exit 2 ;;
esac
want() { [ "$what" = all ] || [ "$what" = "$1" ]; }
want lint && step lint run_lint
want sanity && step sanity run_sanity
want units && step units run_units
want units-floor && step units-floor run_units_floor
want preflight && step preflight run_preflight
want integration && step integration run_integration
want simulator && step simulator run_simulator
if want molecule; then
  t0=$(date +%s)
  run_molecule_lanes
  results+=("----  $(( $(date +%s) - t0 ))s  molecule, ${MOLECULE_LANES:-2} lanes (wall)")
fi

printf '\n===== summary =====\n'
printf '%s\n' "${results[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
