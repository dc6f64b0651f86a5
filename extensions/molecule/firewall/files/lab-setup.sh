#!/bin/sh
# Lab fixtures for the firewall scenarios, in one call per host (the podman connection is slow
# per task):
#   lab-setup.sh listen PORT...        listeners (accept, close) on the product ports, as a unit
#   lab-setup.sh dnat PORT             a "container" in netns wa-web listening on 443, published
#                                      on PORT by DNAT in an `ip nat` table (as podman/docker do)
#   lab-setup.sh sshkey 'PUBKEY'       authorise the controller's key for root and start sshd
set -eu
what=$1
shift
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
	cat >/etc/systemd/system/lab-listen.service <<UNIT
[Unit]
Description=lab listeners on the product ports
[Service]
ExecStart=/usr/local/bin/lab-listen $*
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	systemctl enable --now lab-listen.service
	;;
dnat)
	port=$1
	cat >/usr/local/bin/lab-dnat <<SH
#!/bin/sh
set -e
ip netns add wa-web 2>/dev/null || true
ip link show veth-waweb >/dev/null 2>&1 || ip link add veth-waweb type veth peer name eth0 netns wa-web
ip addr replace 10.99.0.1/30 dev veth-waweb
ip link set veth-waweb up
ip netns exec wa-web ip addr replace 10.99.0.2/30 dev eth0
ip netns exec wa-web ip link set eth0 up
ip netns exec wa-web ip link set lo up
ip netns exec wa-web ip route replace default via 10.99.0.1
sysctl -qw net.ipv4.ip_forward=1
nft list table ip nat >/dev/null 2>&1 || nft 'table ip nat { chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; tcp dport $port dnat to 10.99.0.2:443; }; }'
SH
	chmod 0755 /usr/local/bin/lab-dnat
	cat >/etc/systemd/system/lab-dnat.service <<'UNIT'
[Unit]
Description=lab DNAT into netns wa-web
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/lab-dnat
[Install]
WantedBy=multi-user.target
UNIT
	cat >/etc/systemd/system/lab-webapp.service <<'UNIT'
[Unit]
Description=lab "Webapp container" listening on 443 in netns wa-web
Requires=lab-dnat.service
After=lab-dnat.service
[Service]
ExecStart=/usr/sbin/ip netns exec wa-web /usr/local/bin/lab-listen 443
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	systemctl enable --now lab-dnat.service lab-webapp.service
	;;
sshkey)
	install -d -m 0700 /root/.ssh
	printf '%s\n' "$1" >/root/.ssh/authorized_keys
	chmod 0600 /root/.ssh/authorized_keys
	systemctl start ssh
	;;
*)
	echo "usage: $0 listen PORT...|dnat PORT|sshkey PUBKEY" >&2
	exit 2
	;;
esac
