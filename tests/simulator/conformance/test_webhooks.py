# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Webhook callbacks over HTTPS and the webhook CA (reference section 4.4; §1.4 row 9; §4.5 ``webhooks.url``).

A receiver container serves HTTPS with a certificate from a CA of its own (not the DB CA, not in
any trust store). The Coreapp's simulator-only trigger (``python3 -m waent_sim.coreapp
send-test-callback``, inside the container) sends one callback to ``webhooks.url``: it must fail
until that CA is uploaded through ``/v1/certificates/webhooks/ca`` and the Coreapp restarted.
Checks run in file order.
"""

from __future__ import annotations

import json
import re

import pytest

from conformance import apps, dbs
from conformance import pki as pki_mod
from conformance import podman as pm

RECEIVER = pm.full_name("hook-receiver")
RECEIVER_PORT = 8443
RECEIVER_SCRIPT = r'''
import http.server, json, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        print("receiver: POST %s %d %s" % (self.path, len(body), json.dumps(body.decode("utf-8", "replace")[:300])),
              flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[3])), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print("receiver: ready", flush=True)
server.serve_forever()
'''
URL = f"https://{RECEIVER}:{RECEIVER_PORT}/callback"


@pytest.fixture(scope="module")
def hooks(mariadb, pki):
    cert = pki.hook_server(RECEIVER, pm.reserve(RECEIVER))
    pki.write_text("receiver.py", RECEIVER_SCRIPT)
    receiver = pm.run(RECEIVER, dbs.IMAGE, mounts=[(str(pki.dir), pki_mod.MOUNT)],
                      command=["python3", "/pki/receiver.py", cert.cert_path(), cert.key_path(), str(RECEIVER_PORT)])
    core = pm.run(**apps.coreapp_spec("hook-core", mariadb, hosts=[RECEIVER]))
    (web,) = apps.start_webapps([apps.webapp_spec("hook-web", mariadb, coreapp="hook-core")])
    pm.wait_all([(receiver, "receiver: ready"), (core, apps.COREAPP_READY), (web.container, apps.WEBAPP_READY)],
                timeout=120)
    token = apps.admin_token(web)
    yield {"receiver": receiver, "core": core, "web": web, "token": token}
    pm.remove_all([receiver, core, web.container])


def callbacks(receiver, since=0):
    return re.findall(r"^receiver: POST (\S+) (\d+) (.*)$", receiver.logs()[since:], re.MULTILINE)


def refused_for_the_certificate(proc):
    """The trigger failed, and because of the server certificate (not DNS or a refused connection)."""
    out = proc.stdout + proc.stderr
    return proc.returncode != 0 and re.search(r"certificate", out, re.IGNORECASE) is not None


def restart_coreapp(core):
    position = core.restart()
    core.wait_for_log(apps.COREAPP_READY, timeout=60, since=position)


def test_webhook_url_set(hooks):
    """§4.5: ``webhooks.url`` (HTTPS) is set with ``PATCH /v1/settings/application``."""
    resp = hooks["web"].request("PATCH", "/v1/settings/application", token=hooks["token"],
                                body={"webhooks": {"url": URL}})
    assert 200 <= resp.status < 300, resp


def test_callback_fails_without_the_webhook_ca(hooks):
    """§4.4: the receiver's certificate comes from a private CA: without the webhook CA the Coreapp
    (system trust store) refuses the server and delivers nothing."""
    mark = hooks["receiver"].mark()
    proc = apps.send_test_callback(hooks["core"])
    assert refused_for_the_certificate(proc), f"{proc.returncode}: {proc.stdout} {proc.stderr}"
    assert not callbacks(hooks["receiver"], mark)


def test_uploaded_ca_needs_a_coreapp_restart(hooks, pki):
    """§4.4 / §1.4 row 9: ``POST /v1/certificates/webhooks/ca`` stores the CA, but a webhook CA
    change takes effect only after the Coreapp restarts: before that the callback still fails."""
    resp = hooks["web"].request("POST", "/v1/certificates/webhooks/ca", token=hooks["token"],
                                body=pki.hook_ca.cert_pem, content_type="text/plain")
    assert 200 <= resp.status < 300, resp
    proc = apps.send_test_callback(hooks["core"])
    assert refused_for_the_certificate(proc), f"the new CA was used before the restart: {proc.stdout}"


def test_callback_delivered_after_restart(hooks):
    """§4.4: after the Coreapp restart the callback is verified against the uploaded CA and
    delivered: the trigger prints one line and exits 0, the receiver got one POST with a JSON body."""
    restart_coreapp(hooks["core"])
    mark = hooks["receiver"].mark()
    proc = apps.send_test_callback(hooks["core"])
    assert proc.returncode == 0, f"{proc.returncode}: {proc.stdout} {proc.stderr}\n{hooks['core'].logs()[-2000:]}"
    assert len(proc.stdout.strip().splitlines()) == 1, proc.stdout
    got = callbacks(hooks["receiver"], mark)
    assert len(got) == 1 and got[0][0] == "/callback", got
    json.loads(json.loads(got[0][2]))  # the body is JSON


def test_deleted_ca_stops_delivery_after_restart(hooks):
    """§4.4: ``DELETE /v1/certificates/webhooks/ca`` and a Coreapp restart: back to the system
    trust store, the callback fails again."""
    resp = hooks["web"].request("DELETE", "/v1/certificates/webhooks/ca", token=hooks["token"])
    assert 200 <= resp.status < 300, resp
    restart_coreapp(hooks["core"])
    mark = hooks["receiver"].mark()
    proc = apps.send_test_callback(hooks["core"])
    assert refused_for_the_certificate(proc), f"{proc.returncode}: {proc.stdout} {proc.stderr}"
    assert not callbacks(hooks["receiver"], mark)
