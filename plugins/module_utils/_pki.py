# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Backend of the waent.onprem.pki module: runs state=present (the manager) and state=validate.

Structure (after community.crypto's module_backends): the module file only parses options and
reports; the items and their one predicate each are in ``_pki_items``, the files in
``_pki_store``, every X.509 rule in ``_x509``. This file orders the work: validate the options,
the CA, then each certificate and its bundles; or check operator-supplied certificates with the
same rules the PKI issues with. Everything runs in-process on ``cryptography``; no subprocess.
"""

from __future__ import annotations

import ipaddress
import os

from ansible_collections.waent.onprem.plugins.module_utils import _x509
from ansible_collections.waent.onprem.plugins.module_utils._cryptography_dep import HAS_CRYPTOGRAPHY
from ansible_collections.waent.onprem.plugins.module_utils._pki_items import (
    CAItem,
    CertificateItem,
    generate_key,
    key_pem,
)
from ansible_collections.waent.onprem.plugins.module_utils._pki_store import (
    FileStore,
    PkiError,
    Unreadable,
    parse_certs,
    parse_key,
    parse_mode,
    read_bytes,
    read_existing,
    resolve,
    resolve_gid,
    resolve_uid,
)

if HAS_CRYPTOGRAPHY:
    from cryptography.hazmat.primitives import serialization


# --------------------------------------------------------------------------- input validation


def validate_params(params):
    """Check the options before anything is touched; raise PkiError naming the option and the fix."""
    certs = params.get("certificates") or []
    seen = set()
    for index, spec in enumerate(certs):
        where = f"certificates[{index}] (name={spec.get('name')})"
        name = spec.get("name") or ""
        if not name or "/" in name or name in (".", ".."):
            raise PkiError(f"{where}: name must be a non-empty file base name without '/'")
        if name in seen:
            raise PkiError(f"{where}: the name is used twice; certificate names must be unique")
        seen.add(name)
        for address in spec.get("ip") or []:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise PkiError(f"{where}: ip entry {address!r} is not an IPv4/IPv6 address") from None
        for dns in spec.get("dns") or []:
            if not dns or " " in dns or "/" in dns:
                raise PkiError(f"{where}: dns entry {dns!r} is not a DNS name")
        if params.get("state", "present") == "present":
            ca_name = (params.get("ca") or {}).get("name", "ca")
            if name == ca_name:
                raise PkiError(f"{where}: the name {name!r} is the CA's file name (ca.name); pick another")
            if spec.get("signed_by") not in (None, ca_name):
                raise PkiError(
                    f"{where}: signed_by={spec.get('signed_by')!r} but this call's signing CA is "
                    f"ca.name={ca_name!r}; use one module call per CA"
                )
            if spec.get("validity_days", 1) < 1:
                raise PkiError(f"{where}: validity_days must be at least 1")
            for bundle in spec.get("bundles") or []:
                if not bundle.get("content"):
                    raise PkiError("{}: bundle {} has an empty content list".format(where, bundle.get("path")))
        if spec.get("renew_before", 0) < 0:
            raise PkiError(f"{where}: renew_before must be 0 or more days")
    ca = params.get("ca") or {}
    if ca.get("validity_days", 1) < 1:
        raise PkiError("ca.validity_days must be at least 1")
    if ca.get("renew_before", 0) < 0:
        raise PkiError("ca.renew_before must be 0 or more days")


# --------------------------------------------------------------------------- present


class PkiManager:
    """Runs state=present: CA, then each certificate, then its bundles."""

    def __init__(self, params, check_mode=False, now=None):
        validate_params(params)
        self.params = params
        self.check_mode = check_mode
        self.now = now or _x509.utcnow()
        self.directory = os.path.abspath(params["path"])
        self.store = FileStore(check_mode=check_mode, backup=params.get("backup", False))
        self.key_mode = parse_mode(params.get("key_mode", "0600"), "key_mode")
        self.cert_mode = parse_mode(params.get("cert_mode", "0644"), "cert_mode")
        self.uid = resolve_uid(params.get("owner"))
        self.gid = resolve_gid(params.get("group"))
        self.on_unreadable = params.get("on_unreadable", "regenerate")
        self.warnings = []
        self.diff = {"before": {"ca": {}, "certificates": {}}, "after": {"ca": {}, "certificates": {}}}
        # validate owner/group/modes of every certificate and bundle before anything changes
        for spec in params.get("certificates") or []:
            resolve_uid(spec.get("owner"))
            resolve_gid(spec.get("group"))
            for bundle in spec.get("bundles") or []:
                parse_mode(bundle.get("mode"), "certificates[{}].bundles[{}].mode".format(spec["name"], bundle["path"]))
                resolve_uid(bundle.get("owner"))
                resolve_gid(bundle.get("group"))

    def run(self):
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise PkiError(f"path {self.directory} exists and is not a directory")
        dir_created = self.store.ensure_dir(self.directory)
        ca_result, ca_key, ca_cert, ca_pem = self._ca()
        cert_results = [self._certificate(spec, ca_key, ca_cert, ca_pem) for spec in self.params["certificates"]]
        changed = dir_created or ca_result["changed"] or any(r["changed"] for r in cert_results)
        return {
            "changed": changed,
            "ca": ca_result,
            "certificates": cert_results,
            "backup_files": list(self.store.backup_files),
        }

    def _attributes(self, pair, uid, gid):
        """Reconcile owner/group/mode of an item's key and certificate; True if anything differed."""
        key_attrs = self.store.set_attributes(pair.key_path, self.key_mode, uid, gid)
        return self.store.set_attributes(pair.cert_path, self.cert_mode, uid, gid) or key_attrs

    # -- CA
    def _ca(self):
        item = CAItem(self.params["ca"], self.directory, self.params.get("organization"), self.now)
        self.ca_item = item
        reason = item.needs_regeneration()
        self.warnings.extend(item.warnings)
        pair = item.pair
        before = {}
        if pair.cert is not None:
            before = _x509.cert_facts(pair.cert)
            if pair.key is not None:
                before["key_type"] = _x509.key_type_of(pair.key)
        result = {"reason": reason, "warnings": list(item.warnings), "key_path": pair.key_path,
                  "cert_path": pair.cert_path}
        key, cert, pem = pair.key, pair.cert, pair.cert_bytes
        if reason is not None:
            item.replaced = item.existed
            key = cert = pem = None
            if not self.check_mode:
                key, cert = item.generate()
                pem = cert.public_bytes(serialization.Encoding.PEM)
                unreadable = reason in ("unreadable", "key_mismatch")
                self.store.write(pair.key_path, key_pem(key), self.key_mode, self.uid, self.gid, unreadable)
                self.store.write(pair.cert_path, pem, self.cert_mode, self.uid, self.gid, unreadable)
        if cert is None:
            facts = item.planned_facts()
        else:
            facts = _x509.cert_facts(cert)
            facts["key_type"] = _x509.key_type_of(key)
        attrs = self._attributes(pair, self.uid, self.gid)
        for drop in ("dns", "ip", "usage"):
            facts.pop(drop, None)
            before.pop(drop, None)
        content_changed = reason is not None
        result.update(facts)
        result["changed"] = content_changed or attrs
        result["attributes_changed"] = attrs and not content_changed
        if content_changed:
            self.diff["before"]["ca"] = before
            self.diff["after"]["ca"] = dict(facts, reason=reason)
        return result, key, cert, pem

    # -- certificates
    def _certificate(self, spec, ca_key, ca_cert, ca_pem):
        item = CertificateItem(spec, self.directory, self.params.get("organization"), self.now)
        pair = item.pair
        uid = resolve_uid(spec.get("owner")) if spec.get("owner") is not None else self.uid
        gid = resolve_gid(spec.get("group")) if spec.get("group") is not None else self.gid
        reason = item.needs_regeneration(ca_cert, self.ca_item.replaced, self.on_unreadable)
        self.warnings.extend(item.warnings)
        before = _x509.cert_facts(pair.cert) if pair.cert is not None else {}
        result = {
            "name": item.name,
            "reason": reason,
            "key_regenerated": item.key_regenerated if reason else False,
            "key_path": pair.key_path,
            "cert_path": pair.cert_path,
            "ca_path": self.ca_item.pair.cert_path,
        }
        key, key_bytes, cert_bytes = pair.key, pair.key_bytes, pair.cert_bytes
        if reason is None:
            facts = _x509.cert_facts(pair.cert)
        elif self.check_mode:
            ca_facts = _x509.cert_facts(ca_cert) if ca_cert is not None else self.ca_item.planned_facts()
            facts = item.planned_facts(ca_cert, ca_facts["subject"])
            cert_bytes = None
            if item.key_regenerated:
                key_bytes = None
        else:
            if item.key_regenerated:
                key = generate_key(spec["key_type"])
                key_bytes = key_pem(key)
                self.store.write(pair.key_path, key_bytes, self.key_mode, uid, gid, force_backup=reason == "unreadable")
            cert = item.issue(key, ca_key, ca_cert)
            cert_bytes = cert.public_bytes(serialization.Encoding.PEM)
            unreadable_cert = reason == "unreadable" and pair.cert_error is not None
            self.store.write(pair.cert_path, cert_bytes, self.cert_mode, uid, gid, force_backup=unreadable_cert)
            facts = _x509.cert_facts(cert)
        attrs = self._attributes(pair, uid, gid)
        bundles, bundle_content_changed, bundle_attrs = self._bundles(spec, key_bytes, cert_bytes, ca_pem, uid, gid)
        content_changed = reason is not None or bundle_content_changed
        result.update(facts)
        result["bundles"] = bundles
        result["attributes_changed"] = (attrs or bundle_attrs) and not content_changed
        result["changed"] = content_changed or attrs or bundle_attrs
        if reason is not None:
            self.diff["before"]["certificates"][item.name] = before
            self.diff["after"]["certificates"][item.name] = dict(facts, reason=reason)
        return result

    def _bundles(self, spec, key_bytes, cert_bytes, ca_pem, uid, gid):  # noqa: PLR0917
        results = []
        any_content = False
        any_attrs = False
        parts = {"key": key_bytes, "cert": cert_bytes, "ca": ca_pem}
        for bundle in spec.get("bundles") or []:
            path = resolve(self.directory, bundle["path"])
            has_key = "key" in bundle["content"]
            mode = parse_mode(bundle.get("mode"), "bundle mode")
            if mode is None:
                mode = self.key_mode if has_key else self.cert_mode
            b_uid = resolve_uid(bundle["owner"]) if bundle.get("owner") is not None else uid
            b_gid = resolve_gid(bundle["group"]) if bundle.get("group") is not None else gid
            if any(parts[p] is None for p in bundle["content"]):
                # check mode, material would be regenerated: the bundle would change
                data = None
                content_changed = True
            else:
                data = b"".join(_pem_section(parts[p]) for p in bundle["content"])
                try:
                    existing = read_bytes(path)
                except Unreadable:
                    existing = None
                content_changed = existing != data
            if content_changed and data is not None:
                self.store.write(path, data, mode, b_uid, b_gid)
            attrs = self.store.set_attributes(path, mode, b_uid, b_gid)
            any_content = any_content or content_changed
            any_attrs = any_attrs or attrs
            results.append({"path": path, "content": list(bundle["content"]), "changed": content_changed or attrs})
        return results, any_content, any_attrs


def _pem_section(data):
    data = data.strip(b"\n") if data else b""
    return data + b"\n"


# --------------------------------------------------------------------------- validate


def _validate_one(spec, directory, bundle_path, anchors, bundle_failure, now):  # noqa: PLR0917
    """The result of state=validate for one certificate: files read, then every _x509 rule."""
    key_path = resolve(directory, spec.get("key_path") or spec["name"] + ".key")
    cert_path = resolve(directory, spec.get("cert_path") or spec["name"] + ".crt")
    failures = [dict(bundle_failure)] if bundle_failure else []

    def unreadable(path, what, exc):
        failures.append({"file": path, "rule": "unreadable", "msg": f"{path}: {what} cannot be read ({exc.why})"})

    key = cert = None
    extra = []
    try:
        cert, *extra = read_existing(cert_path, parse_certs)
    except Unreadable as exc:
        unreadable(cert_path, "certificate", exc)
    try:
        key = read_existing(key_path, parse_key)
    except Unreadable as exc:
        unreadable(key_path, "private key", exc)
    if spec.get("chain_path"):
        chain_path = resolve(directory, spec["chain_path"])
        try:
            extra += read_existing(chain_path, parse_certs)
        except Unreadable as exc:
            unreadable(chain_path, "chain", exc)
    facts = {}
    if cert is not None:
        facts = _x509.cert_facts(cert)
        found = _x509.check_certificate(
            cert, key=key, extra=extra, anchors=anchors if anchors else None, usage=spec.get("usage", "server"),
            names=list(spec.get("dns") or []) + list(spec.get("ip") or []),
            renew_before=spec.get("renew_before", 30), now=now, bundle=bundle_path,
        )
        for finding in found:
            path = bundle_path if finding["rule"] == "ca_bundle" else cert_path
            msg = "{}: {}".format(path, finding["msg"])
            if finding["rule"] == "key_mismatch":
                msg += f" {key_path}"
            failures.append({"file": path, "rule": finding["rule"], "msg": msg})
    result = {"name": spec["name"], "key_path": key_path, "cert_path": cert_path, "ca_path": bundle_path,
              "valid": not failures, "failures": failures, "changed": False}
    result.update(facts)
    return result


def validate_certificates(params, now=None):
    """Run state=validate. Returns (results, messages); writes nothing."""
    validate_params(params)
    now = now or _x509.utcnow()
    directory = os.path.abspath(params["path"])
    bundle_path = resolve(directory, params["ca_bundle"])
    anchors = []
    bundle_failure = None
    try:
        anchors = read_existing(bundle_path, parse_certs)
    except Unreadable as exc:
        bundle_failure = {"file": bundle_path, "rule": "unreadable", "msg": str(exc)}
    results = [
        _validate_one(spec, directory, bundle_path, anchors, bundle_failure, now)
        for spec in params.get("certificates") or []
    ]
    messages = ["{} [rule {}]".format(f["msg"], f["rule"]) for r in results for f in r["failures"]]
    return results, messages


# --------------------------------------------------------------------------- entry point


def execute(params, check_mode=False, diff=False):
    """Run the pki logic for validated module parameters.

    Shared by the module (executed on the target) and the action plugin (executed in-process on
    the controller when the target is the controller itself). Returns the result dict; a failure
    has `failed: true` and `msg`; warnings are returned in `warnings` for the caller to emit."""
    try:
        if params.get("state") == "validate":
            results, messages = validate_certificates(params)
            if messages and params.get("fail_on_invalid", True):
                return {
                    "failed": True,
                    "changed": False,
                    "msg": f"{len(messages)} certificate check(s) failed: " + "; ".join(messages),
                    "certificates": results,
                }
            return {"changed": False, "certificates": results}
        manager = PkiManager(params, check_mode=check_mode)
        result = manager.run()
        if manager.warnings:
            result["warnings"] = list(manager.warnings)
        if diff:
            result["diff"] = manager.diff
        return result
    except PkiError as exc:
        return {"failed": True, "changed": False, "msg": str(exc)}
    except OSError as exc:
        return {"failed": True, "changed": False, "msg": f"file system error: {exc}"}
