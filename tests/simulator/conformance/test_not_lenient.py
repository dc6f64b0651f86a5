# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator is not lenient (issue 10, "How it is tested"): each documented failure really fails.

* a wrong ``WA_SECRET`` (section 2.2): no fallback to plaintext, master-only commands fail;
* a clock 15 s off on one side (section 2.2: 10 s grace), with libfaketime in the Coreapp;
* ``WA_DB_SSL_VERIFY`` left on against a DB server certificate for another name (section 2.1);
  the Coreapp ignores ``WA_DB_SSL_VERIFY=0`` (Webapp only);
* a plaintext-only database with ``WA_DB_SSL_*`` (section 2.1).

Each failure has a control next to it that differs only in the one setting, and works.
Containers expected to fail retry their first database connection for 3 s only
(``WAENT_SIM_DB_WAIT``, a test-only setting of the simulator) instead of 30 s.
"""

from __future__ import annotations

import re
import time

import pytest

from conformance import apps, dbs
from conformance import podman as pm

SECRET = "ct-strict-secret-0123456789abcdef"
OTHER_SECRET = "ct-strict-secret-ffffffffffffffff"
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
FAST_FAIL = apps.FAST_FAIL


def faked_clock(offset):
    """libfaketime with a fixed offset for the real-time clock. Python's threads wait on the
    monotonic clock, which libfaketime 0.9.10 must leave alone (faked, ``Event.wait`` hangs in
    ``pthread_cond_timedwait``); with it left alone only ``time.sleep`` fails (EINVAL), which the
    Coreapp uses in its database retry only."""
    return {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": f"{offset:+d}s", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


@pytest.fixture(scope="module")
def strict(mariadb, pki):
    plain_db = dbs.start_mariadb("strict-mariadb-plain", pki, tls=False)
    other_db = dbs.start_mariadb("strict-mariadb-othername", pki, server=pki.db_server_other_name)
    specs = {
        # link: wrong secret, and the same secret as a control
        "core": apps.coreapp_spec("strict-core", mariadb, secret=SECRET),
        "web-right": apps.webapp_spec("strict-web-right", mariadb, coreapp="strict-core", secret=SECRET),
        "web-wrong": apps.webapp_spec("strict-web-wrong", mariadb, coreapp="strict-core", secret=OTHER_SECRET),
        # clocks: 15 s off (outside the 10 s grace) and 5 s off (inside) on the Coreapp side
        "core-skew15": apps.coreapp_spec("strict-core-skew15", mariadb, secret=SECRET, env=faked_clock(15)),
        "web-skew15": apps.webapp_spec("strict-web-skew15", mariadb, coreapp="strict-core-skew15", secret=SECRET),
        "core-skew5": apps.coreapp_spec("strict-core-skew5", mariadb, secret=SECRET, env=faked_clock(5)),
        "web-skew5": apps.webapp_spec("strict-web-skew5", mariadb, coreapp="strict-core-skew5", secret=SECRET),
        # DB server certificate for another name
        "web-verify": apps.webapp_spec("strict-web-verify", other_db, env=FAST_FAIL),
        "web-noverify": apps.webapp_spec("strict-web-noverify", other_db, env={"WA_DB_SSL_VERIFY": "0"}),
        "core-verify0": apps.coreapp_spec("strict-core-verify0", other_db,
                                          env={"WA_DB_SSL_VERIFY": "0", **FAST_FAIL}),
        # plaintext-only DB
        "web-plaindb-tls": apps.webapp_spec("strict-web-plaindb-tls", plain_db, env=FAST_FAIL,
                                            db_env=plain_db.env(client_cert=False)),  # WA_DB_SSL_CA only
        "core-plaindb-tls": apps.coreapp_spec("strict-core-plaindb-tls", plain_db, env=FAST_FAIL),
        "web-plaindb-plain": apps.webapp_spec("strict-web-plaindb-plain", plain_db, db_env=plain_db.env(ssl=False)),
    }
    dbs.wait_ready(plain_db)
    dbs.wait_ready(other_db)
    containers = dict(zip(specs, pm.run_many(list(specs.values())), strict=True))
    webs = {k: apps.Webapp(c, specs[k]["env"].get("WA_WEB_SERVERNAME")) for k, c in containers.items()
            if k.startswith("web-")}
    pm.wait_all([(containers[k], apps.WEBAPP_READY if k.startswith("web-") else apps.COREAPP_READY)
                 for k in ("core", "web-right", "web-wrong", "core-skew15", "web-skew15", "core-skew5", "web-skew5")],
                timeout=120)
    token = apps.admin_token(webs["web-right"])
    yield {**containers, **webs, "token": token, "plain_db": plain_db, "other_db": other_db}
    pm.remove_all([*containers.values(), plain_db.container, other_db.container])


def status(body):
    return body.get("health", {}).get("gateway_status")


# -- WA_SECRET -------------------------------------------------------------------------------------------
def test_wrong_secret_breaks_the_link(strict):
    """§2.2: with another ``WA_SECRET`` the Webapp gets no answer it accepts: health is not
    connected and a master-only command fails (5xx), while the same secret works (control)."""
    right, wrong = strict["web-right"], strict["web-wrong"]
    assert status(right.wait_health(strict["token"], lambda j: status(j) == "connected")) == "connected"
    assert right.request("GET", "/v1/settings/application", token=strict["token"]).status == 200
    assert status(wrong.wait_health(strict["token"], lambda j: status(j) == "connected", attempts=2)) != "connected"
    resp = wrong.request("GET", "/v1/settings/application", token=strict["token"])
    assert resp.status >= 500, f"a master-only command went through with the wrong secret: {resp!r}"
    assert re.search(r"wrong key", strict["core"].logs(), re.IGNORECASE)


# -- clocks -----------------------------------------------------------------------------------------------
def clock_offset(container):
    proc = container.exec("python3", "-c", "import time; print(time.time())")
    assert proc.returncode == 0, proc
    return float(proc.stdout.strip()) - time.time()


def test_clock_15s_off_breaks_the_link(strict):
    """§2.2: frames outside the 10 s window are dropped as a possible replay or unsynchronised
    clock: a Coreapp whose clock is 15 s ahead (libfaketime) is not connected, and both sides log
    why; 5 s off (inside the window) still connects (control)."""
    assert 13 < clock_offset(strict["core-skew15"]) < 17, "libfaketime is not in effect in the Coreapp"
    assert 3 < clock_offset(strict["core-skew5"]) < 7, "libfaketime is not in effect in the Coreapp"
    control = strict["web-skew5"].wait_health(strict["token"], lambda j: status(j) == "connected")
    assert status(control) == "connected", control
    web = strict["web-skew15"]
    web_mark, core_mark = web.container.mark(), strict["core-skew15"].mark()
    body = web.wait_health(strict["token"], lambda j: status(j) == "connected", attempts=2)
    assert status(body) != "connected", body
    strict["core-skew15"].wait_for_log(r"replay|time not in sync|stale|future", timeout=10, since=core_mark,
                                       flags=re.IGNORECASE)
    web_log = web.container.logs()[web_mark:]
    assert re.search(r"replay|time not in sync|stale|future|clock", web_log, re.IGNORECASE), web_log


# -- database TLS verification -------------------------------------------------------------------------------
def test_db_server_certificate_for_another_name(strict):
    """§2.1: ``WA_DB_SSL_VERIFY`` is on by default: against a DB server whose (valid, same-CA)
    certificate names another host, the Webapp exits non-zero and logs why."""
    web = strict["web-verify"]
    code = web.container.wait_exit(timeout=60)
    log = web.container.logs()
    assert code != 0, log
    assert re.search(r"certificate verify failed|hostname mismatch", log, re.IGNORECASE), log


def test_db_ssl_verify_0_starts(strict):
    """§2.1: with ``WA_DB_SSL_VERIFY=0`` the same Webapp against the same server starts (control)."""
    strict["web-noverify"].container.wait_for_log(apps.WEBAPP_READY, timeout=90)


def test_coreapp_ignores_db_ssl_verify(strict):
    """§2.1: ``WA_DB_SSL_VERIFY`` is a Webapp-only variable; the Coreapp always verifies, so with
    ``WA_DB_SSL_VERIFY=0`` it still refuses the server certificate for another name and exits non-zero."""
    core = strict["core-verify0"]
    code = core.wait_exit(timeout=60)
    log = core.logs()
    assert code != 0, log
    assert re.search(r"certificate verify failed|hostname mismatch", log, re.IGNORECASE), log


# -- plaintext-only database ---------------------------------------------------------------------------------
def test_plaintext_db_fixture_has_no_tls(strict, client):
    """§2.1 (the fixture itself): the plaintext MariaDB offers no TLS at all; a TLS client fails."""
    db = strict["plain_db"]
    assert db.sql("SELECT @@have_ssl").strip() == "DISABLED"
    tls = dbs.mariadb_client(client, db)
    assert tls.returncode != 0, dbs.describe(tls)
    assert dbs.mariadb_client(client, db, ssl=False).returncode == 0


def test_plaintext_db_with_ssl_settings_fails(strict):
    """§2.1: TLS settings against a server without TLS (the Webapp with ``WA_DB_SSL_CA`` only, the
    Coreapp with CA, certificate and key): neither falls back to plaintext; both exit non-zero and
    log why."""
    for key in ("web-plaindb-tls", "core-plaindb-tls"):
        container = strict[key] if key.startswith("core") else strict[key].container
        code = container.wait_exit(timeout=60)
        log = container.logs()
        assert code != 0, f"{key}: {log}"
        assert re.search(r"TLS|SSL", log), f"{key}: {log}"


def test_plaintext_db_without_ssl_settings_starts(strict):
    """§2.1: the same plaintext server without ``WA_DB_SSL_*``: the Webapp starts (control)."""
    strict["web-plaindb-plain"].container.wait_for_log(apps.WEBAPP_READY, timeout=90)
