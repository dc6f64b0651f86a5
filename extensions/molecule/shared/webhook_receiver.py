# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A webhook endpoint for the scenarios: HTTPS with a certificate of its own CA, one line per POST.

    python3 webhook_receiver.py CERT KEY PORT LOG

Appends ``POST <path> <bytes>`` to LOG for every callback and answers 200. It stops by itself
after 1000 requests or 2 hours (the scenario's destroy removes its host anyway).
"""

import http.server
import ssl
import sys
import threading

MAX_REQUESTS = 1000
MAX_SECONDS = 7200


class Handler(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):  # noqa: N802 (the http.server API)
        body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
        with open(sys.argv[4], "a", encoding="utf-8") as log:
            log.write(f"POST {self.path} {len(body)}\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        Handler.count += 1
        if Handler.count >= MAX_REQUESTS:
            threading.Thread(target=self.server.shutdown, daemon=True).start()

    def log_message(self, *args):
        pass


def main():
    # Every address of the probe host: the Coreapps reach it by its zone address.
    server = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[3])), Handler)  # noqa: S104
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Timer(MAX_SECONDS, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
