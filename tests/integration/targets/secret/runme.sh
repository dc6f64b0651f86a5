#!/usr/bin/env bash
# Two phases: a plaintext bundle (no vault secret configured), then the same bundle with a
# vault password file, which must encrypt it and read it back.
set -eux
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf 'waent-integration-vault\n' > "$WORK/vault-pass"
printf 'not-the-password\n' > "$WORK/wrong-pass"
run() {
  ansible-playbook -i localhost, -c local --diff -e "secret_dir=$WORK" \
    -e "ansible_python_interpreter={{ ansible_playbook_python }}" "$@"
}
run plaintext.yml
run vault.yml --vault-password-file "$WORK/vault-pass"
# ANSIBLE_VAULT_PASSWORD_FILE works the same way (what AWX vault credentials amount to).
ANSIBLE_VAULT_PASSWORD_FILE="$WORK/vault-pass" run vault_env.yml
# A wrong password must fail with a clear message and leave the bundle untouched.
run vault_wrong.yml --vault-password-file "$WORK/wrong-pass"
