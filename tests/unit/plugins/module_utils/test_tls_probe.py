# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tls_probe's backend and grading against real TLS servers on loopback: the simulator's Webapp
contexts for each WA_WEB_SECURITY_LEVEL (tests/simulator/waent_sim/profiles.py), a current
TLS 1.2/1.3 server, a closed port and a listener that speaks no TLS. Every server is bounded:
it serves a fixed number of connections and is shut down by the fixture."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import socket
import ssl
import subprocess
import threading

import pytest
from ansible_collections.waent.onprem.plugins.module_utils import _tls_grading as grading
from ansible_collections.waent.onprem.plugins.module_utils import _tls_probe as probe
from ansible_collections.waent.onprem.plugins.module_utils import _x509

RENAMED = {"EDH-RSA-DES-CBC3-SHA": "DHE-RSA-DES-CBC3-SHA"}
# More than one scan needs (5 versions + every local suite + a verification), fewer than forever.
MAX_CONNECTIONS = 600


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """The simulator's first-start certificate for ``localhost`` as files, and its CA."""
    from waent_sim import certs  # pylint: disable=import-outside-toplevel

    generated = certs.generate_autogen("localhost", subject_alt_name=True)
    served = generated.load()
    folder = tmp_path_factory.mktemp("tls")
    (folder / "chain.pem").write_bytes(served.chain_pem())
    (folder / "key.pem").write_bytes(served.key_pem())
    (folder / "ca.pem").write_text(generated.ca_blob, encoding="ascii")
    return folder


@contextlib.contextmanager
def tls_server(context):
    """A loopback listener handing each connection's handshake to a thread; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def handle(conn):
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

    def serve():
        for _connection in range(MAX_CONNECTIONS):
            while not stop.is_set():
                try:
                    conn = listener.accept()[0]
                    break
                except TimeoutError:
                    continue
            else:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def webapp_context(level, material):
    from waent_sim import profiles  # pylint: disable=import-outside-toplevel

    context = profiles.build_server_context(profiles.PROFILES[level])[0]
    context.load_cert_chain(str(material / "chain.pem"), str(material / "key.pem"))
    return context


def scan(port, material, name="localhost"):
    return probe.probe(probe.Target("127.0.0.1", port, name, timeout=5), ca_file=str(material / "ca.pem"))


@pytest.fixture(scope="module")
def scans(material):
    """One scan of the simulator's Webapp per profile."""
    results = {}
    for level in grading.WEBAPP_PROFILES:
        with tls_server(webapp_context(level, material)) as port:
            results[level] = scan(port, material)
    return results


def test_modern_webapp_is_tls_1_2_only_and_grades_modern(scans):
    found = scans["MODERN"]
    assert {k: v for k, v in found["protocols"].items() if k != "SSLv3"} == {
        "TLSv1": "refused", "TLSv1.1": "refused", "TLSv1.2": "accepted", "TLSv1.3": "refused"}
    assert found["suites"] and set(found["suites"]) <= grading.allowed_suites("MODERN")
    assert "ECDHE-RSA-AES256-GCM-SHA384" in found["suites"]
    assert grading.grade(found, "MODERN") == []
    assert found["verified"] is True and found["tls13_suite"] is None


def test_sslv3_is_untestable_not_refused_where_openssl_cannot_speak_it(scans):
    expected = probe.ACCEPTED if ssl.HAS_SSLv3 else probe.UNTESTABLE
    assert scans["OLD"]["protocols"]["SSLv3"] == expected


@pytest.mark.parametrize("level", ["INTERMEDIATE", "OLD"])
def test_each_profile_grades_as_itself(scans, level):
    assert grading.grade(scans[level], level) == []
    assert scans[level]["protocols"]["TLSv1"] == probe.ACCEPTED


@pytest.mark.parametrize("level", ["INTERMEDIATE", "OLD"])
def test_a_downgraded_port_fails_the_modern_grade(scans, level):
    problems = grading.grade(scans[level], "MODERN")
    assert any(p.startswith("TLSv1 accepted: the MODERN profile offers TLSv1.2 only") for p in problems), problems
    assert any("outside the MODERN profile accepted" in p and "AES128-SHA" in p for p in problems), problems


def test_modern_port_fails_the_old_grade_for_what_it_refuses(scans):
    problems = grading.grade(scans["MODERN"], "OLD")
    assert "TLSv1 refused: the OLD profile offers it" in problems


def test_advice_against_mozilla_current(scans):
    notes = grading.advise(scans["INTERMEDIATE"])
    assert any(n.startswith("TLSv1, TLSv1.1 accepted") for n in notes), notes
    assert any(n.startswith("TLSv1.3 not offered") for n in notes), notes
    assert any("beyond" in n and "ECDHE-RSA-AES128-SHA," in n for n in notes), notes


def test_a_current_server_needs_no_advice(material):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(":".join(grading.MOZILLA_INTERMEDIATE_SUITES))
    context.load_cert_chain(str(material / "chain.pem"), str(material / "key.pem"))
    with tls_server(context) as port:
        found = scan(port, material)
    assert found["protocols"]["TLSv1.3"] == probe.ACCEPTED
    assert found["tls13_suite"] in grading.MOZILLA_TLS13_SUITES
    assert grading.advise(found) == []
    # TLS 1.3 is newer than every Webapp profile: no downgrade, no failure.
    assert not any(p.startswith("TLSv1.3") for p in grading.grade(found, "MODERN"))


def test_the_wrong_name_does_not_verify(material):
    with tls_server(webapp_context("MODERN", material)) as port:
        found = scan(port, material, name="other.example")
    assert found["verified"] is False and "mismatch" in found["verify_error"].lower()
    facts = _x509.served_facts(found["certificate_der"], "other.example")
    assert facts["name_matches"] is False and facts["days_left"] > 0
    assert _x509.served_facts(found["certificate_der"], "localhost")["name_matches"] is True


def test_a_closed_port_is_an_error_not_a_refusal():
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
    with pytest.raises(probe.TlsProbeError, match="no TCP connection"):
        probe.probe(probe.Target("127.0.0.1", port, timeout=2))


def test_a_listener_without_tls_is_an_error():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def close_each():
        for _connection in range(100):
            while not stop.is_set():
                try:
                    listener.accept()[0].close()
                    break
                except TimeoutError:
                    continue

    thread = threading.Thread(target=close_each, daemon=True)
    thread.start()
    try:
        with pytest.raises(probe.TlsProbeError, match="no protocol version completed"):
            probe.probe(probe.Target("127.0.0.1", listener.getsockname()[1], timeout=2))
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"port": 0}, "not a TCP port"), ({"port": 443, "timeout": 0}, "timeout"),
])
def test_bad_targets(kwargs, message):
    with pytest.raises(ValueError, match=message):
        probe.Target("127.0.0.1", **kwargs)


def test_bad_level_and_workers():
    with pytest.raises(ValueError, match="MODERN, INTERMEDIATE or OLD"):
        grading.grade({"protocols": {}, "suites": []}, "HIGH")
    with pytest.raises(ValueError, match="workers"):
        probe.probe(probe.Target("127.0.0.1", 443), workers=0)


def test_untestable_suites_are_those_openssl_lacks():
    local = probe.local_suite_names()
    missing = grading.untestable_suites("INTERMEDIATE", local)
    assert not set(missing) & set(local)
    assert ("DES-CBC3-SHA" in missing) == ("DES-CBC3-SHA" not in local)


# -- cross-check with sslyze (its own virtualenv, scripts/setup.sh: requirements-sslyze.txt) ----------
SSLYZE_KEYS = (("ssl_3_0_cipher_suites", "SSLv3"), ("tls_1_0_cipher_suites", "TLSv1"),
               ("tls_1_1_cipher_suites", "TLSv1.1"), ("tls_1_2_cipher_suites", "TLSv1.2"),
               ("tls_1_3_cipher_suites", "TLSv1.3"))


def sslyze_command():
    home = os.environ.get("WAENT_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "waent-onprem")
    command = pathlib.Path(os.environ.get("WAENT_VENV_SSLYZE") or os.path.join(home, "venv-sslyze")) / "bin" / "sslyze"
    if not command.exists():
        pytest.fail(f"sslyze is missing at {command}: make setup creates it (requirements-sslyze.txt)")
    return str(command)


def test_same_verdict_as_sslyze_for_every_profile(material):
    """Same protocol versions (SSLv3 left out where this OpenSSL cannot speak it) and the same
    TLS <= 1.2 suites as sslyze, whose nassl brings its own OpenSSL, on each Webapp profile."""
    with contextlib.ExitStack() as stack:
        ports = {level: stack.enter_context(tls_server(webapp_context(level, material)))
                 for level in grading.WEBAPP_PROFILES}
        ours = {level: scan(port, material) for level, port in ports.items()}
        proc = subprocess.run(
            # --slow_connection: fewer connections at once; a loaded machine made sslyze miss a suite.
            [sslyze_command(), "--json_out=-", "--mozilla_config=disable", "--slow_connection", "--sslv3", "--tlsv1",
             "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", *(f"127.0.0.1:{port}" for port in ports.values())],
            capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    by_port = {result["server_location"]["port"]: result["scan_result"]
               for result in json.loads(proc.stdout)["server_scan_results"]}
    for level, port in ports.items():
        theirs = by_port[port]
        accepted = {name: {c["cipher_suite"]["openssl_name"] for c in theirs[key]["result"]["accepted_cipher_suites"]}
                    for key, name in SSLYZE_KEYS}
        found = ours[level]
        testable = [name for name, status in found["protocols"].items() if status != probe.UNTESTABLE]
        assert {name for name in testable if found["protocols"][name] == probe.ACCEPTED} == \
            {name for name in testable if accepted[name]}, level
        suites = set().union(*(accepted[name] for name in probe.PROTOCOLS[:-1]))
        assert set(found["suites"]) == {RENAMED.get(s, s) for s in suites}, level
