# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How long port_probe takes for N unanswered (filtered) pairs: about one timeout, not N.

Loopback only: a listener that never accepts and whose accept queue is full drops every new SYN,
the same as a firewall drop rule. Usage: python benchmarks/port_probe_parallel.py [N] [TIMEOUT]
"""

from __future__ import annotations

import socket
import sys
import time

from ansible_collections.waent.onprem.plugins.module_utils._port_probe import probe, summarize


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _index in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    started = time.monotonic()
    results = probe([("127.0.0.1", port)] * count, timeout=timeout)
    elapsed = time.monotonic() - started
    print(f"pairs={count} timeout={timeout}s elapsed={elapsed:.2f}s states={summarize(results)} "
          f"sequential_would_be={count * timeout:.0f}s")
    for filler in fillers:
        filler.close()
    server.close()


if __name__ == "__main__":
    main()
