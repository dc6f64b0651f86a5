#!/usr/bin/env bash
# make test-fresh: `make test` the way a fresh machine runs it. A clone of this checkout's HEAD
# (committed work only) in a temporary directory, an empty toolchain cache (a throw-away
# WAENT_HOME: venvs and collections set up from nothing) and the lab image rebuilt
# (WAENT_IMAGE_REBUILD=1: same tag, the previous image removed only when no container uses it).
# This checkout, its .cache and the developer's ~/.cache/waent-onprem are not touched. The
# temporary directory is removed after a pass and kept, for a look, after a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
t0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/waent-fresh.XXXXXX")
rev=$(git -C "$here" rev-parse HEAD)
echo "[test-fresh] $(git -C "$here" log -1 --format='%h %s' "$rev")"
[ -z "$(git -C "$here" status --porcelain --untracked-files=no)" ] \
  || echo "[test-fresh] note: uncommitted changes in $here are not part of this run"
echo "[test-fresh] clone in $tmp/src, WAENT_HOME=$tmp/home"
git clone -q --no-checkout "$here" "$tmp/src"
git -C "$tmp/src" checkout -q --detach "$rev"

# Nothing of the developer's environment may point into their own cache: env.sh derives
# every path from WAENT_HOME and puts the fresh venv first on PATH.
dev_home=${WAENT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/waent-onprem}
rc=0
(
  cd "$tmp/src"
  PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vF "$dev_home/" | paste -sd: -)
  unset WAENT_ROOT WAENT_VENV WAENT_VENV_FLOOR WAENT_DEPS WAENT_SELF XDG_CACHE_HOME PYTHONPATH \
        ANSIBLE_COLLECTIONS_PATH VIRTUAL_ENV MAKEFLAGS MAKELEVEL
  export WAENT_HOME=$tmp/home WAENT_IMAGE_REBUILD=1
  make test
) || rc=$?

dt=$(( $(date +%s) - t0 ))
# The faults scenario's reports and the report page's screenshots outlive the clone.
if [ -d "$tmp/src/tests/output/faults" ]; then
  keep=${TMPDIR:-/var/tmp}/waent-fresh-reports/${rev:0:7}
  mkdir -p "$keep" && cp -a "$tmp/src/tests/output/faults/." "$keep/"
  echo "[test-fresh] audit reports and screenshots of the faults scenario: $keep"
fi
if [ "$rc" -eq 0 ]; then
  rm -rf "$tmp"
  echo "[test-fresh] PASS: make test on a fresh setup in $((dt / 60)) min $((dt % 60)) s"
else
  echo "[test-fresh] FAIL (exit $rc) after $((dt / 60)) min $((dt % 60)) s; kept $tmp"
fi
exit "$rc"
