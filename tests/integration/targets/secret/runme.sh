#!/usr/bin/env bash
# Two phases: a plaintext bundle (no vault secret configured), then the same bundle with a
# vault password file, which must encrypt it and read it back.
set -eux -o pipefail
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf 'waent-integration-vault\n' > "$WORK/vault-pass"
printf 'not-the-password\n' > "$WORK/wrong-pass"
run() {
  ansible-playbook -i localhost, -c local --diff -e "secret_dir=$WORK" \
    -e "ansible_python_interpreter={{ ansible_playbook_python }}" "$@"
}
run plaintext.yml 2>&1 | tee "$WORK/plaintext.log"
# Without a vault secret the run says, once however many tasks use the bundle, that it is
# plain text, naming the file and the remedy.
test "$(grep -c "secrets bundle $WORK/pki/secrets.yml is written and kept in PLAIN TEXT" "$WORK/plaintext.log")" = 1
grep -q 'ANSIBLE_VAULT_PASSWORD_FILE.*pki_vault: always' "$WORK/plaintext.log"
# The legacy bundle's unkeyed fingerprint never reaches the output (not even with --diff).
if grep -q "$(printf %s Legacy-Db-Pass-1 | sha256sum | cut -d' ' -f1)" "$WORK/plaintext.log"; then exit 1; fi
run vault.yml --vault-password-file "$WORK/vault-pass" 2>&1 | tee "$WORK/vault.log"
# ANSIBLE_VAULT_PASSWORD_FILE works the same way (what AWX vault credentials amount to).
ANSIBLE_VAULT_PASSWORD_FILE="$WORK/vault-pass" run vault_env.yml 2>&1 | tee -a "$WORK/vault.log"
if grep -q 'PLAIN TEXT' "$WORK/vault.log"; then exit 1; fi
# A wrong password must fail with a clear message and leave the bundle untouched.
run vault_wrong.yml --vault-password-file "$WORK/wrong-pass"
