#!/usr/bin/env bash
# Installs what attune needs to build and test on Debian/Ubuntu: a C toolchain and pkg-config
# (for crates with C parts) and the Rust toolchain when cargo is missing. Uses sudo when not root.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v curl >/dev/null || command -v cargo >/dev/null || need+=(curl ca-certificates)
if [ ${#need[@]} -gt 0 ]; then
  echo "attune: installing ${need[*]} with apt-get" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}"
fi
if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    echo "attune: installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  }
  echo "attune: add \$HOME/.cargo/bin to PATH (or open a new shell)" >&2
fi
