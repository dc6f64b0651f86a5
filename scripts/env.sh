# shellcheck shell=bash
# Environment shared by every make target and script: where the toolchain and the
# dependency collections live, and how Ansible finds this collection.
# Source it; it only sets variables.
WAENT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Kept outside the collection tree: ansible-test and ansible-lint walk the tree.
WAENT_HOME=${WAENT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/waent-onprem}
WAENT_VENV=${WAENT_VENV:-$WAENT_HOME/venv}
# Dependency collections (containers.podman, ansible.posix, ...) unpacked from the
# `ansible` wheel, as siblings in one ansible_collections tree.
WAENT_DEPS=${WAENT_DEPS:-$WAENT_HOME/collections}
# This checkout, seen as waent.onprem through a symlink (first on the path, so the
# live tree always wins over the copy ansible-test works on).
WAENT_SELF=$WAENT_ROOT/.cache/collections
export WAENT_ROOT WAENT_HOME WAENT_VENV WAENT_DEPS WAENT_SELF
export PATH="$WAENT_VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$WAENT_SELF:$WAENT_DEPS"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
export ANSIBLE_NOCOWS=1
export PYTHONPATH="$WAENT_SELF:$WAENT_DEPS${PYTHONPATH:+:$PYTHONPATH}"
