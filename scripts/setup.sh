#!/usr/bin/env bash
# make setup: everything the project needs on a fresh Debian 12 machine (root, no Docker
# engine, no Galaxy, no registry). Each step checks a stamp first, so a warm re-run takes
# seconds.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/env.sh"
cd "$WAENT_ROOT"
t0=$(date +%s)
log() { printf '[setup] %s\n' "$*"; }
# pip warns about every unreachable find-links location some machines configure; keep real errors.
quiet_pip() { grep -v "is ignored: it is neither a file nor a directory" || true; }

PY=${PY:-/usr/bin/python3}
ANSIBLE_BUNDLE=${ANSIBLE_BUNDLE:-12.3.0}
APT_PACKAGES=(podman runc crun netavark aardvark-dns uidmap fuse-overlayfs debootstrap openssl make git rsync
              shellcheck python3-venv python3-dev gcc iproute2 iptables chromium)

# 1. Debian packages (with their recommends: that is the set verified on this machine class)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup must run as root to install: ${missing[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. podman defaults this machine class needs (cgroup v1 hybrid, no systemd as PID 1)
if ! grep -qs '^runtime *= *"runc"' /etc/containers/containers.conf; then
  log "writing /etc/containers/containers.conf"
  install -d /etc/containers
  install -m 0644 scripts/containers.conf /etc/containers/containers.conf
fi

# 3. toolchain virtualenv, rebuilt when the pins change
req_hash=$(sha256sum requirements-dev.txt | cut -c1-16)
if [ "$(cat "$WAENT_VENV/.stamp" 2>/dev/null)" != "$req_hash" ]; then
  log "creating virtualenv $WAENT_VENV"
  rm -rf "$WAENT_VENV"
  "$PY" -m venv "$WAENT_VENV"
  "$WAENT_VENV/bin/pip" install -q --disable-pip-version-check -U pip 2>&1 | quiet_pip
  "$WAENT_VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | quiet_pip
  echo "$req_hash" > "$WAENT_VENV/.stamp"
fi

# 3b. floor virtualenv: the X.509/pki/db_tls unit tests also run (test.sh units-floor) with the
# oldest cryptography the collection supports (MINIMUM_CRYPTOGRAPHY_VERSION, Debian 12's),
# next to the same ansible-core and pytest; rebuilt when one of those pins changes.
WAENT_VENV_FLOOR=${WAENT_VENV_FLOOR:-$WAENT_HOME/venv-floor}
floor=$(sed -n 's/^MINIMUM_CRYPTOGRAPHY_VERSION = "\([0-9.]*\)"$/\1/p' plugins/module_utils/_cryptography_dep.py)
mapfile -t floor_pins < <(echo "cryptography==$floor"; grep -E '^(ansible-core|pytest)==' requirements-dev.txt)
if [ "$(cat "$WAENT_VENV_FLOOR/.stamp" 2>/dev/null)" != "${floor_pins[*]}" ]; then
  log "creating virtualenv $WAENT_VENV_FLOOR (${floor_pins[*]})"
  rm -rf "$WAENT_VENV_FLOOR"
  "$PY" -m venv "$WAENT_VENV_FLOOR"
  "$WAENT_VENV_FLOOR/bin/pip" install -q --disable-pip-version-check --only-binary cryptography "${floor_pins[@]}" 2>&1 | quiet_pip
  "$WAENT_VENV_FLOOR/bin/python" -c "import cryptography, sys; sys.exit(cryptography.__version__ != '$floor')"
  echo "${floor_pins[*]}" > "$WAENT_VENV_FLOOR/.stamp"
fi

# 3c. sslyze, the TLS scanner of the simulator conformance suite, in a virtualenv of its own: its
# pins (cryptography<47) conflict with the toolchain's; the tests run it as a subprocess.
WAENT_VENV_SSLYZE=${WAENT_VENV_SSLYZE:-$WAENT_HOME/venv-sslyze}
sslyze_hash=$(sha256sum requirements-sslyze.txt | cut -c1-16)
if [ "$(cat "$WAENT_VENV_SSLYZE/.stamp" 2>/dev/null)" != "$sslyze_hash" ]; then
  log "creating virtualenv $WAENT_VENV_SSLYZE"
  rm -rf "$WAENT_VENV_SSLYZE"
  "$PY" -m venv "$WAENT_VENV_SSLYZE"
  "$WAENT_VENV_SSLYZE/bin/pip" install -q --disable-pip-version-check -r requirements-sslyze.txt 2>&1 | quiet_pip
  "$WAENT_VENV_SSLYZE/bin/sslyze" --help >/dev/null
  echo "$sslyze_hash" > "$WAENT_VENV_SSLYZE/.stamp"
fi

# 4. dependency collections from the `ansible` wheel (no Galaxy here): the run-time ones declared
# in galaxy.yml and the test/lab ones in tests/requirements.yml, each checked against its declared
# minimum (scripts/dep_collections.py); unpacked again when the bundle or a declaration changes.
col_stamp="$ANSIBLE_BUNDLE $("$WAENT_VENV/bin/python" scripts/dep_collections.py declared)"
if [ "$(cat "$WAENT_DEPS/.stamp" 2>/dev/null)" != "$col_stamp" ]; then
  log "unpacking collections from ansible==$ANSIBLE_BUNDLE"
  # Staged beside the tree and swapped in at the end: a failed check leaves the old tree alone,
  # and a run that uses the tree meanwhile loses it only for the swap.
  mkdir -p "$(dirname "$WAENT_DEPS")"
  dl=$(mktemp -d "$WAENT_DEPS.new.XXXXXX")
  "$WAENT_VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$dl" "ansible==$ANSIBLE_BUNDLE" 2>&1 | quiet_pip
  "$WAENT_VENV/bin/python" scripts/dep_collections.py unpack "$dl"/ansible-*.whl "$dl/tree" || { rm -rf "$dl"; exit 1; }
  echo "$col_stamp" > "$dl/tree/.stamp"
  rm -rf "$WAENT_DEPS"
  mv "$dl/tree" "$WAENT_DEPS"
  rm -rf "$dl"
fi

# 5. this checkout as waent.onprem for ansible-playbook, molecule and pytest
mkdir -p "$WAENT_SELF/ansible_collections/waent"
ln -sfn "$WAENT_ROOT" "$WAENT_SELF/ansible_collections/waent/onprem"

# 6. ansible-test: offline stand-in for its get-pip download
at_dir=$("$WAENT_VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pipv=$(grep -oP "pip='\K[0-9.]+" "$at_dir/_internal/python_requirements.py" | head -1)
install -d "$HOME/.ansible/test/cache"
install -m 0644 scripts/get_pip_shim.py "$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py"

log "done in $(( $(date +%s) - t0 )) s"
