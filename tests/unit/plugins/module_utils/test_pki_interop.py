# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interop proof: certificates issued by the pki backend work with a real TLS stack.

`openssl s_server` on 127.0.0.1 (a free port, one connection, bounded timeouts) and
`openssl s_client` with verification on: a server certificate is accepted for its names, a client
certificate for client authentication, and the wrong usage is refused with a purpose error.
"""

from __future__ import annotations

import copy
import select
import shutil
import socket
import subprocess
import time

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _pki as pki

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl binary not available")
TIMEOUT = 15

BASE = {
    "common_name": None,
    "dns": [],
    "ip": [],
    "usage": "server",
    "key_type": "ec-p256",
    "validity_days": 30,
    "renew_before": 1,
    "signed_by": None,
    "key_path": None,
    "cert_path": None,
    "chain_path": None,
    "owner": None,
    "group": None,
    "bundles": [],
}


def spec(name, **kw):
    out = copy.deepcopy(BASE)
    out.update(name=name, **kw)
    return out


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    directory = tmp_path_factory.mktemp("interop")
    params = {
        "path": str(directory),
        "state": "present",
        "ca": {
            "name": "ca",
            "common_name": "interop CA",
            "key_type": "ec-p256",
            "validity_days": 30,
            "renew_before": 1,
            "replace": "never",
        },
        "organization": None,
        "certificates": [
            spec(
                "server",
                dns=["wa.interop.test"],
                ip=["127.0.0.1"],
                bundles=[{"path": "upload.pem", "content": ["key", "cert", "ca"], "mode": None}],
            ),
            spec("server-rsa", dns=["wa.interop.test"], key_type="rsa-2048"),
            spec("server-p384", dns=["wa.interop.test"], key_type="ec-p384"),
            spec("client", common_name="core1", usage="client"),
            spec("both", dns=["wa.interop.test"], usage="both"),
        ],
        "owner": None,
        "group": None,
        "key_mode": "0600",
        "cert_mode": "0644",
        "backup": False,
        "on_unreadable": "regenerate",
    }
    pki.PkiManager(params).run()
    return directory


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def handshake(directory, server_name, client_args=(), server_args=(), tls12=False):
    """Run one s_server/s_client exchange; return (client_rc, client_output, server_output)."""
    port = free_port()
    server_cmd = [
        OPENSSL,
        "s_server",
        "-accept",
        f"127.0.0.1:{port}",
        "-naccept",
        "1",
        "-www",
        "-cert",
        str(directory / (server_name + ".crt")),
        "-key",
        str(directory / (server_name + ".key")),
        *server_args,
    ]
    server = subprocess.Popen(server_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # wait (bounded) until the server listens; it prints ACCEPT when ready
        deadline = time.monotonic() + TIMEOUT
        banner = b""
        while b"ACCEPT" not in banner:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or server.poll() is not None:
                pytest.fail(f"s_server did not start: {banner!r}")
            ready, _writable, _errors = select.select([server.stdout], [], [], remaining)
            if ready:
                banner += server.stdout.read1(4096)
        client_cmd = [
            OPENSSL,
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-CAfile",
            str(directory / "ca.crt"),
            "-verify_return_error",
            "-ign_eof",
            *(["-tls1_2"] if tls12 else []),
            *client_args,
        ]
        client = subprocess.run(
            client_cmd,
            input=b"GET / HTTP/1.0\r\n\r\n",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT,
            check=False,
        )
        try:
            server_out, _err = server.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server_out, _err = server.communicate(timeout=TIMEOUT)
        return client.returncode, client.stdout.decode(errors="replace"), (banner + server_out).decode(errors="replace")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=TIMEOUT)


@pytest.mark.parametrize("name", ["server", "server-rsa", "server-p384", "both"])
def test_server_certificate_accepted_for_its_name(issued, name):
    rc, out, _server_out = handshake(
        issued, name, ["-verify_hostname", "wa.interop.test", "-servername", "wa.interop.test"]
    )
    assert rc == 0, out
    assert "Verify return code: 0 (ok)" in out
    assert "HTTP/1.0 200 ok" in out


def test_server_certificate_accepted_for_its_ip(issued):
    rc, out, _server_out = handshake(issued, "server", ["-verify_ip", "127.0.0.1"])
    assert rc == 0 and "Verify return code: 0 (ok)" in out, out


def test_server_certificate_refused_for_another_name(issued):
    rc, out, _server_out = handshake(issued, "server", ["-verify_hostname", "other.interop.test"])
    assert rc != 0
    assert "hostname mismatch" in out


def test_client_only_certificate_refused_as_server_certificate(issued):
    rc, out, _server_out = handshake(issued, "client", ["-verify_hostname", "core1"])
    assert rc != 0
    assert "unsuitable certificate purpose" in out or "unsupported certificate purpose" in out


def test_certificate_from_another_ca_refused(issued, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    for name in ("server.crt", "server.key"):
        shutil.copy(issued / name, other / name)
    params_dir = tmp_path / "otherca"
    pki.PkiManager(
        {
            "path": str(params_dir),
            "ca": {
                "name": "ca",
                "common_name": "interop CA",
                "key_type": "ec-p256",
                "validity_days": 30,
                "renew_before": 1,
                "replace": "never",
            },
            "certificates": [],
        }
    ).run()
    shutil.copy(params_dir / "ca.crt", other / "ca.crt")  # same CA name, different key
    rc, out, _server_out = handshake(other, "server", ["-verify_hostname", "wa.interop.test"])
    assert rc != 0
    assert "certificate signature failure" in out or "unable to get local issuer certificate" in out


@pytest.mark.parametrize("name", ["client", "both"])
def test_client_certificate_accepted_for_client_auth(issued, name):
    rc, out, server_out = handshake(
        issued,
        "server",
        [
            "-verify_hostname",
            "wa.interop.test",
            "-cert",
            str(issued / (name + ".crt")),
            "-key",
            str(issued / (name + ".key")),
        ],
        ["-Verify", "1", "-verify_return_error", "-CAfile", str(issued / "ca.crt")],
        tls12=True,
    )
    assert rc == 0, out + server_out
    assert "HTTP/1.0 200 ok" in out
    # the server verified the client's chain (depth 1 = our CA, depth 0 = the client certificate)
    common_name = "core1" if name == "client" else "wa.interop.test"
    assert f"depth=0 CN = {common_name}\nverify return:1" in server_out, server_out


def test_server_only_certificate_refused_as_client_certificate(issued):
    rc, out, server_out = handshake(
        issued,
        "server",
        [
            "-verify_hostname",
            "wa.interop.test",
            "-cert",
            str(issued / "server.crt"),
            "-key",
            str(issued / "server.key"),
        ],
        ["-Verify", "1", "-verify_return_error", "-CAfile", str(issued / "ca.crt")],
        tls12=True,
    )
    assert rc != 0, out
    assert "HTTP/1.0 200 ok" not in out
    assert "unsuitable certificate purpose" in server_out or "unsupported certificate purpose" in server_out


def test_missing_client_certificate_refused(issued):
    rc, out, server_out = handshake(
        issued,
        "server",
        ["-verify_hostname", "wa.interop.test"],
        ["-Verify", "1", "-verify_return_error", "-CAfile", str(issued / "ca.crt")],
        tls12=True,
    )
    assert rc != 0 and "HTTP/1.0 200 ok" not in out


def test_webapp_upload_bundle_serves_tls(issued):
    upload = issued / "upload.pem"
    rc, out, _server_out = handshake(
        issued,
        "server",
        ["-verify_hostname", "wa.interop.test"],
        ["-cert", str(upload), "-key", str(upload)],
    )
    assert rc == 0 and "Verify return code: 0 (ok)" in out, out
