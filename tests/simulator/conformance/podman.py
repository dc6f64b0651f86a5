# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The podman CLI for the conformance suite: containers on one test network, bounded waits, cleanup.

Every container and the network carry the prefix ``waent-sim-ct-`` (names are global on the
machine; only leftovers with this prefix are ever removed). Every podman call has a timeout,
every wait is bounded in time and in number of polls. Containers get fixed addresses on the
test network (``SUBNET``), so certificates can name them before they start; the host reaches
those addresses directly over podman's bridge (checked by :func:`check_host_route`).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import itertools
import re
import socket
import subprocess
import threading
import time

PREFIX = "waent-sim-ct-"
NETWORK = PREFIX + "net"
# netavark hands out 10.89.0.0/24, 10.89.1.0/24, ... to networks created without a subnet, and the
# waent labs use 10.77.x/10.78.x: a block far from both.
SUBNET = ipaddress.ip_network("10.89.210.0/24")
GATEWAY = str(SUBNET.network_address + 1)
PODMAN_TIMEOUT = 120
POLL = 0.25

_addresses = itertools.count(10)
_address_lock = threading.Lock()
# Every address handed out, by container name: a container whose environment names another one
# gets it in /etc/hosts (aardvark-dns answers slowly or not at all for a moment while containers
# come and go on this machine, and a 5 s resolver timeout breaks a 5 s link timeout).
ADDRESSES = {}
# Containers of this session that exist, by name: their logs are attached to failing tests.
LIVE = {}


class PodmanError(RuntimeError):
    """A podman command failed; the message has its output."""


class ContainerExited(AssertionError):
    """A container stopped while a test waited for it to do something else."""


class WaitTimeout(AssertionError):
    """A bounded wait ran out."""


def podman(*args, timeout=PODMAN_TIMEOUT, check=True, stdin=None):
    """Run ``podman args...``; returns the CompletedProcess (text, stdout and stderr captured)."""
    try:
        proc = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, input=stdin,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise PodmanError(f"podman {' '.join(args)}: no answer within {timeout} s") from exc
    if check and proc.returncode != 0:
        raise PodmanError(f"podman {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}"
                          f"{' / ' + proc.stdout.strip() if proc.stdout.strip() else ''}")
    return proc


def next_ip():
    """A fresh address on the test network (10.89.210.10 upwards, never reused in a session)."""
    with _address_lock:
        host = next(_addresses)
    if host > 250:
        raise RuntimeError("the test network ran out of addresses")
    return str(SUBNET.network_address + host)


def reserve(name):
    """The address of container ``name`` (prefixed), allocated once: known before it starts."""
    name = full_name(name)
    with _address_lock:
        if name in ADDRESSES:
            return ADDRESSES[name]
    ip = next_ip()
    with _address_lock:
        return ADDRESSES.setdefault(name, ip)


def full_name(name):
    return name if name.startswith(PREFIX) else PREFIX + name


class Container:
    """One container of the suite: name, address on the test network, and helpers around it."""

    def __init__(self, name, ip, image):
        self.name = name
        self.ip = ip
        self.image = image
        self.id = None

    def __repr__(self):
        return f"<Container {self.name} {self.ip}>"

    # -- state and logs -------------------------------------------------------------------------
    def logs(self, tail=None):
        """Everything the container wrote (stdout and stderr, as podman keeps them)."""
        args = ["logs"] + (["--tail", str(tail)] if tail else []) + [self.name]
        try:
            proc = subprocess.run(["podman", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=30, check=False, errors="replace")
        except subprocess.TimeoutExpired:
            return "(podman logs timed out)"
        return proc.stdout

    def mark(self):
        """A position in the logs: ``wait_for_log(..., since=mark)`` only looks at what comes after."""
        return len(self.logs())

    def state(self):
        """``(running, exit_code, status)``."""
        out = podman("inspect", "--type", "container", "--format",
                     "{{.State.Running}} {{.State.ExitCode}} {{.State.Status}}", self.name).stdout.split()
        return out[0] == "true", int(out[1]), out[2]

    def running(self):
        return self.state()[0]

    def exit_code(self):
        """None while running, else the exit status."""
        running, code, _status = self.state()
        return None if running else code

    # -- waits ----------------------------------------------------------------------------------
    def wait_for_log(self, pattern, timeout=60.0, since=0, flags=0):
        """The first match of ``pattern`` in the logs after position ``since``; fails when the
        container stops first or ``timeout`` seconds (and a bounded number of polls) pass."""
        regex = re.compile(pattern, flags)
        deadline = time.monotonic() + timeout
        for _poll in range(int(timeout / POLL) + 2):
            text = self.logs()
            match = regex.search(text, since)
            if match:
                return match
            code = self.exit_code()
            if code is not None:
                text = self.logs()
                match = regex.search(text, since)
                if match:
                    return match
                raise ContainerExited(f"{self.name} exited {code} before logging /{pattern}/; its log:\n"
                                      f"{_tail(text[since:])}")
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL)
        raise WaitTimeout(f"{self.name} did not log /{pattern}/ within {timeout} s; its log:\n"
                          f"{_tail(self.logs()[since:])}")

    def wait_exit(self, timeout=60.0):
        """The exit status once the container has stopped (bounded)."""
        deadline = time.monotonic() + timeout
        for _poll in range(int(timeout / POLL) + 2):
            code = self.exit_code()
            if code is not None:
                return code
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL)
        raise WaitTimeout(f"{self.name} still runs after {timeout} s; its log:\n{_tail(self.logs())}")

    def wait_for_port(self, port, timeout=60.0):
        wait_for_port(self.ip, port, timeout, container=self)

    # -- actions --------------------------------------------------------------------------------
    def exec(self, *cmd, timeout=60, env=None, stdin=None, check=False):
        """``podman exec`` (as root); returns the CompletedProcess."""
        args = ["exec", "-i"] if stdin is not None else ["exec"]
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        return podman(*args, self.name, *cmd, timeout=timeout, check=check, stdin=stdin)

    def restart(self, timeout=30):
        """Stop (SIGTERM, 5 s grace) and start again; returns the log position before the restart."""
        position = self.mark()
        podman("restart", "--time", "5", self.name, timeout=timeout)
        return position

    def stop(self, timeout=30):
        podman("stop", "--time", "5", self.name, timeout=timeout)

    def start(self, timeout=30):
        position = self.mark()
        podman("start", self.name, timeout=timeout)
        return position

    def remove(self):
        LIVE.pop(self.name, None)
        podman("rm", "--force", "--volumes", "--time", "0", self.name, timeout=60, check=False)


def _tail(text, lines=60):
    rows = text.rstrip("\n").splitlines()
    cut = rows[-lines:]
    return (f"  [... {len(rows) - len(cut)} lines]\n" if len(rows) > len(cut) else "") + "\n".join(
        "  | " + row for row in cut)


def run(name, image, *, env=None, command=(), mounts=(), ip=None, hostname=None, entrypoint=None, extra=(),
        hosts=()):
    """``podman run -d`` on the test network with a fixed address; returns the Container.

    ``mounts``: ``(host_path, container_path)`` pairs, read-only. Every other suite container that
    an environment value names exactly, or that ``hosts`` names, gets an ``/etc/hosts`` entry. The
    container is registered in :data:`LIVE` so that a failing test shows its log.
    """
    name = full_name(name)
    ip = ip or reserve(name)
    args = ["run", "-d", "--name", name, "--network", NETWORK, "--ip", ip, "--hostname", hostname or name,
            "--label", "org.waent.conformance=1"]
    peers = {full_name(h): reserve(h) for h in hosts}
    for key, value in (env or {}).items():
        if value is not None:
            args += ["--env", f"{key}={value}"]
            if value in ADDRESSES and value != name:
                peers[value] = ADDRESSES[value]
    for peer, address in sorted(peers.items()):
        args += ["--add-host", f"{peer}:{address}"]
    for source, target in mounts:
        args += ["--volume", f"{source}:{target}:ro"]
    if entrypoint is not None:
        args += ["--entrypoint", entrypoint]
    args += list(extra)
    args += [image, *command]
    container = Container(name, ip, image)
    LIVE[name] = container
    try:
        container.id = podman(*args).stdout.strip()
    except PodmanError:
        LIVE.pop(name, None)
        podman("rm", "--force", "--volumes", "--time", "0", name, check=False)
        raise
    return container


def run_many(specs):
    """Start several containers at once: ``specs`` are dicts of :func:`run` arguments; returns
    the Containers in the same order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(run, **spec) for spec in specs]
        return [future.result() for future in futures]


def wait_all(waits, timeout=90.0):
    """Wait for several ``(container, pattern)`` pairs (each as ``Container.wait_for_log``) in one
    time budget; returns the matches in order."""
    deadline = time.monotonic() + timeout
    return [container.wait_for_log(pattern, timeout=max(1.0, deadline - time.monotonic()))
            for container, pattern in waits]


def remove_all(containers):
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: c.remove(), [c for c in containers if c is not None]))


def wait_for_port(host, port, timeout=60.0, container=None):
    """Until a TCP connection to ``host:port`` succeeds (bounded); fails early if ``container`` stopped."""
    deadline = time.monotonic() + timeout
    error = None
    for _poll in range(int(timeout / POLL) + 2):
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError as exc:
            error = exc
        if container is not None and container.exit_code() is not None:
            raise ContainerExited(f"{container.name} exited before {host}:{port} opened; its log:\n"
                                  f"{_tail(container.logs())}")
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL)
    raise WaitTimeout(f"{host}:{port} did not accept a connection within {timeout} s ({error})")


# -- the session's network and leftovers ------------------------------------------------------------
def leftovers():
    """Names of the containers and networks with the suite's prefix (from an earlier, killed run)."""
    containers = podman("ps", "-a", "--filter", f"name=^{PREFIX}", "--format", "{{.Names}}").stdout.split()
    networks = podman("network", "ls", "--filter", f"name=^{PREFIX}", "--format", "{{.Name}}").stdout.split()
    return [c for c in containers if c.startswith(PREFIX)], [n for n in networks if n.startswith(PREFIX)]


def remove_leftovers():
    """Remove every container, then every network, whose name starts with ``waent-sim-ct-`` (one by one)."""
    containers, networks = leftovers()
    for name in containers:
        LIVE.pop(name, None)
        podman("rm", "--force", "--volumes", "--time", "0", name, check=False, timeout=60)
    for name in networks:
        podman("network", "rm", "--force", name, check=False, timeout=60)
    return containers, networks


def create_network():
    """The suite's network: fixed subnet, name resolution (aardvark-dns) between containers."""
    podman("network", "create", "--subnet", str(SUBNET), "--gateway", GATEWAY,
           "--label", "org.waent.conformance=1", NETWORK)


def check_host_route(container, port, timeout=30.0):
    """The host must reach a container's address on the test network directly (podman bridge)."""
    try:
        wait_for_port(container.ip, port, timeout, container=container)
    except WaitTimeout as exc:
        raise AssertionError(
            f"the host cannot reach {container.ip}:{port} on {NETWORK} ({exc}); this suite talks to the "
            "containers' addresses directly and needs podman's bridge routed on this machine") from None
