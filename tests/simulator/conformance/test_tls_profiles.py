# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's HTTPS profiles, ``WA_WEB_SECURITY_LEVEL`` (reference section 5.1; section 2.2).

Six Webapps, one per case: the three documented values, a lower-case one, an unknown one, and
none. sslyze (its own virtualenv, ``requirements-sslyze.txt``; nassl brings OpenSSL 1.0.2 and
1.1.1 builds, so SSLv2 to TLS 1.3 and old suites are all probed) scans them in one run. The
expected sets are the documented ones, from ``waent_sim.profiles`` (the section 5.1 strings and
Mozilla 4.0 expansions), minus the gaps ``tests/simulator/DEVIATIONS.md`` T1-T8 documents for
OpenSSL 3.0; the gaps measured on this host must be exactly those documented.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from waent_sim import profiles

from conformance import apps
from conformance import podman as pm

# case id -> (WA_WEB_SECURITY_LEVEL value, the documented profile it selects)
CASES = {
    "MODERN": ("MODERN", profiles.MODERN),
    "INTERMEDIATE": ("INTERMEDIATE", profiles.INTERMEDIATE),
    "OLD": ("OLD", profiles.OLD),
    "lowercase-intermediate": ("intermediate", profiles.INTERMEDIATE),
    "unknown-bogus": ("Bogus", profiles.MODERN),
    "unset": (None, profiles.MODERN),
}
# sslyze result keys, oldest protocol first, with the documented names.
SSLYZE_PROTOCOLS = (("ssl_2_0_cipher_suites", "SSLv2"), ("ssl_3_0_cipher_suites", "SSLv3"),
                    ("tls_1_0_cipher_suites", "TLSv1"), ("tls_1_1_cipher_suites", "TLSv1.1"),
                    ("tls_1_2_cipher_suites", "TLSv1.2"), ("tls_1_3_cipher_suites", "TLSv1.3"))
RENAMED = {"EDH-RSA-DES-CBC3-SHA": "DHE-RSA-DES-CBC3-SHA"}  # OpenSSL 1.1 names (profiles._RENAMED)

# DEVIATIONS.md "TLS profiles": what OpenSSL 3.0 (Debian 12) cannot do of each profile.
TRIPLE_DES = ("ECDHE-RSA-DES-CBC3-SHA", "ECDHE-ECDSA-DES-CBC3-SHA", "EDH-RSA-DES-CBC3-SHA", "DES-CBC3-SHA")  # T2
SEED = ("DHE-RSA-SEED-SHA", "DHE-DSS-SEED-SHA", "SEED-SHA")  # T3
NEW_SUITES = (  # T4: 12 AES-CCM and 10 ARIA-GCM suites OLD's "AES" and "HIGH" select today
    "ECDHE-ECDSA-AES256-CCM8", "ECDHE-ECDSA-AES256-CCM", "DHE-RSA-AES256-CCM8", "DHE-RSA-AES256-CCM",
    "ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-AES128-CCM", "DHE-RSA-AES128-CCM8", "DHE-RSA-AES128-CCM",
    "AES256-CCM8", "AES256-CCM", "AES128-CCM8", "AES128-CCM",
    "ECDHE-ECDSA-ARIA256-GCM-SHA384", "ECDHE-ARIA256-GCM-SHA384", "DHE-DSS-ARIA256-GCM-SHA384",
    "DHE-RSA-ARIA256-GCM-SHA384", "ECDHE-ECDSA-ARIA128-GCM-SHA256", "ECDHE-ARIA128-GCM-SHA256",
    "DHE-DSS-ARIA128-GCM-SHA256", "DHE-RSA-ARIA128-GCM-SHA256", "ARIA256-GCM-SHA384", "ARIA128-GCM-SHA256",
)
# T3: SEED is in OpenSSL 3's legacy provider; where the Webapp's process has it loaded (Debian's
# python3-cryptography loads it into the process's OpenSSL when imported), the suites are offered.
SEED_META = {"DHE-RSA-SEED-SHA": {"auth": "auth-rsa", "protocol": "SSLv3"},
             "SEED-SHA": {"auth": "auth-rsa", "protocol": "SSLv3"},
             "DHE-DSS-SEED-SHA": {"auth": "auth-dss", "protocol": "SSLv3"}}
LEGACY_PROBE = (
    "import ssl, cryptography.hazmat.bindings.openssl.binding\n"
    "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "try:\n    c.set_ciphers('SEED:@SECLEVEL=0')\nexcept ssl.SSLError:\n    print('no')\nelse:\n    print('yes')\n"
)
DOCUMENTED_GAPS = {
    "MODERN": profiles.Gaps(),
    "INTERMEDIATE": profiles.Gaps(missing_suites=TRIPLE_DES),
    "OLD": profiles.Gaps(protocols=("SSLv3",), missing_suites=TRIPLE_DES + SEED, extra_suites=NEW_SUITES),  # T1-T4
}


def sslyze_command():
    explicit = os.environ.get("WAENT_SSLYZE")
    if explicit:
        return explicit
    home = os.environ.get("WAENT_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "waent-onprem")
    venv = os.environ.get("WAENT_VENV_SSLYZE") or os.path.join(home, "venv-sslyze")  # scripts/setup.sh
    candidate = pathlib.Path(venv) / "bin" / "sslyze"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("sslyze")
    if not found:
        pytest.fail("sslyze is missing: make setup creates $WAENT_HOME/venv-sslyze (requirements-sslyze.txt)")
    return found


def expected(profile, legacy):
    """``{protocol: set of suites}`` a server with an RSA certificate accepts for ``profile``:
    the documented expansion (section 5.1) minus DEVIATIONS.md's gaps, per protocol version.
    ``legacy``: the Webapp's process has OpenSSL's legacy provider, so T3 (SEED) does not apply."""
    context, gaps = profiles.build_server_context(profile)  # this process: no legacy provider
    documented = DOCUMENTED_GAPS[profile.name]
    assert (set(gaps.protocols), set(gaps.missing_suites), set(gaps.extra_suites)) == (
        set(documented.protocols), set(documented.missing_suites), set(documented.extra_suites)), (
        f"this host's OpenSSL differs from DEVIATIONS.md for {profile.name}: {gaps}")
    meta = {c["name"]: c for c in context.get_ciphers()}
    missing = set(gaps.missing_suites)
    if legacy:
        meta.update(SEED_META)
        missing -= set(SEED)
    suites = ({RENAMED.get(n, n) for n in profile.expansion} - {RENAMED.get(n, n) for n in missing}
              | set(gaps.extra_suites))
    # The Webapp's certificate is RSA: ECDSA- and DSS-authenticated suites can never be chosen.
    rsa_suites = {n for n in suites if meta[n]["auth"] == "auth-rsa"}
    # TLS 1.0/1.1 (and SSLv3) cannot negotiate the suites that exist only from TLS 1.2 on.
    pre_tls12 = {n for n in rsa_suites if meta[n]["protocol"] != "TLSv1.2"}
    result = {}
    for protocol in profile.protocols:
        if protocol in gaps.protocols:
            continue  # T1
        result[protocol] = rsa_suites if protocol == "TLSv1.2" else pre_tls12
    return result  # T7: nothing above TLS 1.2


def server_order(profile):
    """The server's preference order of its RSA ECDHE TLS 1.2 suites (the cipher string's order)."""
    context, _gaps = profiles.build_server_context(profile)
    return [c["name"] for c in context.get_ciphers()
            if c["auth"] == "auth-rsa" and c["kea"] == "kx-ecdhe" and c["protocol"] == "TLSv1.2"]


@pytest.fixture(scope="module")
def webapps(mariadb):
    specs = [apps.webapp_spec(f"tls-{case.lower()}", mariadb, level=level,
                              server_name=None if case == "unset" else True)
             for case, (level, _profile) in CASES.items()]
    started = apps.start_webapps(specs)
    yield dict(zip(CASES, started, strict=True))
    pm.remove_all([w.container for w in started])


@pytest.fixture(scope="module")
def ready(webapps):
    pm.wait_all([(w.container, apps.WEBAPP_READY) for w in webapps.values()], timeout=120)
    return webapps


@pytest.fixture(scope="module")
def legacy(ready):
    """DEVIATIONS T3's condition, probed in the Webapp image's own Python: is SEED available?"""
    proc = ready["OLD"].container.exec("python3", "-c", LEGACY_PROBE)
    assert proc.returncode == 0 and proc.stdout.strip() in ("yes", "no"), proc
    return proc.stdout.strip() == "yes"


@pytest.fixture(scope="module")
def scans(ready):
    """One sslyze run over the six Webapps: their scan results by case."""
    targets = {f"{w.ip}:{apps.HTTPS_PORT}": case for case, w in ready.items()}
    command = [sslyze_command(), "--json_out=-", "--mozilla_config=disable", "--sslv2", "--sslv3", "--tlsv1",
               "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--elliptic_curves", "--reneg", *targets]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, f"sslyze exited {proc.returncode}: {proc.stderr[-2000:]}"
    document = json.loads(proc.stdout)
    results = {}
    for server in document["server_scan_results"]:
        location = server["server_location"]
        case = targets[f"{location['ip_address']}:{location['port']}"]
        assert server["scan_status"] == "COMPLETED", (case, server.get("connectivity_error_trace"))
        results[case] = server["scan_result"]
    assert set(results) == set(CASES), f"sslyze returned {sorted(results)} ({time.monotonic() - started:.1f} s)"
    return results


def accepted(scan):
    """``{protocol: set of suites}`` as sslyze saw it (protocols with no accepted suite left out)."""
    result = {}
    for key, protocol in SSLYZE_PROTOCOLS:
        attempt = scan[key]
        assert attempt["status"] == "COMPLETED", (key, attempt.get("error_trace"))
        names = {c["cipher_suite"]["openssl_name"] for c in attempt["result"]["accepted_cipher_suites"]}
        if names:
            result[protocol] = names
    return result


@pytest.mark.parametrize("case", CASES)
def test_protocol_versions(scans, legacy, case):
    """§5.1 (+§2.2: case-insensitive, unknown/unset = MODERN): MODERN speaks TLS 1.2 only,
    INTERMEDIATE TLS 1.0-1.2, OLD SSLv3-TLS 1.2 minus SSLv3 (DEVIATIONS T1: OpenSSL 3 has none);
    SSLv2 never; nothing above TLS 1.2 (T7)."""
    _level, profile = CASES[case]
    assert sorted(accepted(scans[case])) == sorted(expected(profile, legacy)), f"{case} -> {profile.name}"


@pytest.mark.parametrize("case", CASES)
def test_cipher_suites(scans, legacy, case):
    """§5.1: per protocol version, exactly the suites of the profile's documented string/expansion
    that an RSA certificate allows, minus 3DES (DEVIATIONS T2) and SEED unless the process has
    OpenSSL's legacy provider (T3), plus the AES-CCM and
    ARIA-GCM suites OLD's ``AES``/``HIGH`` select today (T4); MODERN with its trailing
    ``DHE-RSA-AES128-SHA256`` (T8, DH group T6)."""
    _level, profile = CASES[case]
    got, want = accepted(scans[case]), expected(profile, legacy)
    problems = {protocol: {"unexpected": sorted(got.get(protocol, set()) - suites),
                           "missing": sorted(suites - got.get(protocol, set()))}
                for protocol, suites in want.items() if got.get(protocol, set()) != suites}
    assert not problems, f"{case} -> {profile.name}: {problems}"


@pytest.mark.parametrize("case", CASES)
def test_only_secp384r1(scans, case):
    """§5.1: ``ssl.ec-curve = secp384r1``: the only ECDHE group the server accepts."""
    curves = scans[case]["elliptic_curves"]["result"]
    assert curves["supports_ecdh_key_exchange"]
    assert [c["name"] for c in curves["supported_curves"]] == ["secp384r1"]


def test_secp384r1_with_openssl_s_client(ready):
    """§5.1 with a second client, ``openssl s_client``: ECDHE with only P-256 offered fails,
    with P-384 it succeeds and the server's key is secp384r1."""
    web = ready["MODERN"]
    base = ["openssl", "s_client", "-connect", f"{web.ip}:{apps.HTTPS_PORT}", "-tls1_2",
            "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]
    bad = subprocess.run([*base, "-groups", "P-256"], input="", capture_output=True, text=True, timeout=30,
                         check=False)
    assert "Server Temp Key" not in bad.stdout, bad.stdout[-1500:]
    assert bad.returncode != 0 or "Cipher is (NONE)" in bad.stdout, (bad.stdout[-800:], bad.stderr[-800:])
    good = subprocess.run([*base, "-groups", "P-384"], input="", capture_output=True, text=True, timeout=30,
                          check=False)
    assert re.search(r"Server Temp Key: ECDH, (secp384r1|P-384)", good.stdout), good.stdout[-1500:]


@pytest.mark.parametrize("case", ("MODERN", "INTERMEDIATE", "OLD"))
def test_server_cipher_order(ready, case):
    """§5.1: the server's cipher order is honoured: a client listing the server's second choice
    before its first still gets the first."""
    _level, profile = CASES[case]
    first, second = server_order(profile)[:2]
    context = apps.unverified_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(f"{second}:{first}")
    address = (ready[case].ip, apps.HTTPS_PORT)
    with socket.create_connection(address, timeout=10) as raw, context.wrap_socket(raw) as tls:
        assert tls.cipher()[0] == first, f"server chose {tls.cipher()[0]}, its own order puts {first} first"


@pytest.mark.parametrize("case", ("MODERN", "INTERMEDIATE", "OLD"))
def test_client_renegotiation_refused(scans, ready, case):
    """§5.1: ``ssl.disable-client-renegotiation``: ``openssl s_client``'s ``R`` (a client-initiated
    renegotiation) is refused with a no_renegotiation alert; sslyze's attempts all fail too."""
    reneg = scans[case]["session_renegotiation"]["result"]
    assert reneg["client_renegotiations_success_count"] == 0, reneg
    assert not reneg["is_vulnerable_to_client_renegotiation_dos"], reneg
    proc = subprocess.Popen(["openssl", "s_client", "-connect", f"{ready[case].ip}:{apps.HTTPS_PORT}", "-tls1_2"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        proc.stdin.write("R\n")
        proc.stdin.flush()
        time.sleep(1.5)  # bounded: the server's answer to the renegotiation arrives in milliseconds
        out = proc.communicate(input="", timeout=15)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert "RENEGOTIATING" in out, out[-1500:]
    assert "no renegotiation" in out, f"renegotiation not refused:\n{out[-1500:]}"


@pytest.mark.parametrize("path", ("/", "/v1/health"))
def test_server_header_without_version(ready, path):
    """§6 (``server.tag = "Server"``) and §5.1's HTTPS server: every response's ``Server`` header
    is the bare word ``Server``, no product and no version."""
    resp = ready["MODERN"].request("GET", path)
    assert resp.header("Server") == "Server", f"Server: {resp.header('Server')!r}"


def test_default_server_name_is_localhost(ready):
    """§4.3 / §2.2: without ``WA_WEB_SERVERNAME`` the self-signed server certificate is for
    CN = ``localhost``."""
    cert = x509.load_der_x509_certificate(ready["unset"].served_certificate())
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    assert names == ["localhost"], cert.subject.rfc4514_string()
