# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit's catalogue: every check with a stable ID, the security guide's section it enforces,
a severity and the fix; and the evaluators that turn evidence read on the live hosts into
findings (``_audit_report`` writes them).

Evidence comes from the collection's probes (tls_probe, port_probe, chrony_info, db_tls_check,
webapp_health, stat of files, fingerprints of container env values), never from the inventory
alone; the expected values come from the deployment model. Each evaluator is a pure function, so
the catalogue is tested without hosts and a check that cannot fail is visible in its tests.
"""

from __future__ import annotations

import dataclasses

from ansible_collections.waent.onprem.plugins.module_utils import _audit_report as report
from ansible_collections.waent.onprem.plugins.module_utils import _tls_grading as grading

SSL = "SSL Configuration"
SEGREGATION = "Network Segregation"
LINK = "Encrypted Communications: Webapp to Coreapp"
DATABASE = "Encrypted Communications: Database"
TLS = "Web Server (TLS)"
HEADERS = "HTTP Headers"
AUTH = "Passwords and Authentication"
COVERAGE = "Audit coverage"


@dataclasses.dataclass(frozen=True)
class Check:
    section: str
    title: str
    severity: str
    fix: str


CATALOGUE = {
    "TLS-01": Check(TLS, "The HTTPS port offers the profile of WA_WEB_SECURITY_LEVEL", "high",
                    "run site.yml (webapp role) so the container gets wa_web_security_level again"),
    "TLS-02": Check(TLS, "TLS as Mozilla's current intermediate guideline advises", "low",
                    "keep MODERN; for clients that need more, terminate TLS in front of the Webapp"),
    "SSL-01": Check(SSL, "The served certificate verifies against the CA for the Webapp's name", "high",
                    "run site.yml (pki and webapp roles): the PKI bundle is uploaded and the Webapps restart"),
    "SSL-02": Check(SSL, "The served certificate is outside its renewal window", "medium",
                    "run playbooks/renew_certificates.yml"),
    "SSL-03": Check(SSL, "The Coreapps trust the deployment's webhook CA for callbacks", "medium",
                    "run site.yml (webapp role): the webhook CA is uploaded and the Coreapps restart"),
    "HDR-01": Check(HEADERS, "The Web Admin pages carry the five security headers", "medium",
                    "the Webapp image sets them: redeploy the vendor's image (site.yml)"),
    "HDR-02": Check(HEADERS, "API endpoints (/v1/) do not carry the Web Admin headers", "low",
                    "the Webapp image decides: redeploy the vendor's image (site.yml)"),
    "NET-01": Check(SEGREGATION, "No flow outside the deployment model answers", "high",
                    "run site.yml (firewall role): the ruleset is rebuilt from the inventory"),
    "NET-02": Check(SEGREGATION, "Every flow of the deployment model opens", "medium",
                    "check the service and the firewall role's ruleset on the destination host"),
    "NET-03": Check(SEGREGATION, "A port no flow names stays filtered (deny by default)", "high",
                    "run site.yml (firewall role): the input policy must drop"),
    "LINK-01": Check(LINK, "WA_SECRET is set and the same on every Webapp, Coreapp and Master", "high",
                     "run site.yml: every container is recreated with the bundle's WA_SECRET"),
    "LINK-02": Check(LINK, "The Webapp reports every node connected", "high",
                     "read the node's log; WA_SECRET, clocks and database TLS are the usual causes"),
    "CLK-01": Check(LINK, "chrony is synchronised on every host", "high",
                    "run site.yml (timesync role); check the NTP sources from the host"),
    "CLK-02": Check(LINK, "Every clock is within its offset budget", "high",
                    "fix the time source or the host clock (a lying NTP server shows here first)"),
    "CLK-03": Check(LINK, "The largest Webapp-Coreapp skew stays within its budget, inside the WA_SECRET replay window",
                    "high", "fix the time sources: frames older than the window are refused"),
    "DB-01": Check(DATABASE, "Each container's database session is TLS, verified and authenticated", "high",
                   "run site.yml (database and db_client roles)"),
    "DB-02": Check(DATABASE, "WA_DB_SSL_VERIFY is not disabled on a Webapp", "high",
                   "remove db_client_ssl_verify=false and run site.yml"),
    "DB-03": Check(DATABASE, "The database server refuses plaintext sessions", "high",
                   "run site.yml (database role): require_secure_transport / hostssl"),
    "FS-01": Check(SSL, "Env fragments and private keys are readable by their owner (and service) only", "high",
                   "run site.yml: the roles write them with the deployment model's modes"),
    "FS-02": Check(SSL, "No world-readable file of the product holds secret material", "high",
                   "remove the copy or restrict its mode; run site.yml to rewrite the product's own files"),
    "AUTH-01": Check(AUTH, "The default admin/secret login is refused", "high",
                     "run site.yml (webapp role): the bundle's admin password is set"),
    "AUTH-02": Check(AUTH, "The JWT key is set and the same on every Webapp", "high",
                     "run site.yml: every Webapp gets the bundle's WA_WEB_JWT_CRYPTO_KEY"),
    "AUTH-03": Check(AUTH, "The admin password is the secrets bundle's", "medium",
                     "run playbooks/rotate_secrets.yml or site.yml to set the bundle's password"),
    "AUD-01": Check(COVERAGE, "Every host of the deployment answered the audit", "high",
                    "make the host reachable (SSH, Python) and run the audit again: its checks did not run"),
}

# Reference section 6: the Webapp sends the legacy X-Content-Security-Policy name.
WEB_ADMIN_HEADERS = ("x-content-security-policy", "x-frame-options", "x-xss-protection", "x-content-type-options",
                     "strict-transport-security")


def skipped(check_id, host, why):
    """A check that could not be evaluated because another finding's evidence is missing."""
    check = CATALOGUE[check_id]
    return {"id": check_id, "section": check.section, "title": check.title, "host": host, "status": "skip",
            "severity": check.severity, "evidence": why, "fix": ""}


def finding(check_id, host, ok, evidence, *, warn=False):
    """A finding of ``check_id``: pass when ``ok``, else fail (or warn for advice)."""
    check = CATALOGUE[check_id]
    status = "pass" if ok else ("warn" if warn else "fail")
    return {"id": check_id, "section": check.section, "title": check.title, "host": host, "status": status,
            "severity": check.severity, "evidence": evidence, "fix": "" if ok else check.fix}


def tls(host, probe, level, renew_before_days):
    """TLS-01/02 and SSL-01/02 from one tls_probe result (``certificate`` as the module returns it)."""
    problems = grading.grade(probe, level)
    advice = grading.advise(probe)
    cert = probe["certificate"]
    served = {"verified": cert.get("verified"), "verify_error": cert.get("verify_error"),
              "name_matches": cert.get("name_matches"), "subject": cert.get("subject")}
    return [
        finding("TLS-01", host, not problems, {"level": level, "protocols": probe["protocols"],
                                               "suites": len(probe["suites"]), "problems": problems}),
        finding("TLS-02", host, not advice, advice or "as advised", warn=True),
        finding("SSL-01", host, bool(cert.get("verified")) and bool(cert.get("name_matches")), served),
        finding("SSL-02", host, cert.get("days_left", -1) > renew_before_days,
                {"days_left": cert.get("days_left"), "renew_before_days": renew_before_days,
                 "not_after": cert.get("not_after")}),
    ]


def headers(host, page, api):
    """HDR-01/02 from the header names (any case) of a Web Admin page and of a /v1/ answer."""
    page_names = {name.lower() for name in page}
    api_names = {name.lower() for name in api}
    missing = [name for name in WEB_ADMIN_HEADERS if name not in page_names]
    leaked = [name for name in WEB_ADMIN_HEADERS if name in api_names]
    return [finding("HDR-01", host, not missing, {"missing": missing} if missing else "all five present"),
            finding("HDR-02", host, not leaked, {"on /v1/": leaked} if leaked else "none on /v1/", warn=True)]


def segregation(cells, canary_port):
    """NET-01/02/03 over the matrix cells (``_audit_report`` shape), one finding per source."""
    out = []
    for source in sorted({c["source"] for c in cells}):
        mine = [c for c in cells if c["source"] == source]
        unexpected = [f"{c['target']}:{c['port']} {c['observed']}" for c in mine
                      if c["port"] != canary_port and report.cell_verdict(c) == "unexpected-open"]
        blocked = [f"{c['target']}:{c['port']} {c['observed']}" for c in mine if report.cell_verdict(c) == "blocked"]
        canary = [f"{c['target']}:{c['port']} {c['observed']}" for c in mine
                  if c["port"] == canary_port and c["observed"] != "filtered"]
        out += [finding("NET-01", source, not unexpected, unexpected or f"{len(mine)} probes as the flows say"),
                finding("NET-02", source, not blocked, blocked or "every allowed flow opens"),
                finding("NET-03", source, not canary, canary or f"port {canary_port} filtered everywhere")]
    return out


def link(fingerprints, health):
    """LINK-01 from ``{container: keyed fingerprint or None}``; LINK-02 from a Webapp's health
    nodes ``{node: {gateway_status, ...}}`` (or single-connect ``{"gateway_status": ...}``), or a
    string saying why the health could not be read (LINK-02 is then skipped, not failed)."""
    values = set(fingerprints.values())
    unset = sorted(name for name, value in fingerprints.items() if not value)
    same = len(values) == 1 and not unset
    evidence = {"containers": len(fingerprints), "distinct": len(values), "unset": unset}
    link01 = finding("LINK-01", "deployment", same, evidence)
    if isinstance(health, str):
        return [link01, skipped("LINK-02", "deployment", health)]
    if "error" in health:
        return [link01, finding("LINK-02", "deployment", False, {"health unread": health["error"]})]
    nodes = health if "gateway_status" not in health else {"gateway": health}
    down = sorted(name for name, node in nodes.items() if (node or {}).get("gateway_status") != "connected")
    return [link01,
            finding("LINK-02", "deployment", bool(nodes) and not down,
                    {"nodes": len(nodes), "not connected": down} if down or not nodes else f"{len(nodes)} connected")]


def clocks(chrony, *, max_offset, max_skew, replay_window, webapps, cores):
    """CLK-01/02 from chrony_info per host (``synchronized``, ``offset`` in seconds); CLK-03, the skew,
    the largest |offset(Webapp) - offset(Coreapp/Master)|, which must stay within ``max_skew`` (the
    timesync role's budget, a fraction of the replay window; both are in the evidence)."""
    out = []
    for host in sorted(chrony):
        info = chrony[host] or {}
        offset = info.get("offset")
        out.append(finding("CLK-01", host, bool(info.get("synchronized")) and not info.get("reference_local"),
                           {"synchronized": info.get("synchronized"), "stratum": info.get("stratum"),
                            "own clock": info.get("reference_local")}))
        if offset is None:
            out.append(skipped("CLK-02", host, "no offset to read: chrony does not answer (CLK-01)"))
        else:
            out.append(finding("CLK-02", host, abs(offset) <= max_offset, {"offset_s": offset, "budget_s": max_offset}))
    pairs = [(w, c) for w in webapps for c in cores if chrony.get(w) and chrony.get(c)]
    skews = {f"{w}/{c}": abs(chrony[w]["offset"] - chrony[c]["offset"]) for w, c in pairs
             if chrony[w].get("offset") is not None and chrony[c].get("offset") is not None}
    if not skews:
        out.append(skipped("CLK-03", "deployment", "no Webapp-Coreapp pair with two offsets to compare (CLK-01)"))
        return out
    worst = max(skews.values())
    out.append(finding("CLK-03", "deployment", worst <= max_skew and worst < replay_window,
                       {"largest_skew_s": worst, "budget_s": max_skew, "replay_window_s": replay_window,
                        "pair": max(skews, key=skews.get)}))
    return out


def database(host, sessions, ssl_verify):
    """DB-01/02 for an app host: ``sessions`` ``{container: db_tls_check result}`` (``tls``,
    ``server_verified``, ``hostname_verified``, ``authenticated``; ``kind`` and ``msg`` on failure); ``ssl_verify``
    ``{container: WA_DB_SSL_VERIFY as read from its env file, or None}`` (Webapps only)."""
    needed = ("tls", "server_verified", "hostname_verified", "authenticated")
    bad = {name: result.get("kind") or [key for key in needed if not result.get(key)]
           for name, result in sessions.items() if not all(result.get(key) for key in needed)}
    disabled = sorted(name for name, value in ssl_verify.items() if str(value).strip().lower() in ("0", "false"))
    out = [finding("DB-01", host, bool(sessions) and not bad, bad or f"{len(sessions)} sessions verified")]
    if ssl_verify:
        out.append(finding("DB-02", host, not disabled, {"disabled": disabled} if disabled else "on"))
    return out


def plaintext(host, refused, evidence):
    return [finding("DB-03", host, refused, evidence)]


def files(host, stats):
    """FS-01 from ``[{path, mode (octal text), max_mode (octal text, default 0600)}]`` of env
    fragments and private keys: a permission bit beyond the deployment model's mode fails, so a
    key the Webapp's group reads by design (0640) passes and the same key world-readable does not.
    A file that is missing is reported with mode ``None`` and fails too."""
    loose = [f"{s['path']} {s['mode'] or 'missing'}" for s in stats
             if s["mode"] is None or int(str(s["mode"]), 8) & ~int(str(s.get("max_mode") or "0600"), 8) & 0o7777]
    return [finding("FS-01", host, not loose, loose or f"{len(stats)} files within their modes")]


def secret_files(host, paths):
    """FS-02 from the world-readable files under the product's env and data directories whose
    content holds secret material (a private key, WA_SECRET, the DB password, the JWT key)."""
    return [finding("FS-02", host, not paths, {"world-readable with secret material": sorted(paths)} if paths
                    else "none world-readable")]


def webhook_ca(host, matches, error=""):
    """SSL-03: whether the Webapp holds the deployment's webhook CA (``matches``: the upload module
    in check mode would change nothing); None when the admin login that reads it was refused
    (AUTH-03 reports that), so the check is skipped."""
    if matches is None:
        return [skipped("SSL-03", host,
                        "the bundle's admin password is refused, so the webhook CA cannot be read (AUTH-03)")]
    return [finding("SSL-03", host, bool(matches),
                    "the deployment's CA" if matches else error or "missing, or another CA")]


def coverage(expected_hosts, answered):
    """AUD-01: product hosts whose evidence is missing (unreachable, or a task failed before it)."""
    missing = sorted(set(expected_hosts) - set(answered))
    return [finding("AUD-01", "deployment", not missing,
                    {"no evidence from": missing} if missing else f"{len(expected_hosts)} hosts answered")]


def auth(default_login, jwt_fingerprints, admin_matches):
    """AUTH-01 from what the admin/secret login got (``refused``: 401 with no error; ``accepted``;
    ``default-password``: 401 asking to change the still-default password; or another word);
    AUTH-02 from ``{webapp: keyed fingerprint}``; AUTH-03 whether the bundle's admin password logs in."""
    values = set(jwt_fingerprints.values())
    return [finding("AUTH-01", "deployment", default_login == "refused", {"admin/secret": default_login}),
            finding("AUTH-02", "deployment", len(values) == 1 and None not in values and "" not in values,
                    {"fingerprints (bundle and Webapps)": len(jwt_fingerprints), "distinct": len(values)}),
            finding("AUTH-03", "deployment", bool(admin_matches), {"bundle password logs in": bool(admin_matches)})]
