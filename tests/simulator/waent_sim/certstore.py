# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Webapp's ``certs`` table, keyed by ``WA_WEB_SERVERNAME`` (reference section 4.3).

* First start for a server name: the auto-generated CA and server certificate
  (:func:`waent_sim.certs.generate_autogen`) are stored; every Webapp on the database serves them.
* An upload overwrites the row; it is served only after a Webapp restart (the running listener
  keeps the material it loaded), and a bundle whose key does not match fails that next start.
* A new ``WA_WEB_SERVERNAME`` finds no row and generates its own pair.
"""

from __future__ import annotations

from waent_sim import certs

TABLES = {"certs": [("servername", "key"), ("kind", "key"), ("cert_blob", "text"), ("ca_blob", "text")]}
AUTOGEN = "autogen"
UPLOAD = "upload"


class CertStore:
    def __init__(self, store):
        self.store = store

    def create_schema(self):
        self.store.create_tables(TABLES)

    def _row(self, server_name):
        return self.store.one("SELECT kind, cert_blob, ca_blob FROM certs WHERE servername = %s", (server_name,))

    def startup_material(self, server_name):
        """``(kind, ServerMaterial)`` a start serves; raises ``certs.CertificateStartupError`` for a bad upload."""
        row = self._row(server_name)
        if row is None:
            material = certs.generate_autogen(server_name)
            # Two Webapps starting together: the first insert wins and both serve it.
            self.store.insert_missing("certs", {"servername": server_name, "kind": AUTOGEN,
                                                "cert_blob": material.cert_blob, "ca_blob": material.ca_blob})
            row = self._row(server_name)
        kind, cert_blob, ca_blob = row
        return kind, certs.load_server_material(cert_blob, ca_blob)

    def save_upload(self, server_name, bundle):
        self.store.upsert("certs", {"servername": server_name},
                          {"kind": UPLOAD, "cert_blob": bundle.cert_blob, "ca_blob": bundle.ca_blob})

    def ca_pem(self, server_name):
        """What ``GET /v1/certificates/external/ca`` returns: the stored CA bundle, or None."""
        row = self._row(server_name)
        return row[2] if row and row[2] else None
