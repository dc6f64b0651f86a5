# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""waent.onprem.tls_probe's backend against sslyze's command line, same endpoints, same run.

Three loopback endpoints in a separate server process, configured as the simulator's Webapp is
for each WA_WEB_SECURITY_LEVEL (tests/simulator/waent_sim/profiles.py). For each: the probe's
backend as one process (``python3 -c``: interpreter start, protocols, every local TLS <= 1.2
suite, TLS 1.3, the chain verified against the CA) and ``sslyze`` scanning the same things
(``--sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --certinfo``). Prints the wall times (median of
``--runs``) and whether both saw the same protocol versions and the same TLS <= 1.2 suites
(SSLv3, which this host's OpenSSL cannot speak, is left out of the comparison when the probe says
``untestable``; the certificate verdicts are not compared: sslyze validates the chain for the
address it connects to, the probe for the name, ``localhost``, which must verify).

    source scripts/env.sh && python3 benchmarks/tls_probe_vs_sslyze.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LEVELS = ("MODERN", "INTERMEDIATE", "OLD")
SSLYZE_KEYS = (("ssl_3_0_cipher_suites", "SSLv3"), ("tls_1_0_cipher_suites", "TLSv1"),
               ("tls_1_1_cipher_suites", "TLSv1.1"), ("tls_1_2_cipher_suites", "TLSv1.2"),
               ("tls_1_3_cipher_suites", "TLSv1.3"))
RENAMED = {"EDH-RSA-DES-CBC3-SHA": "DHE-RSA-DES-CBC3-SHA"}

# The server process: one listener per profile, each connection's handshake in a thread, at most
# MAX connections in all and LIFETIME seconds, then it exits.
SERVER = r"""
import json, socket, ssl, sys, threading, time
sys.path.insert(0, sys.argv[1])
from waent_sim import certs, profiles
MAX, LIFETIME = 20000, 600
folder = sys.argv[2]
generated = certs.generate_autogen("localhost", subject_alt_name=True)
served = generated.load()
open(folder + "/chain.pem", "wb").write(served.chain_pem())
open(folder + "/key.pem", "wb").write(served.key_pem())
open(folder + "/ca.pem", "w").write(generated.ca_blob)
ports, listeners = {}, []
for level in ("MODERN", "INTERMEDIATE", "OLD"):
    context = profiles.build_server_context(profiles.PROFILES[level])[0]
    context.load_cert_chain(folder + "/chain.pem", folder + "/key.pem")
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    listeners.append((listener, context))
    ports[level] = listener.getsockname()[1]
count = [0]
def handle(conn, context):
    conn.settimeout(5)
    try:
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)
    except OSError:
        pass
def serve(listener, context):
    while count[0] < MAX:
        conn = listener.accept()[0]
        count[0] += 1
        threading.Thread(target=handle, args=(conn, context), daemon=True).start()
for listener, context in listeners:
    threading.Thread(target=serve, args=(listener, context), daemon=True).start()
print(json.dumps(ports), flush=True)
time.sleep(LIFETIME)
"""

PROBE = r"""
import json, sys
from ansible_collections.waent.onprem.plugins.module_utils import _tls_probe as p
found = p.probe(p.Target("127.0.0.1", int(sys.argv[1]), "localhost", timeout=5), ca_file=sys.argv[2])
print(json.dumps({"protocols": found["protocols"], "suites": found["suites"], "verified": found["verified"]}))
"""


def sslyze_command():
    home = os.environ.get("WAENT_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "waent-onprem")
    return os.path.join(os.environ.get("WAENT_VENV_SSLYZE") or os.path.join(home, "venv-sslyze"), "bin", "sslyze")


def timed(argv, env=None):
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True, env=env)
    return time.monotonic() - started, proc.stdout


def probe_verdict(output):
    found = json.loads(output)
    protocols = {name for name, status in found["protocols"].items() if status == "accepted"}
    untestable = {name for name, status in found["protocols"].items() if status == "untestable"}
    return protocols, set(found["suites"]), untestable, found["verified"]


def sslyze_verdict(output):
    result = json.loads(output)["server_scan_results"][0]["scan_result"]
    protocols, suites = set(), set()
    for key, name in SSLYZE_KEYS:
        accepted = result[key]["result"]["accepted_cipher_suites"]
        if accepted:
            protocols.add(name)
        if name != "TLSv1.3":
            suites |= {RENAMED.get(c["cipher_suite"]["openssl_name"], c["cipher_suite"]["openssl_name"])
                       for c in accepted}
    return protocols, suites


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="tls-bench-")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT / "tests" / "simulator"), folder],
                              stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(server.stdout.readline())
        ca = os.path.join(folder, "ca.pem")
        print(f"{'level':13} {'tls_probe (s)':>13} {'sslyze (s)':>10} {'ratio':>6}  same verdict")
        for level in LEVELS:
            port = str(ports[level])
            ours, theirs = [], []
            for _run in range(args.runs):
                seconds, probe_out = timed([sys.executable, "-c", PROBE, port, ca])
                ours.append(seconds)
                seconds, sslyze_out = timed([sslyze_command(), "--json_out=-", "--mozilla_config=disable", "--sslv3",
                                             "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--certinfo",
                                             f"--certinfo_ca_file={ca}", f"127.0.0.1:{port}"])
                theirs.append(seconds)
            protocols, suites, untestable, verified = probe_verdict(probe_out)
            their_protocols, their_suites = sslyze_verdict(sslyze_out)
            same = protocols == their_protocols - untestable and suites == their_suites and verified
            detail = "" if same else (f" protocols {sorted(protocols)} vs {sorted(their_protocols)};"
                                      f" suites only probe {sorted(suites - their_suites)},"
                                      f" only sslyze {sorted(their_suites - suites)}; probe verified {verified}")
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"{level:13} {a:13.2f} {b:10.2f} {b / a:5.1f}x  {'yes' if same else 'NO'}"
                  f" ({len(protocols)} versions, {len(suites)} suites){detail}")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
