#!/usr/bin/env bash
# Build the lab base image without any registry: debootstrap (Debian mirror only),
# then `podman import`. The image carries a label with the hash of this recipe; a second
# build with an unchanged recipe is a no-op, a changed recipe rebuilds; WAENT_IMAGE_REBUILD=1
# rebuilds anyway (`make test-fresh`). A rebuild moves the tag to the new image and removes the
# previous one only when nothing uses it (podman refuses while a container was created from it).
#   usage: build-image.sh [IMAGE]        (default localhost/waent-lab:bookworm)
set -euo pipefail
IMAGE=${1:-${WAENT_LAB_IMAGE:-localhost/waent-lab:bookworm}}
# Everything every lab host needs: systemd as init, Python for Ansible, the tools the roles
# manage (chrony, nftables) and the probes use (openssl, curl, nc), libfaketime for the
# deliberately wrong NTP source of the negative time-sync tests.
PKGS=systemd,systemd-sysv,dbus,python3,python3-apt,netbase,iproute2,iputils-ping,nftables,chrony,openssh-server,curl,ca-certificates,procps,sudo,less,openssl,netcat-openbsd,faketime,gnupg
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
recipe_hash=$( { cat "$0"; echo "$PKGS"; } | sha256sum | cut -c1-16)

current=$(podman image inspect "$IMAGE" --format '{{index .Labels "org.waent.recipe"}}' 2>/dev/null || true)
previous=$(podman image inspect "$IMAGE" --format '{{.Id}}' 2>/dev/null || true)
if [ "$current" = "$recipe_hash" ] && [ "${WAENT_IMAGE_REBUILD:-0}" != 1 ]; then
  echo "[image] $IMAGE is current (recipe $recipe_hash)"
  exit 0
fi
echo "[image] building $IMAGE (recipe $recipe_hash) from $MIRROR"
t0=$(date +%s)
WORK=$(mktemp -d /var/tmp/waent-rootfs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
R="$WORK/rootfs"
debootstrap --variant=minbase --include="$PKGS" bookworm "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -30 "$WORK/debootstrap.log"; exit 1; }

# Container hygiene: a fresh machine-id per container, no host keys shared between hosts
# (regenerated at boot), no timers that grab the dpkg lock in the middle of a converge.
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id" "$R"/etc/ssh/ssh_host_*
mkdir -p "$R/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  > "$R/etc/systemd/system/ssh.service.d/keygen.conf"
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         getty@tty1.service systemd-pstore.service dpkg-db-backup.timer fstrim.timer; do
  ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# The image ships chrony for speed; its default configuration must not try to reach the
# Internet pools before a role configures it, and it must never control the shared clock.
mkdir -p "$R/etc/default"
echo 'DAEMON_OPTS="-F 1 -x"' > "$R/etc/default/chrony"
sed -i 's/^pool /#pool /' "$R/etc/chrony/chrony.conf"
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
echo "deb $MIRROR bookworm main" > "$R/etc/apt/sources.list"
rm -f "$R/etc/apt/sources.list.d/"*
tar -C "$R" -c . | podman import \
  --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL org.waent.recipe=$recipe_hash" - "$IMAGE" >/dev/null
echo "[image] built $IMAGE in $(( $(date +%s) - t0 )) s: $(podman image inspect "$IMAGE" --format '{{.Size}}') bytes"
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect "$IMAGE" --format '{{.Id}}')" ]; then
  if podman image rm "$previous" >/dev/null 2>&1; then
    echo "[image] removed the previous build ${previous:0:12}"
  else
    echo "[image] kept the previous build ${previous:0:12} (still used by containers)"
  fi
fi
