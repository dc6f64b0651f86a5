# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A bounded probe of the Webapp API from a client's seat (standard library only).

Runs on a host of the admin zone while a playbook changes the deployment. Every INTERVAL
seconds it calls ``GET /v1/settings/application`` with a bearer token (the Webapp up, the
token's JWT key, the database, and in multiconnect the Master behind it) and every 6 s
``GET /v1/health`` (the Coreapp link; the Webapp allows 10 health calls a minute). A 401 means
the token died (a new JWT key): it logs in again with the passwords of PASSWORDS_FILE (one per
line, the last one that worked first). One JSON line per call goes to OUT:

    {"t": seconds since start, "call": "settings"|"health"|"login", "ok": bool, "detail": "..."}

It stops after DURATION seconds (at most 1800) or when STOP_FILE exists. The certificate is
verified against CA for SERVER_NAME while connecting to ADDRESS.

    python3 api_probe.py ADDRESS PORT SERVER_NAME CA PASSWORDS_FILE OUT DURATION STOP_FILE
"""

import base64
import http.client
import json
import os
import socket
import ssl
import sys
import time

INTERVAL = 0.5
HEALTH_EVERY = 6.0
TIMEOUT = 3.0
MAX_DURATION = 1800


def call(context, target, method, path, headers=None):
    """(status, body) or (None, error text); ``target`` is (address, port, server name)."""
    address, port, server_name = target
    try:
        raw = socket.create_connection((address, port), timeout=TIMEOUT)
        conn = http.client.HTTPSConnection(server_name, port, timeout=TIMEOUT, context=context)
        conn.sock = context.wrap_socket(raw, server_hostname=server_name)
        conn.request(method, path, headers=dict(headers or {}, Host=f"{server_name}:{port}"))
        response = conn.getresponse()
        body = response.read(65536)
        conn.close()
        return response.status, body
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def main():
    address, port, server_name, ca, passwords_file, out, duration, stop_file = sys.argv[1:9]
    port, duration = int(port), min(float(duration), MAX_DURATION)
    context = ssl.create_default_context(cafile=ca)
    target = (address, port, server_name)
    start = time.monotonic()
    token, last_health = None, -HEALTH_EVERY
    with open(out, "a", encoding="utf-8") as log:

        def record(call_name, ok, detail):
            log.write(json.dumps({"t": round(time.monotonic() - start, 2), "call": call_name, "ok": ok,
                                  "detail": str(detail)[:200]}) + "\n")
            log.flush()

        def login():
            with open(passwords_file, encoding="utf-8") as handle:
                passwords = [line.rstrip("\n") for line in handle if line.strip()]
            for password in passwords:
                basic = base64.b64encode(f"admin:{password}".encode()).decode()
                status, body = call(context, target, "POST", "/v1/users/login",
                                    {"Authorization": f"Basic {basic}", "Content-Length": "0"})
                if status == 200:
                    record("login", True, "200")
                    return json.loads(body)["users"][0]["token"]
                record("login", False, status if status is not None else body)
                if status is None:
                    return None
            return None

        while time.monotonic() - start < duration and not os.path.exists(stop_file):
            tick = time.monotonic()
            if token is None:
                token = login()
            if token is not None:
                status, body = call(context, target, "GET", "/v1/settings/application",
                                    {"Authorization": f"Bearer {token}"})
                record("settings", status == 200, status if status is not None else body)
                if status == 401:
                    token = None
                if tick - last_health >= HEALTH_EVERY and token is not None:
                    last_health = tick
                    status, body = call(context, target, "GET", "/v1/health",
                                        {"Authorization": f"Bearer {token}"})
                    connected = False
                    if status == 200:
                        health = json.loads(body).get("health") or {}
                        nodes = [health] if "gateway_status" in health else list(health.values())
                        connected = bool(nodes) and all(n.get("gateway_status") == "connected" for n in nodes)
                    record("health", connected, status if status is not None else body)
            time.sleep(max(0.0, INTERVAL - (time.monotonic() - tick)))


if __name__ == "__main__":
    main()
