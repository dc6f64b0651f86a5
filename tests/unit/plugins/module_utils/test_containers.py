# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one predicate of app_container: a container is recreated exactly when its settings change.

The engines themselves are driven in the Molecule scenarios (docker in ``single``, podman in
``multiconnect``); here the spec, the command line and the decision, on inspect output captured
from docker 20.10 and podman 4.3 in lab hosts.
"""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _containers as ct
from ansible_collections.waent.onprem.plugins.module_utils._model_containers import env_digest

FILES = {"/etc/waent/wacore/app.env": b"WA_SECRET=x\n", "/etc/waent/wacore/db.env": b"WA_DB_ENGINE=MYSQL\n"}


def params(**changes):
    base = {
        "image": "localhost/waent-sim/coreapp:v2.63.0",
        "env_files": list(FILES),
        "published_ports": [{"host_ip": "10.0.0.2", "host_port": 6250 + i, "container_port": 6250 + i,
                             "protocol": "tcp"} for i in range(4)],
        "mounts": [{"source": "/srv/waent/wacore", "target": "/usr/local/waent/data", "read_only": False},
                   {"source": "/srv/waent/media", "target": "/usr/local/wamedia", "read_only": False}],
        "network": "waent",
        "hostname": "",
        "cap_drop": ["MKNOD"],
        "restart_policy": "unless-stopped",
        "log_driver": "json-file",
        "log_options": {"max-size": "50m", "max-file": "5"},
        "labels": {},
        "watch_files": [],
    }
    base.update(changes)
    return base


def read(files):
    return files.get


def inspected(spec, running=True, image="sha256:aaa", managed=True):
    """A container inspect object as docker and podman both answer it (the fields read)."""
    labels = {"io.buildah.version": "1.28.2"}
    if managed:
        labels.update({ct.MANAGED_LABEL: ct.MANAGED_BY, ct.SPEC_LABEL: ct.spec_text(spec)})
    state = {"Running": running, "Status": "running" if running else "exited"}
    return {"Id": "2a200c77c643", "Image": image, "State": state,
            "Config": {"Labels": labels}}


def test_env_digest_is_the_models():
    spec = ct.desired_spec(params(), read(FILES))
    digests = {path.rsplit("/", 1)[1]: hashlib.sha256(content).hexdigest() for path, content in FILES.items()}
    assert spec["env_digest"] == env_digest(digests)
    assert "WA_SECRET" not in json.dumps(spec)  # values never enter the spec


def test_env_file_missing_gives_no_digest():
    assert ct.desired_spec(params(), read({}))["env_digest"] is None


def test_spec_is_canonical():
    """Order of ports, mounts and capabilities does not matter; case of a capability neither."""
    a = ct.desired_spec(params(), read(FILES))
    shuffled = params(published_ports=list(reversed(params()["published_ports"])),
                      mounts=list(reversed(params()["mounts"])), cap_drop=["cap_mknod"])
    assert ct.spec_text(ct.desired_spec(shuffled, read(FILES))) == ct.spec_text(a)


def test_unchanged_running_container_is_left_alone():
    spec = ct.desired_spec(params(), read(FILES))
    assert ct.plan(ct.current_state(inspected(spec)), spec, "aaa") == ("none", [])


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"image": "localhost/waent-sim/coreapp:v2.64.0"}, "image changed"),
        ({"published_ports": params()["published_ports"][:3]}, "published ports changed"),
        ({"mounts": params()["mounts"][:1]}, "mounts changed"),
        ({"network": "other"}, "network changed"),
        ({"cap_drop": ["MKNOD", "NET_RAW"]}, "dropped capabilities changed"),
        ({"restart_policy": "always"}, "restart policy changed"),
        ({"log_options": {"max-size": "10m"}}, "log settings changed"),
    ],
)
def test_each_setting_recreates(change, reason):
    before = ct.desired_spec(params(), read(FILES))
    after = ct.desired_spec(params(**change), read(FILES))
    assert ct.plan(ct.current_state(inspected(before)), after, "aaa") == ("recreate", [reason])


def test_changed_env_file_recreates():
    before = ct.desired_spec(params(), read(FILES))
    rotated = dict(FILES, **{"/etc/waent/wacore/db.env": b"WA_DB_ENGINE=MYSQL\nWA_DB_PASSWORD=new\n"})
    after = ct.desired_spec(params(), read(rotated))
    assert ct.plan(ct.current_state(inspected(before)), after, "aaa") == ("recreate", ["env files changed"])


def test_check_mode_assumes_a_rewritten_env_changed():
    spec = ct.desired_spec(params(), read(FILES))
    assert ct.plan(ct.current_state(inspected(spec)), spec, "aaa", assume_env_changed=True) == (
        "recreate", ["env files changed", "watched files changed"])


def test_renewed_certificate_recreates():
    """A watched file (the DB client certificate) with new content recreates; its path is in
    the spec, its content only as a digest."""
    files = dict(FILES, **{"/srv/waent/wacore/certs/db-client.crt": b"-----BEGIN CERTIFICATE-----\nold\n"})
    before = ct.desired_spec(params(watch_files=["/srv/waent/wacore/certs/db-client.crt"]), read(files))
    files["/srv/waent/wacore/certs/db-client.crt"] = b"-----BEGIN CERTIFICATE-----\nnew\n"
    after = ct.desired_spec(params(watch_files=["/srv/waent/wacore/certs/db-client.crt"]), read(files))
    assert "new" not in ct.spec_text(after)
    assert ct.plan(ct.current_state(inspected(before)), after, "aaa") == ("recreate", ["watched files changed"])


def test_moved_tag_recreates():
    spec = ct.desired_spec(params(), read(FILES))
    action, reasons = ct.plan(ct.current_state(inspected(spec, image="sha256:aaa")), spec, "sha256:bbb")
    assert action == "recreate" and "now a different image" in reasons[0]


def test_stopped_container_is_started_not_recreated():
    spec = ct.desired_spec(params(), read(FILES))
    assert ct.plan(ct.current_state(inspected(spec, running=False)), spec, "aaa") == ("start", ["container is exited"])


def test_foreign_container_is_recreated():
    spec = ct.desired_spec(params(), read(FILES))
    action, reasons = ct.plan(ct.current_state(inspected(spec, managed=False)), spec, "aaa")
    assert action == "recreate" and "not created by waent.onprem" in reasons[0]


def test_missing_and_absent():
    spec = ct.desired_spec(params(), read(FILES))
    assert ct.plan(None, spec, None) == ("create", ["no container"])
    assert ct.plan(None, None, None, state="absent") == ("none", [])
    assert ct.plan(ct.current_state(inspected(spec)), None, None, state="absent")[0] == "remove"


def test_restarted_restarts_an_unchanged_container():
    spec = ct.desired_spec(params(), read(FILES))
    current = ct.current_state(inspected(spec))
    assert ct.plan(current, spec, "aaa", state="restarted") == ("restart", ["state=restarted"])


def test_run_argv():
    spec = ct.desired_spec(params(published_ports=[{"host_ip": "2001:db8::2", "host_port": 9090,
                                                    "container_port": 443, "protocol": "tcp"}]), read(FILES))
    argv = ct.run_argv("docker", "waweb", spec)
    assert argv[:5] == ["docker", "run", "--detach", "--name", "waweb"]
    assert argv[-1] == "localhost/waent-sim/coreapp:v2.63.0"
    pairs = list(zip(argv, argv[1:], strict=False))
    assert ("--publish", "[2001:db8::2]:9090:443/tcp") in pairs
    assert ("--env-file", "/etc/waent/wacore/db.env") in pairs
    assert ("--cap-drop", "MKNOD") in pairs and ("--network", "waent") in pairs
    assert ("--log-opt", "max-size=50m") in pairs and ("--restart", "unless-stopped") in pairs
    assert ("--volume", "/srv/waent/media:/usr/local/wamedia") in pairs
    label = next(value for flag, value in pairs if flag == "--label" and value.startswith(ct.SPEC_LABEL))
    assert json.loads(label.split("=", 1)[1]) == spec


def test_spec_label_survives_a_round_trip():
    spec = ct.desired_spec(params(), read(FILES))
    state = ct.current_state(inspected(copy.deepcopy(spec)))
    assert state["spec"] == spec and state["managed"] and state["image_id"] == "aaa"


def test_engine_errors_name_the_command():
    engine = ct.Engine(lambda argv: (125, "", "Error: something broke\n"), "/usr/bin/podman")
    with pytest.raises(ct.EngineError, match="podman container inspect failed .rc=125.: Error: something broke"):
        engine.container("wacore")
    missing = ct.Engine(lambda argv: (1, "", "Error: no such container wacore"), "/usr/bin/podman")
    assert missing.container("wacore") is None
