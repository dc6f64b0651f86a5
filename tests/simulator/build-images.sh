#!/usr/bin/env bash
# Build the Webapp/Coreapp simulator images (issue 10) and the database image of its
# conformance tests without any registry, and export the app images as archives.
#   localhost/waent-sim-base:bookworm    debootstrap (Debian mirror only) + `podman import`:
#                                        Python 3 and the Debian packages waent_sim uses
#   localhost/waent-sim-webapp:latest    `podman build` FROM the base: waent_sim + the launch
#   localhost/waent-sim-coreapp:latest   script at the vendor's path, the vendor's volumes/ports
#   localhost/waent-sim-db:bookworm      `podman build` FROM the lab image: MariaDB + PostgreSQL 15
#   $WAENT_HOME/images/waent-sim-{webapp,coreapp}.tar   `podman save --format docker-archive` of
#                                        localhost/waent-sim/{web,coreapp}:<version>, what a lab host
#                                        loads with `podman load`/`docker load -i`
# Every image carries labels that say what it was built from (the recipe hash, the sources hash,
# the id of the image it was built FROM); a run where nothing changed is a no-op, and an archive
# is exported again only when its image id changed (`<archive>.id`). WAENT_IMAGE_REBUILD=1
# rebuilds every image anyway (not the lab image, which `make images` owns). A rebuild moves the
# tag and removes the previous image only when nothing uses it, as tests/lab/build-image.sh does.
#   usage: build-images.sh
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"

BASE=localhost/waent-sim-base:bookworm
WEBAPP=localhost/waent-sim-webapp:latest
COREAPP=localhost/waent-sim-coreapp:latest
DB=localhost/waent-sim-db:bookworm
LAB=${WAENT_LAB_IMAGE:-localhost/waent-lab:bookworm}
OUT=$WAENT_HOME/images
REBUILD=${WAENT_IMAGE_REBUILD:-0}
# Only what waent_sim imports (cryptography, PyNaCl, the two DB drivers) and what its tests use
# inside a container: openssl for probes, libfaketime (LD_PRELOAD) to shift one container's clock
# by a few seconds without touching the shared clock, dumb-init (37 kB) as PID 1 so SIGTERM
# reaches Python and children are reaped. procps for `ps` when debugging a test.
# python3-cffi-backend by name: cryptography and PyNaCl depend on it only through a virtual
# package (python3-cffi-backend-api-*), which debootstrap does not resolve.
PKGS=python3,python3-cffi-backend,python3-cryptography,python3-nacl,python3-pymysql,python3-psycopg2,openssl,ca-certificates,faketime,dumb-init,procps
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

log() { printf '[sim-images] %s\n' "$*"; }
die() { printf '[sim-images] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'printf "[sim-images] ERROR: failed (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR
# One inspect helper: empty output when the image does not exist.
inspect() { podman image inspect "$1" --format "$2" 2>/dev/null || true; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
# The previous image behind a tag that a rebuild moved; removed at the end (derived images first).
RETIRE=()
retire_later() { [ -n "$1" ] && [ "$1" != "$(inspect "$2" '{{.Id}}')" ] && RETIRE+=("$1"); return 0; }
REPORT=()
report() { # image status seconds
  REPORT+=("$(printf '%-36s %-8s %4s s  image %s' "$1" "$2" "$3" "$(mb "$(inspect "$1" '{{.Size}}')")")")
}

command -v podman >/dev/null || die "podman is missing: run 'make setup' first"
command -v debootstrap >/dev/null || die "debootstrap is missing: run 'make setup' first"
mkdir -p "$OUT"
# Two builds at once (make test and a developer's make) would race on the tags and archives.
exec 9>"$OUT/.build-images.lock"
flock -w 1800 9 || die "another build-images.sh has held $OUT/.build-images.lock for 30 min"
WORK=$(mktemp -d /var/tmp/waent-sim-images.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
T0=$(date +%s)

# ---- 1. base rootfs ---------------------------------------------------------------------------
# Its recipe hash covers this function's body (`declare -f`: comments do not count) and the
# package list, so editing the app or DB recipes below never rebuilds the slow base.
build_base() {
  local R="$WORK/rootfs"
  timeout 1200 debootstrap --variant=minbase --include="$PKGS" bookworm "$R" "$MIRROR" \
    > "$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" "$R/debootstrap/debootstrap.log" >&2 || true
                                        die "debootstrap failed (log above)"; }
  # A fresh machine-id per container.
  : > "$R/etc/machine-id"
  rm -f "$R/var/lib/dbus/machine-id"
  # Small image: no docs (copyright files stay), man pages, translations; the dpkg excludes keep
  # it that way if a derived image installs more.
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
    'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
    'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' \
    > "$R/etc/dpkg/dpkg.cfg.d/01-waent-slim"
  find "$R/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin \
    "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/debconf/*-old "$R"/var/log/*.log "$R"/var/log/apt/*
  echo "deb $MIRROR bookworm main" > "$R/etc/apt/sources.list"
  rm -f "$R/etc/apt/sources.list.d/"*
  # PATH explicitly: an imported image has no Env, and `docker load` + `docker run` must not
  # depend on the engine's default.
  tar -C "$R" -c . | timeout 600 podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
    --change "LABEL org.waent.recipe=$1" - "$BASE" > "$WORK/import.log" 2>&1 \
    || { tail -n 30 "$WORK/import.log" >&2; die "podman import of $BASE failed (log above)"; }
}
base_hash=$( { declare -f build_base; echo "$PKGS"; } | sha256sum | cut -c1-16)
base_prev=$(inspect "$BASE" '{{.Id}}')
if [ "$(inspect "$BASE" '{{index .Labels "org.waent.recipe"}}')" = "$base_hash" ] && [ "$REBUILD" != 1 ]; then
  report "$BASE" current 0
else
  log "building $BASE (recipe $base_hash) from $MIRROR"
  t=$(date +%s)
  build_base "$base_hash"
  report "$BASE" built $(( $(date +%s) - t ))
  retire_later "$base_prev" "$BASE"
fi
base_id=$(inspect "$BASE" '{{.Id}}')
[ -n "$base_id" ] || die "$BASE is missing after its build"

# ---- 2. Webapp and Coreapp images -------------------------------------------------------------
# One copy of the package (no bytecode caches) taken once, so both images get the same sources
# even while someone edits tests/simulator/waent_sim; the hash is over that copy.
SRC="$HERE/waent_sim"
[ -f "$SRC/__init__.py" ] || die "$SRC/__init__.py is missing"
mkdir -p "$WORK/stage"
cp -a "$SRC" "$WORK/stage/waent_sim"
find "$WORK/stage" \( -name __pycache__ -o -name '*.pyc' -o -name '.*' \) -prune -exec rm -rf {} +
chmod -R u=rwX,go=rX "$WORK/stage"

# build_app IMAGE MODULE PORTS...: context = the package + launch script + Containerfile; the
# sources label is the hash of the whole context, so a changed recipe rebuilds too.
build_app() {
  local image=$1 module=$2; shift 2
  local name=${image##*/}; name=${name%%:*}
  local ctx="$WORK/ctx-$name" h prev t
  mkdir -p "$ctx"
  cp -a "$WORK/stage/waent_sim" "$ctx/waent_sim"
  # The vendor's entry point path; dumb-init (the exec makes it PID 1) forwards SIGTERM to Python.
  cat > "$ctx/launch_within_docker.sh" <<EOF
#!/bin/sh
# waent.onprem simulator: stands in for the vendor's launch script (tests only).
exec /usr/bin/dumb-init -- python3 -m $module "\$@"
EOF
  chmod 0755 "$ctx/launch_within_docker.sh"
  cat > "$ctx/Containerfile" <<EOF
FROM $BASE
ENV PYTHONPATH=/opt/waent_sim PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LANG=C.UTF-8
COPY waent_sim /opt/waent_sim/waent_sim
COPY launch_within_docker.sh /opt/whatsapp/bin/launch_within_docker.sh
RUN mkdir -p /usr/local/waent/data /usr/local/wamedia
VOLUME ["/usr/local/waent/data", "/usr/local/wamedia"]
EXPOSE $*
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/whatsapp/bin/launch_within_docker.sh"]
EOF
  h=$(cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  prev=$(inspect "$image" '{{.Id}}')
  if [ "$(inspect "$image" '{{index .Labels "org.waent.sources"}}')" = "$h" ] \
     && [ "$(inspect "$image" '{{index .Labels "org.waent.base"}}')" = "$base_id" ] && [ "$REBUILD" != 1 ]; then
    report "$image" current 0
    return 0
  fi
  log "building $image (sources $h)"
  t=$(date +%s)
  # --layers=false: one layer, no intermediate images left behind; --network none: nothing to fetch.
  timeout 600 podman build --pull=never --layers=false --format docker --network none \
    --label "org.waent.sources=$h" --label "org.waent.base=$base_id" \
    -f "$ctx/Containerfile" -t "$image" "$ctx" > "$WORK/build-$name.log" 2>&1 \
    || { tail -n 30 "$WORK/build-$name.log" >&2; die "podman build of $image failed (log above)"; }
  report "$image" built $(( $(date +%s) - t ))
  retire_later "$prev" "$image"
}
build_app "$WEBAPP" waent_sim.webapp 443
build_app "$COREAPP" waent_sim.coreapp 6250 6251 6252 6253

# ---- 3. database image for the conformance tests ----------------------------------------------
if [ -z "$(inspect "$LAB" '{{.Id}}')" ]; then
  log "$LAB is missing: building it first (tests/lab/build-image.sh)"
  timeout 1800 bash "$HERE/../lab/build-image.sh" "$LAB"
fi
lab_id=$(inspect "$LAB" '{{.Id}}')
[ -n "$lab_id" ] || die "$LAB is missing after tests/lab/build-image.sh"
mkdir -p "$WORK/ctx-db"
# apt-get update in the build itself: the lab image ships no package lists, and a cached list
# would go stale. No docs/man/translations for the new packages (dpkg excludes, as in the sim
# base). policy-rc.d keeps the packages' scripts from starting servers inside the build;
# autostart off because the tests start mariadbd / postgres themselves, with their own settings.
cat > "$WORK/ctx-db/Containerfile" <<EOF
FROM $LAB
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \\
 && printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \\
      'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/locale/*' > /etc/dpkg/dpkg.cfg.d/01-waent-slim \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server postgresql \\
 && systemctl disable mariadb.service postgresql.service \\
 && rm -f /usr/sbin/policy-rc.d \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
EOF
db_hash=$(sha256sum < "$WORK/ctx-db/Containerfile" | cut -c1-16)
db_prev=$(inspect "$DB" '{{.Id}}')
if [ "$(inspect "$DB" '{{index .Labels "org.waent.recipe"}}')" = "$db_hash" ] \
   && [ "$(inspect "$DB" '{{index .Labels "org.waent.base"}}')" = "$lab_id" ] && [ "$REBUILD" != 1 ]; then
  report "$DB" current 0
else
  log "building $DB (recipe $db_hash)"
  t=$(date +%s)
  timeout 900 podman build --pull=never --layers=false --format docker \
    --label "org.waent.recipe=$db_hash" --label "org.waent.base=$lab_id" \
    -f "$WORK/ctx-db/Containerfile" -t "$DB" "$WORK/ctx-db" > "$WORK/build-db.log" 2>&1 \
    || { tail -n 30 "$WORK/build-db.log" >&2; die "podman build of $DB failed (log above)"; }
  report "$DB" built $(( $(date +%s) - t ))
  retire_later "$db_prev" "$DB"
fi

# ---- 4. archives ------------------------------------------------------------------------------
# Each archive carries the image under the name the roles run: <wa_image_registry>/<image>:<wa_version>
# with the lab's wa_image_registry=localhost/waent-sim and wa_version=$SIM_VERSION (the version the
# simulator reports), as a vendor image saved for an air-gapped site carries docker.whatsapp.biz/....
# Written beside the target and renamed, the id last: an interrupted export is redone next time.
export_archive() { # IMAGE NAME FILE
  local id t
  id="$(inspect "$1" '{{.Id}}') $2"
  podman tag "$1" "$2"
  if [ -s "$3" ] && [ "$(cat "$3.id" 2>/dev/null)" = "$id" ]; then
    REPORT+=("$(printf '%-36s %-8s %4s s  archive %s' "${3##*/}" current 0 "$(mb "$(stat -c %s "$3")")")")
    return 0
  fi
  t=$(date +%s)
  rm -f "$3.tmp" "$3.id"
  timeout 600 podman save -q --format docker-archive -o "$3.tmp" "$2" \
    || { rm -f "$3.tmp"; die "podman save of $2 failed"; }
  mv -f "$3.tmp" "$3"
  echo "$id" > "$3.id"
  REPORT+=("$(printf '%-36s %-8s %4s s  archive %s' "${3##*/}" exported $(( $(date +%s) - t )) "$(mb "$(stat -c %s "$3")")")")
}
SIM_VERSION=$(sed -n 's/^API_VERSION = "\(v[0-9.]*\)".*/\1/p' "$SRC/api.py")
[ -n "$SIM_VERSION" ] || die "no API_VERSION in $SRC/api.py"
export_archive "$WEBAPP" "localhost/waent-sim/web:$SIM_VERSION" "$OUT/waent-sim-webapp.tar"
export_archive "$COREAPP" "localhost/waent-sim/coreapp:$SIM_VERSION" "$OUT/waent-sim-coreapp.tar"

# ---- 5. previous builds, derived images first -------------------------------------------------
for (( i = ${#RETIRE[@]} - 1; i >= 0; i-- )); do
  if podman image rm "${RETIRE[i]}" >/dev/null 2>&1; then
    log "removed the previous build ${RETIRE[i]:0:12}"
  else
    log "kept the previous build ${RETIRE[i]:0:12} (still used by containers or images)"
  fi
done
printf '[sim-images] %s\n' "${REPORT[@]}"
log "done in $(( $(date +%s) - T0 )) s (archives in $OUT)"
