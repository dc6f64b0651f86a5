# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a Coreapp/Master reads from its environment besides ``WA_DB_*`` (reference sections 1.3, 2.3, 4.2).

Documented behaviour:

* A Master is the Coreapp image with ``WA_APP_MULTICONNECT=1`` and ``WA_MASTER_NODE=1``
  (sections 1.1, 1.3); ``WA_APP_MULTICONNECT`` is ``0`` or ``1`` only (section 2.3).
* In multiconnect each node advertises ``COREAPP_HOSTNAME`` and ``COREAPP_EXTERNAL_PORTS``, 4
  comma-separated ports mapped to 6250-6253 (sections 1.3, 2.3).
* ``WA_TCP_LISTEN_ADDRESS=any`` listens on all interfaces (section 2.3).
* Health keys are ``"<hostname>:<container-id>"`` (section 4.2).

Choices where the reference is silent:

* Empty variables count as unset (as ``dbconfig``'s D2). ``WA_MASTER_NODE`` makes a Master only
  when it is exactly ``1``, and only with ``WA_APP_MULTICONNECT=1`` (otherwise it is ignored, logged).
* ``COREAPP_HOSTNAME``: no white space, at most 125 characters (the node key must fit the
  indexable ``VARCHAR(190)``); it is not resolved here (a wrong one shows up on the Webapp as a
  disconnected node). ``COREAPP_EXTERNAL_PORTS``: exactly 4 distinct ports, ASCII digits, no spaces.
* ``WA_TCP_LISTEN_ADDRESS``: unset or ``any`` is IPv4 ``0.0.0.0``; otherwise an IP literal; a
  name is refused.
* Node key: the hostname part is ``COREAPP_HOSTNAME``, or the container's own host name when that
  is unset or an IPv6 literal (its colons would make the key ambiguous). The container id is the
  64-hex id in the podman/docker bind-mount paths of ``/proc/self/mountinfo``
  (``.../containers/<id>/hostname``, ``.../overlay-containers/<id>/userdata/hostname``; the mount
  on ``/etc/hostname`` preferred); else the host name when it is 12-64 lower-case hex (docker's
  default host name is the short id); else the first 12 hex digits of SHA-256(host name), stable
  for a container but not its real id.
* Test-only overrides: ``WAENT_SIM_REPLAY_GRACE`` (the link window, seconds) and
  ``WAENT_SIM_DB_WAIT`` (how long the first database connection is retried, seconds).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
import re

from waent_sim import cluster, framing

LOG = logging.getLogger(__name__)

DB_WAIT = 30
MAX_HOSTNAME = cluster.MAX_NODE_KEY - 65  # room for ":" and a 64-hex id

_CONTAINER_PATH = re.compile(r"/(?:overlay-)?containers/([0-9a-f]{64})/", re.ASCII)
_HEX_ID = re.compile(r"[0-9a-f]{12,64}", re.ASCII)
_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)
_SECONDS = re.compile(r"[0-9]{1,6}", re.ASCII)
# Mount points that carry the container's own files, best first.
_OWN_MOUNTS = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv")


class StartupError(Exception):
    """The process refuses to start; ``code`` is its exit status, the message names the variable."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Options:
    role: str  # "coreapp" or "master"
    multiconnect: bool
    advertised_host: str | None  # COREAPP_HOSTNAME
    external_ports: tuple | None  # COREAPP_EXTERNAL_PORTS (multiconnect only)
    listen_host: str
    grace: int
    db_wait: int


def container_id(mountinfo, hostname):
    """``(id, how)`` for this container, ``how`` naming the source (see the module docstring)."""
    best = None
    for line in (mountinfo or "").splitlines():
        fields = line.split()
        match = _CONTAINER_PATH.search(line)
        if match is None or len(fields) < 5:
            continue
        rank = _OWN_MOUNTS.index(fields[4]) if fields[4] in _OWN_MOUNTS else len(_OWN_MOUNTS)
        if best is None or rank < best[0]:
            best = (rank, match.group(1))
    if best is not None:
        return best[1], "mountinfo"
    if _HEX_ID.fullmatch(hostname or ""):
        return hostname, "hostname"
    return hashlib.sha256((hostname or "").encode("utf-8")).hexdigest()[:12], "sha256 of the hostname"


def node_key(advertised_host, own_hostname, cid):
    """``"<hostname>:<container-id>"`` (section 4.2)."""
    host = advertised_host if advertised_host and ":" not in advertised_host else own_hostname
    return f"{host}:{cid}"


def get(env, name):
    value = env.get(name)
    return None if value in (None, "") else value


def _role(env):
    multiconnect = get(env, "WA_APP_MULTICONNECT")
    if multiconnect not in (None, "0", "1"):
        raise StartupError(2, f"coreapp: WA_APP_MULTICONNECT must be 0 or 1, not {multiconnect!r}")
    multi = multiconnect == "1"
    master = get(env, "WA_MASTER_NODE") == "1"
    if master and not multi:
        LOG.warning("coreapp: WA_MASTER_NODE=1 ignored without WA_APP_MULTICONNECT=1")
    return ("master" if multi and master else "coreapp"), multi


def _advertised_host(env, role, multi):
    host = get(env, "COREAPP_HOSTNAME")
    if not multi:
        return host
    if host is None or re.search(r"\s", host) or len(host) > MAX_HOSTNAME:
        raise StartupError(2, f"{role}: COREAPP_HOSTNAME is required with WA_APP_MULTICONNECT=1: the name or "
                              f"address the Webapp and the other nodes reach this node at (no white space, "
                              f"at most {MAX_HOSTNAME} characters)")
    return host


def _external_ports(env, role):
    raw = get(env, "COREAPP_EXTERNAL_PORTS")
    if raw is None:
        raise StartupError(2, f"{role}: COREAPP_EXTERNAL_PORTS is required with WA_APP_MULTICONNECT=1 "
                              "(4 comma-separated ports mapped to 6250-6253)")
    items = raw.split(",")
    if len(items) != 4 or not all(_PORT.fullmatch(p) and 1 <= int(p) <= 65535 for p in items) \
            or len(set(map(int, items))) != 4:
        raise StartupError(2, f"{role}: COREAPP_EXTERNAL_PORTS {raw!r} must be exactly 4 distinct "
                              "comma-separated TCP ports (1-65535)")
    return tuple(int(p) for p in items)


def _listen_host(env, role):
    raw = get(env, "WA_TCP_LISTEN_ADDRESS")
    if raw is None or raw == "any":
        return "0.0.0.0"  # noqa: S104 - "any" means every interface (section 2.3)
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise StartupError(2, f"{role}: WA_TCP_LISTEN_ADDRESS {raw!r} must be 'any' or an IP address") from None


def _seconds(env, name, default):
    raw = get(env, name)
    if raw is None:
        return default
    if not _SECONDS.fullmatch(raw):
        raise StartupError(2, f"{name} {raw!r} must be a whole number of seconds")
    return int(raw)


def read(env):
    """The :class:`Options` of ``env``, or :class:`StartupError` (exit status 2)."""
    role, multi = _role(env)
    return Options(role=role, multiconnect=multi, advertised_host=_advertised_host(env, role, multi),
                   external_ports=_external_ports(env, role) if multi else None,
                   listen_host=_listen_host(env, role),
                   grace=_seconds(env, "WAENT_SIM_REPLAY_GRACE", framing.DEFAULT_GRACE),
                   db_wait=_seconds(env, "WAENT_SIM_DB_WAIT", DB_WAIT))
