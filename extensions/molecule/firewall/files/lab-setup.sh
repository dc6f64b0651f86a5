#!/bin/sh
# Lab fixtures for the firewall scenarios, in one call per host (the podman connection is slow
# per task):
#   lab-setup.sh listen PORT...        listeners (accept, close) on the product and canary ports,
#                                      as a unit, and sshd on 22: with a listener on every probed
#                                      port, a port the firewall lets through answers open, never
#                                      closed, and only a drop leaves it filtered
#   lab-setup.sh ntpserver             a chronyd NTP server (local clock, never set) for every
#                                      client, to prove NTP replies pass a drop policy
#   lab-setup.sh nested PORT CPORT ARCHIVE IMAGE
#                                      a nested podman container (IMAGE, loaded from ARCHIVE)
#                                      listening on CPORT, published on PORT by netavark's DNAT
#   lab-setup.sh sshkey 'PUBKEY'       authorise the controller's key for root and start sshd
set -eu
what=$1
shift

# service NAME DESCRIPTION COMMAND: a unit that keeps COMMAND running, enabled and started.
service() {
	printf '[Unit]\nDescription=%s\n[Service]\nExecStart=%s\nRestart=always\n[Install]\nWantedBy=multi-user.target\n' \
		"$2" "$3" >"/etc/systemd/system/$1.service"
	systemctl daemon-reload
	systemctl enable --now "$1.service"
}

case "$what" in
listen)
	cat >/usr/local/bin/lab-listen <<'PY'
#!/usr/bin/python3
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        try:
            key.fileobj.accept()[0].close()
        except OSError:
            pass
PY
	chmod 0755 /usr/local/bin/lab-listen
	service lab-listen "lab listeners on the probed ports" "/usr/local/bin/lab-listen $*"
	systemctl enable --now ssh.service
	;;
ntpserver)
	# chronyd -x: the clock is this machine's, shared by every container; nothing may set it.
	printf 'local stratum 8\nallow all\ncmdport 0\npidfile /run/lab-ntp.pid\ndriftfile /var/lib/chrony/lab-ntp.drift\n' \
		>/etc/chrony/lab-ntp.conf
	service lab-ntp "lab NTP server (local clock, no clock control)" "/usr/sbin/chronyd -d -x -f /etc/chrony/lab-ntp.conf"
	;;
nested)
	# The Webapp as a real nested container: podman (netavark, iptables-nft) inside this lab
	# host publishes PORT to CPORT, i.e. netavark writes its own `ip nat`/`ip filter` tables
	# and the DNAT, which the role must filter on the forward path and leave alone.
	# Storage vfs: overlay over the lab host's overlay root is refused. crun without cgroups:
	# runc, or crun with cgroups, fails in a container on this machine (lab-recipe §4).
	port=$1 cport=$2 archive=$3 image=$4
	cat >/etc/containers/storage.conf <<'CONF'
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
	cat >/etc/containers/containers.conf <<'CONF'
[engine]
runtime = "crun"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
default_subnet = "10.99.0.0/24"
CONF
	podman image exists "$image" || podman load -q -i "$archive"
	rm -f "$archive"
	podman rm -f -t 0 waweb >/dev/null 2>&1 || true
	podman --runtime crun --cgroup-manager=cgroupfs run -d --name waweb --cgroups=disabled \
		-p "$port:$cport" "$image" python3 -m http.server "$cport" >/dev/null
	# Ready when the published port answers through netavark's DNAT.
	i=0
	until curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/"; do
		i=$((i + 1))
		[ "$i" -lt 20 ] || { podman logs waweb >&2; exit 1; }
		sleep 0.5
	done
	test "$(podman info --format '{{.Host.NetworkBackend}}')" = netavark
	# The engine's tables as netavark left them, without counters: verify compares after the
	# role ran.
	{ nft -s list table ip nat && nft -s list table ip filter; } >/root/lab-engine-tables.before
	;;
sshkey)
	install -d -m 0700 /root/.ssh
	printf '%s\n' "$1" >/root/.ssh/authorized_keys
	chmod 0600 /root/.ssh/authorized_keys
	systemctl start ssh
	;;
*)
	echo "usage: $0 listen PORT...|ntpserver|nested PORT CPORT ARCHIVE IMAGE|sshkey PUBKEY" >&2
	exit 2
	;;
esac
