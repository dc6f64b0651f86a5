# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One product container on docker or podman: what it should be, what it is, what must change.

Both engines take the same command line for what the product needs (``run -d --name
--env-file -p -v --network --cap-drop --restart --log-driver --log-opt --label``) and answer
``container inspect`` / ``image inspect`` with the fields read here, so one backend drives both.

A container's settings cannot change in place: a new image, env, port or mount means a new
container. :func:`desired_spec` turns the module's parameters into a canonical spec (no secret:
env files are represented by the digest of their content); the spec is stored on the container
as the label ``org.waent.spec`` when it is created, so :func:`plan` - the one predicate that
decides - compares like with like, and the image id catches a tag that moved to a new image.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.waent.onprem.plugins.module_utils._model_containers import env_digest

SPEC_LABEL = "org.waent.spec"
MANAGED_LABEL = "org.waent.managed-by"
MANAGED_BY = "waent.onprem"

# Fields of the spec and the words a reason uses for each (the order of the reasons).
FIELDS = (
    ("image", "image"),
    ("env_digest", "env files"),
    ("files_digest", "watched files"),
    ("ports", "published ports"),
    ("mounts", "mounts"),
    ("network", "network"),
    ("cap_drop", "dropped capabilities"),
    ("restart_policy", "restart policy"),
    ("log", "log settings"),
    ("hostname", "hostname"),
    ("labels", "labels"),
)


class EngineError(Exception):
    """The engine refused a command; the message says which and why."""


def _digest_watched(read, paths):
    """SHA-256 over the watched files' paths and content digests, None if one is missing."""
    lines = []
    for path in paths:
        content = read(path)
        if content is None:
            return None
        lines.append(f"{hashlib.sha256(content).hexdigest()}  {path}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _digest_files(read, paths):
    """The model's combined env digest of ``paths`` (``read(path)`` returns bytes, None if missing)."""
    digests, names = {}, []
    for path in paths:
        content = read(path)
        if content is None:
            return None
        name = path.rsplit("/", 1)[-1]
        names.append(name)
        digests[name] = hashlib.sha256(content).hexdigest()
    return env_digest(digests, names=tuple(names))


def desired_spec(params, read):
    """The canonical spec of the container the parameters describe; ``env_digest`` is None when
    an env file does not exist yet (check mode before the role wrote it)."""
    ports = sorted(
        (
            {
                "host_ip": p.get("host_ip") or "",
                "host_port": int(p["host_port"]),
                "container_port": int(p["container_port"]),
                "protocol": p.get("protocol") or "tcp",
            }
            for p in params["published_ports"]
        ),
        key=lambda p: (p["container_port"], p["protocol"], p["host_ip"], p["host_port"]),
    )
    mounts = sorted(
        ({"source": m["source"], "target": m["target"], "read_only": bool(m.get("read_only"))}
         for m in params["mounts"]),
        key=lambda m: m["target"],
    )
    return {
        "image": params["image"],
        "env_files": list(params["env_files"]),
        "env_digest": _digest_files(read, params["env_files"]),
        "watch_files": list(params.get("watch_files") or []),
        "files_digest": _digest_watched(read, params.get("watch_files") or []),
        "ports": ports,
        "mounts": mounts,
        "network": params["network"],
        "cap_drop": sorted({c.upper().removeprefix("CAP_") for c in params["cap_drop"]}),
        "restart_policy": params["restart_policy"],
        "log": {"driver": params["log_driver"], "options": dict(sorted((params["log_options"] or {}).items()))},
        "hostname": params.get("hostname") or "",
        "labels": dict(sorted((params["labels"] or {}).items())),
    }


def spec_text(spec):
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def current_state(inspected):
    """What matters of ``container inspect`` output (one object), or None for no container."""
    if not inspected:
        return None
    config = inspected.get("Config") or {}
    labels = config.get("Labels") or {}
    state = inspected.get("State") or {}
    try:
        spec = json.loads(labels.get(SPEC_LABEL) or "null")
    except ValueError:
        spec = None
    return {
        "id": inspected.get("Id"),
        "image_id": _bare(inspected.get("Image")),
        "running": bool(state.get("Running")),
        "status": state.get("Status"),
        "managed": labels.get(MANAGED_LABEL) == MANAGED_BY,
        "spec": spec if isinstance(spec, dict) else None,
    }


def _bare(image_id):
    return (image_id or "").removeprefix("sha256:") or None


def plan(current, desired, image_id, state="started", assume_env_changed=False):
    """(action, reasons): the one decision. ``assume_env_changed`` (check mode: a task before
    would rewrite a file) counts the env files and the watched files as changed. ``action`` is one
    of ``none``, ``create``, ``recreate``, ``start``, ``restart``, ``remove``. ``image_id``: the id the image reference
    has on the host now (None: not there yet)."""
    if state == "absent":
        return ("remove", ["state=absent"]) if current else ("none", [])
    if current is None:
        return "create", ["no container"]
    reasons = []
    if current["spec"] is None:
        reasons.append("spec label unreadable" if current["managed"] else "not created by waent.onprem (no spec label)")
    else:
        before = current["spec"]
        for field, words in FIELDS:
            if field in ("env_digest", "files_digest"):
                if assume_env_changed or desired[field] is None or before.get(field) != desired[field]:
                    reasons.append(f"{words} changed")
            elif before.get(field) != desired.get(field):
                reasons.append(f"{words} changed")
    if image_id and current["image_id"] and _bare(image_id) != current["image_id"]:
        reasons.append(f"the image {desired['image']} is now a different image")
    if reasons:
        return "recreate", reasons
    if not current["running"]:
        return "start", [f"container is {current['status'] or 'not running'}"]
    if state == "restarted":
        return "restart", ["state=restarted"]
    return "none", []


def run_argv(binary, name, spec):
    """The ``run`` command line for ``spec`` (env values stay in the env files)."""
    argv = [binary, "run", "--detach", "--name", name,
            "--label", f"{MANAGED_LABEL}={MANAGED_BY}", "--label", f"{SPEC_LABEL}={spec_text(spec)}"]
    for key, value in spec["labels"].items():
        argv += ["--label", f"{key}={value}"]
    for path in spec["env_files"]:
        argv += ["--env-file", path]
    for port in spec["ports"]:
        host = f"{port['host_ip']}:" if port["host_ip"] else ""
        if ":" in port["host_ip"]:
            host = f"[{port['host_ip']}]:"
        argv += ["--publish", f"{host}{port['host_port']}:{port['container_port']}/{port['protocol']}"]
    for mount in spec["mounts"]:
        argv += ["--volume", f"{mount['source']}:{mount['target']}" + (":ro" if mount["read_only"] else "")]
    if spec["network"]:
        argv += ["--network", spec["network"]]
    if spec["hostname"]:
        argv += ["--hostname", spec["hostname"]]
    for cap in spec["cap_drop"]:
        argv += ["--cap-drop", cap]
    argv += ["--restart", spec["restart_policy"], "--log-driver", spec["log"]["driver"]]
    for key, value in spec["log"]["options"].items():
        argv += ["--log-opt", f"{key}={value}"]
    argv.append(spec["image"])
    return argv


def diff_view(spec):
    """What diff mode shows of a spec: everything but the env files' content (a digest)."""
    if spec is None:
        return {}
    return {key: spec[key] for key in sorted(spec)}


def _failure(what, rc, text):
    """The EngineError of a failed command: what, its exit status and the last line it printed."""
    return EngineError(f"{what} failed (rc={rc}): {text.splitlines()[-1] if text else 'no output'}")


class Engine:
    """The engine's command line. ``run(argv)`` returns (rc, stdout, stderr)."""

    def __init__(self, run, binary):
        self._run = run
        self.binary = binary

    def _json(self, argv, missing_ok=True):
        rc, out, err = self._run([self.binary] + argv)
        if rc != 0:
            text = (err or out or "").strip()
            if missing_ok and any(word in text.lower() for word in ("no such", "not found", "no container")):
                return None
            raise _failure(f"{self.binary} {' '.join(argv[:2])}", rc, text)
        try:
            data = json.loads(out or "null")
        except ValueError as exc:
            raise EngineError(f"{self.binary} {' '.join(argv[:2])} answered no JSON: {exc}") from exc
        return data[0] if isinstance(data, list) and data else (data or None)

    def container(self, name):
        return self._json(["container", "inspect", name])

    def image_id(self, ref):
        found = self._json(["image", "inspect", ref])
        return _bare((found or {}).get("Id"))

    def command(self, argv, what):
        rc, out, err = self._run(argv)
        if rc != 0:
            raise _failure(what, rc, (err or out or "").strip())
        return out

    def remove(self, name):
        self.command([self.binary, "rm", "--force", name], f"removing the container {name}")

    def start(self, name):
        self.command([self.binary, "start", name], f"starting the container {name}")

    def restart(self, name):
        self.command([self.binary, "restart", name], f"restarting the container {name}")

    def create(self, name, spec):
        return self.command(run_argv(self.binary, name, spec), f"creating the container {name}").strip()


def runtime_env(inspected):
    """``NAME -> value`` of a container's runtime environment (``Config.Env`` of ``inspect``), as
    the processes inside see it: env files, ``--env`` and the image's own variables together."""
    out = {}
    for item in ((inspected or {}).get("Config") or {}).get("Env") or []:
        name, sep, value = str(item).partition("=")
        if sep:
            out[name] = value
    return out
