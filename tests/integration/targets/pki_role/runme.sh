#!/usr/bin/env bash
# The pki role on a 1 Webapp / 2 Coreapp / 1 Master / 1 DB inventory: check mode writes
# nothing but gives the host roles values to preview with, the first run creates everything,
# a second run (check and real) changes nothing, rotation keeps the previous value, renewal
# reissues the certificates but keeps the CA, and the two playbooks work as entry points.
set -eux -o pipefail
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pb() { ansible-playbook -i inventory.yml -e "pki_dir=$WORK/pki" "$@"; }
no_changes() { ! grep -E '^[a-z0-9]+ +: .*changed=[1-9]' "$1"; }

# One warning per run, not per host nor per task, naming the plaintext bundle.
plaintext_warned_once() {
  test "$(grep -c "secrets bundle $WORK/pki/secrets.yml is written and kept in PLAIN TEXT" "$1")" = 1
}

pb site.yml --check --diff 2>&1 | tee "$WORK/check.log"
grep -E '^web1 +: .*changed=[1-9]' "$WORK/check.log"
test ! -e "$WORK/pki/secrets.yml"
test ! -e "$WORK/pki/certs/ca.crt"
plaintext_warned_once "$WORK/check.log"
pb check.yml --check -e check_case=fresh
test ! -e "$WORK/pki/secrets.yml"

pb site.yml 2>&1 | tee "$WORK/first.log"
grep -E '^web1 +: .*changed=[1-9]' "$WORK/first.log"
plaintext_warned_once "$WORK/first.log"
pb verify.yml

pb site.yml --check --diff | tee "$WORK/idem_check.log"
no_changes "$WORK/idem_check.log"
pb check.yml --check -e check_case=converged
pb check.yml --check -e check_case=rotate -e '{"pki_rotate": ["wa_db_password"]}'
pb site.yml | tee "$WORK/idem.log"
no_changes "$WORK/idem.log"

pb rotate.yml
pb renew.yml
pb site.yml | tee "$WORK/after.log"
no_changes "$WORK/after.log"

# An operator-supplied Webapp certificate: validated, bundled, used instead of ours; one
# that misses names fails the run.
ansible-playbook -i inventory.yml -e "corp_dir=$WORK/corp" supplied.yml > "$WORK/supplied.log" 2>&1 || true
cat "$WORK/supplied.log"
grep -E '^web1 +: .*failed=1' "$WORK/supplied.log"
grep -q 'subjectAltName does not cover web1, 10.0.3.10, 192.0.2.10' "$WORK/supplied.log"
if grep -q 'the role accepted a certificate' "$WORK/supplied.log"; then exit 1; fi
test -e "$WORK/corp/deployment/secrets.yml"
test ! -e "$WORK/corp/never"

# The entry points (AWX job templates), called as collection playbooks: survey-style
# answers as extra vars. These hosts are this machine (local connection): the hosts' plays are
# skipped (waent_deploy_hosts=false), only the controller material changes.
bundle() { pb -e waent_deploy_hosts=false "$@"; }
bundle waent.onprem.rotate_secrets -e '{"pki_rotate": ["wa_db_password"]}' | tee "$WORK/pb_rotate.log"
grep -E '^web1 +: .*changed=[1-9]' "$WORK/pb_rotate.log"
# The hosts' roles show their tasks as skipped: none ran (ok/changed/fatal) on this machine.
if grep -A3 -E 'TASK \[waent\.onprem\.(timesync|firewall|database|db_client|container_runtime|coreapp|webapp) ' \
     "$WORK/pb_rotate.log" | grep -qE '^(ok|changed|fatal):'; then exit 1; fi
bundle waent.onprem.rotate_secrets -e '{"pki_drop_previous": ["all"]}' | tee "$WORK/pb_drop.log"
bundle waent.onprem.rotate_secrets -e 'pki_rotate_fingerprint_key=true' | tee "$WORK/pb_key.log"
grep -E '^web1 +: .*changed=1 ' "$WORK/pb_key.log"
pb verify.yml
bundle waent.onprem.renew_certificates | tee "$WORK/pb_renew.log"
no_changes "$WORK/pb_renew.log"
# A bad survey answer is refused by the argument spec before anything changes.
if bundle waent.onprem.rotate_secrets -e '{"pki_rotate": ["nope"]}' > "$WORK/bad.log" 2>&1; then
  exit 1
fi
grep -q "pki_rotate" "$WORK/bad.log"

# Once the controller has a vault password, the bundle gets encrypted (one change), stays
# readable, and without the password the run stops with a clear message.
printf 'pki-role-vault\n' > "$WORK/vault-pass"
pb site.yml --vault-password-file "$WORK/vault-pass" 2>&1 | tee "$WORK/vault.log"
grep -E '^web1 +: .*changed=1 ' "$WORK/vault.log"
if grep -q 'PLAIN TEXT' "$WORK/vault.log"; then exit 1; fi
head -n 1 "$WORK/pki/secrets.yml" | grep -q '^.ANSIBLE_VAULT;1.1;AES256'
pb site.yml --vault-password-file "$WORK/vault-pass" | tee "$WORK/vault_idem.log"
no_changes "$WORK/vault_idem.log"
if pb site.yml > "$WORK/novault.log" 2>&1; then
  exit 1
fi
grep -q 'vault-encrypted but no vault secret is configured' "$WORK/novault.log"
