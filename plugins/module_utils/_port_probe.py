# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parallel TCP reachability probe: many host:port pairs in about one timeout.

Non-blocking ``connect()`` on every pair at once (up to ``concurrency`` sockets in flight), then
one ``selectors`` loop: a socket that becomes writable has finished connecting, and ``SO_ERROR``
tells how. States:

* ``open``: the handshake completed (something listens and the path is allowed);
* ``closed``: the peer answered with a RST (nothing listens, or a firewall rejects with RST);
* ``filtered``: no answer before the timeout (dropped), or an ICMP unreachable/prohibited answer
  or a local firewall refusing the packet;
* ``error``: the name did not resolve or the socket could not be created.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time

OPEN = "open"
CLOSED = "closed"
FILTERED = "filtered"
ERROR = "error"

_FILTERED_ERRNOS = {
    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.ETIMEDOUT, errno.EHOSTDOWN,
}


def parse_targets(targets=None, hosts=None, ports=None):
    """``targets`` (dicts with host/port or "host:port" strings) plus the product hosts x ports."""
    pairs = []
    for item in targets or []:
        if isinstance(item, dict):
            host, port = item.get("host"), item.get("port")
        else:
            text = str(item)
            if text.startswith("["):
                host, _sep, port = text[1:].partition("]:")
            else:
                host, _sep, port = text.rpartition(":")
        pairs.append((str(host), _port(port, item)))
    for host in hosts or []:
        for port in ports or []:
            pairs.append((str(host), _port(port, port)))
    unique = []
    seen = set()
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            unique.append(pair)
    return unique


def _port(value, item):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"target {item!r}: port {value!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"target {item!r}: port {port} is out of range 1-65535")
    return port


def _resolve(host):
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    family, sockaddr = infos[0][0], infos[0][4]
    return family, sockaddr[0]


def _state_for(err):
    if err == 0:
        return OPEN
    if err == errno.ECONNREFUSED:
        return CLOSED
    if err in _FILTERED_ERRNOS:
        return FILTERED
    return ERROR


def probe(pairs, timeout=2.0, concurrency=256, clock=time.monotonic):
    """Probe every (host, port) pair; return one result dict per pair, in input order."""
    results = [None] * len(pairs)
    addresses = {}
    queue = []
    for index, (host, port) in enumerate(pairs):
        if host not in addresses:
            try:
                addresses[host] = _resolve(host)
            except (OSError, UnicodeError) as exc:
                addresses[host] = exc
        resolved = addresses[host]
        if isinstance(resolved, Exception):
            results[index] = _result(host, port, None, ERROR, f"cannot resolve: {resolved}", 0.0)
        else:
            queue.append((index, host, port, resolved))
    queue.reverse()

    selector = selectors.DefaultSelector()
    active = {}
    try:
        while queue or active:
            while queue and len(active) < max(1, concurrency):
                index, host, port, (family, address) = queue.pop()
                started = clock()
                try:
                    sock = socket.socket(family, socket.SOCK_STREAM)
                    sock.setblocking(False)
                    err = sock.connect_ex((address, port))
                except OSError as exc:
                    results[index] = _result(host, port, address, ERROR, str(exc), 0.0)
                    continue
                if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                    sock.close()
                    results[index] = _result(host, port, address, _state_for(err), _errstr(err), clock() - started)
                    continue
                active[sock] = (index, host, port, address, started)
                selector.register(sock, selectors.EVENT_WRITE)
            now = clock()
            wait = min(item[4] + timeout for item in active.values()) - now if active else 0
            for key, _events in selector.select(max(0.0, wait)):
                sock = key.fileobj
                index, host, port, address, started = active.pop(sock)
                selector.unregister(sock)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                sock.close()
                results[index] = _result(host, port, address, _state_for(err), _errstr(err), clock() - started)
            now = clock()
            for sock, (index, host, port, address, started) in list(active.items()):
                if now - started >= timeout:
                    active.pop(sock)
                    selector.unregister(sock)
                    sock.close()
                    results[index] = _result(host, port, address, FILTERED, "timeout", now - started)
    finally:
        for sock in active:
            sock.close()
        selector.close()
    return results


def _errstr(err):
    return "" if err == 0 else errno.errorcode.get(err, str(err))


def _result(host, port, address, state, error, elapsed):  # noqa: PLR0917 - one record, all fields
    return {
        "host": host,
        "port": port,
        "address": address,
        "state": state,
        "error": error,
        "elapsed_ms": round(elapsed * 1000, 1),
    }


def summarize(results):
    counts = {OPEN: 0, CLOSED: 0, FILTERED: 0, ERROR: 0}
    for item in results:
        counts[item["state"]] += 1
    return counts
