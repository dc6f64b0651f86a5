#!/usr/bin/env bash
# Conformance suite of the Webapp/Coreapp simulator (issue 10): builds the images (a no-op when
# nothing changed), then runs the checks against them with real clients from this host. Prints
# the wall time. Containers and the network are named waent-sim-ct-*; the suite removes its own
# leftovers (that prefix only) at the start and at the end.
#   usage: tests/simulator/conformance/run.sh [pytest arguments, e.g. -k tls]
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../../scripts/env.sh"
cd "$WAENT_ROOT" || exit 1
t0=$(date +%s)
if ! bash tests/simulator/build-images.sh; then
  echo "[conformance] image build failed after $(( $(date +%s) - t0 )) s" >&2
  exit 1
fi
t1=$(date +%s)
python -m pytest -q -p no:cacheprovider tests/simulator/conformance "$@"
rc=$?
t2=$(date +%s)
echo "[conformance] images $(( t1 - t0 )) s, checks $(( t2 - t1 )) s, wall time $(( t2 - t0 )) s (exit $rc)"
exit $rc
