#!/usr/bin/python
# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: app_container
short_description: Run one product container on docker or podman, recreated exactly when its settings change
version_added: 0.2.0
author: waent.onprem developers (@waent)
description:
  - Runs a Webapp, Coreapp or Master container with the same command line on docker and podman
    (C(--env-file), C(--publish), C(--volume), C(--network), C(--cap-drop), C(--restart),
    C(--log-driver)), the settings the C(waent.onprem.coreapp) and C(waent.onprem.webapp) roles
    take from the deployment model.
  - A container's settings cannot change in place. The module stores the settings it created the
    container with as the label C(org.waent.spec) (env files as the digest of their content, never
    their values) and recreates the container exactly when the image reference, the image behind
    it, the env files' content, the watched files' content, the published ports, the mounts, the network, the dropped
    capabilities, the restart policy, the log settings, the hostname or the labels differ. Nothing
    else restarts it. A container it did not create (no label) is recreated.
  - The image must be on the host (the C(waent.onprem.container_runtime) role loads or pulls it).
requirements:
  - docker or podman on the host.
options:
  name:
    description: The container's name.
    type: str
    required: true
  engine:
    description: The container engine's command.
    type: str
    choices: [docker, podman]
    required: true
  state:
    description:
      - V(started) creates, recreates or starts the container as needed.
      - V(restarted) also restarts a running container whose settings did not change (for
        example after an upload the product reads only at start).
      - V(absent) removes it.
    type: str
    choices: [started, restarted, absent]
    default: started
  image:
    description:
      - The image reference. Required with O(state=started). Without it O(state=restarted) only
        restarts the existing container.
    type: str
  env_files:
    description:
      - Env files on the host, in order. Their content is compared by digest (the model's
        combined env digest) and never returned.
    type: list
    elements: path
    default: []
  watch_files:
    description:
      - Files the container reads at start (for example its database TLS key, certificate and CA
        in the data volume). Their content is compared by digest like the env files', so a renewed
        certificate recreates the container.
    type: list
    elements: path
    default: []
  assume_env_changed:
    description:
      - Treat the env files and the watched files as changed. For check mode, where a task before
        this one would rewrite a file it did not write.
    type: bool
    default: false
  published_ports:
    description: Ports published on the host.
    type: list
    elements: dict
    default: []
    suboptions:
      host_ip:
        description: Host address to bind (empty - every address).
        type: str
        default: ""
      host_port:
        description: Host port.
        type: int
        required: true
      container_port:
        description: Container port.
        type: int
        required: true
      protocol:
        description: Protocol.
        type: str
        choices: [tcp, udp]
        default: tcp
  mounts:
    description: Host directories mounted into the container.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: Host path.
        type: path
        required: true
      target:
        description: Path in the container.
        type: str
        required: true
      read_only:
        description: Mount read-only.
        type: bool
        default: false
  network:
    description: The user-defined network to attach to (never the default bridge for the product).
    type: str
    default: ""
  hostname:
    description: The container's hostname (empty - the engine's default).
    type: str
    default: ""
  cap_drop:
    description: Capabilities to drop (the vendor's files drop C(MKNOD) at least).
    type: list
    elements: str
    default: [MKNOD]
  restart_policy:
    description: The engine's restart policy.
    type: str
    choices: ["no", on-failure, always, unless-stopped]
    default: unless-stopped
  log_driver:
    description: Log driver (C(json-file) on docker and C(k8s-file) on podman rotate by size).
    type: str
    default: json-file
  log_options:
    description: Log driver options, for example C(max-size) and C(max-file).
    type: dict
    default: {}
  labels:
    description: Extra labels.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description:
      - Says what it would do. An engine not installed yet, an image not loaded yet or an env file
        not written yet (a fresh host in check mode) is reported as a container to create.
  diff_mode:
    support: full
    description: The settings before and after (env files as their digest).
  idempotent:
    support: full
    description: Unchanged settings leave the container alone.
"""

EXAMPLES = r"""
- name: Run the Coreapp
  waent.onprem.app_container:
    name: wacore
    engine: docker
    image: registry.example.com/whatsapp/coreapp:v2.53.2
    env_files: [/etc/waent/wacore/app.env, /etc/waent/wacore/db.env]
    published_ports:
      - {host_ip: 10.40.2.10, host_port: 6250, container_port: 6250}
      - {host_ip: 10.40.2.10, host_port: 6251, container_port: 6251}
      - {host_ip: 10.40.2.10, host_port: 6252, container_port: 6252}
      - {host_ip: 10.40.2.10, host_port: 6253, container_port: 6253}
    mounts:
      - {source: /srv/waent/wacore, target: /usr/local/waent/data}
      - {source: /srv/waent/media, target: /usr/local/wamedia}
    network: waent
    cap_drop: [MKNOD]
    log_options: {max-size: 50m, max-file: "5"}

- name: Restart every Webapp after a new server certificate was uploaded
  waent.onprem.app_container:
    name: waweb
    engine: podman
    image: registry.example.com/whatsapp/web:v2.53.2
    env_files: [/etc/waent/waweb/app.env, /etc/waent/waweb/db.env]
    state: restarted
"""

RETURN = r"""
action:
  description: What was (or in check mode would be) done.
  returned: always
  type: str
  choices: [none, create, recreate, start, restart, remove]
reasons:
  description: Why, for example C(env files changed) or C(published ports changed).
  returned: always
  type: list
  elements: str
  sample: [env files changed]
container:
  description: The container after the run (before it, in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: Container id (null when there is none).
      type: str
    image_id:
      description: Id of the image it runs.
      type: str
    running:
      description: Whether it runs.
      type: bool
    env_digest:
      description: The combined digest of its env files.
      type: str
  sample: {"id": "2a200c77c643", "image_id": "71b709d66389", "running": true, "env_digest": "5d41402abc4b2a76"}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.waent.onprem.plugins.module_utils import _containers as ct


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "engine": {"type": "str", "required": True, "choices": ["docker", "podman"]},
            "state": {"type": "str", "default": "started", "choices": ["started", "restarted", "absent"]},
            "image": {"type": "str"},
            "env_files": {"type": "list", "elements": "path", "default": []},
            "watch_files": {"type": "list", "elements": "path", "default": []},
            "assume_env_changed": {"type": "bool", "default": False},
            "published_ports": {"type": "list", "elements": "dict", "default": [], "options": {
                "host_ip": {"type": "str", "default": ""},
                "host_port": {"type": "int", "required": True},
                "container_port": {"type": "int", "required": True},
                "protocol": {"type": "str", "default": "tcp", "choices": ["tcp", "udp"]},
            }},
            "mounts": {"type": "list", "elements": "dict", "default": [], "options": {
                "source": {"type": "path", "required": True},
                "target": {"type": "str", "required": True},
                "read_only": {"type": "bool", "default": False},
            }},
            "network": {"type": "str", "default": ""},
            "hostname": {"type": "str", "default": ""},
            "cap_drop": {"type": "list", "elements": "str", "default": ["MKNOD"]},
            "restart_policy": {"type": "str", "default": "unless-stopped",
                               "choices": ["no", "on-failure", "always", "unless-stopped"]},
            "log_driver": {"type": "str", "default": "json-file"},
            "log_options": {"type": "dict", "default": {}},
            "labels": {"type": "dict", "default": {}},
        },
        required_if=[("state", "started", ["image"])],
        supports_check_mode=True,
    )
    params = module.params
    name = params["name"]
    binary = module.get_bin_path(params["engine"])
    desired = ct.desired_spec(params, _read) if params["image"] and params["state"] != "absent" else None
    restart_only = params["state"] == "restarted" and desired is None
    if binary is None:
        # A fresh host in check mode: the runtime role would install the engine first.
        if module.check_mode and desired is not None:
            module.exit_json(changed=True, action="create", reasons=[f"{params['engine']} is not installed yet"],
                             container={"id": None, "image_id": None, "running": False, "env_digest": None},
                             diff={"before": {}, "after": ct.diff_view(desired)})
        if params["state"] == "absent":
            module.exit_json(changed=False, action="none", reasons=[], container={"id": None})
        module.fail_json(msg=f"{params['engine']} is not installed on this host: the waent.onprem.container_runtime "
                             "role installs it (wa_container_runtime names the engine)")
    engine = ct.Engine(module.run_command, binary)
    try:
        current = ct.current_state(engine.container(name))
        image_id = engine.image_id(desired["image"]) if desired else None
        if desired and image_id is None and not module.check_mode:
            module.fail_json(msg=f"the image {desired['image']} is not on this host: the "
                                 "waent.onprem.container_runtime role loads it from "
                                 "container_runtime_image_archives or pulls it from wa_image_registry (check "
                                 "wa_image_registry and wa_version)")
        if desired and None in (desired["env_digest"], desired["files_digest"]) and not module.check_mode:
            missing = [p for p in params["env_files"] + params["watch_files"] if not os.path.exists(p)]
            module.fail_json(msg=f"files missing on this host: {', '.join(missing)}")
        if restart_only:
            if current is None:
                module.fail_json(msg=f"there is no container {name} to restart")
            action, reasons = "restart", ["state=restarted"]
        else:
            action, reasons = ct.plan(current, desired, image_id, params["state"],
                                      params["assume_env_changed"] and module.check_mode)
        if desired and image_id is None:
            reasons.append(f"the image {desired['image']} is not on the host yet")
            action = "recreate" if current else "create"
        result = {
            "changed": action != "none",
            "action": action,
            "reasons": reasons,
            "diff": {"before": ct.diff_view((current or {}).get("spec")) if current else {},
                     "after": {} if params["state"] == "absent"
                     else ct.diff_view(desired or (current or {}).get("spec"))},
        }
        if not module.check_mode:
            if action in ("recreate", "remove"):
                engine.remove(name)
            if action in ("create", "recreate"):
                engine.create(name, desired)
            elif action == "start":
                engine.start(name)
            elif action == "restart":
                engine.restart(name)
            if action != "none":
                current = ct.current_state(engine.container(name))
    except ct.EngineError as exc:
        module.fail_json(msg=str(exc))
    result["container"] = {
        "id": (current or {}).get("id"),
        "image_id": (current or {}).get("image_id"),
        "running": bool((current or {}).get("running")),
        "env_digest": ((current or {}).get("spec") or {}).get("env_digest"),
    }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
