#!/usr/bin/env bash
# Installs what attune needs on Debian/Ubuntu: a C toolchain, pkg-config and the ALSA headers
# (cpal) to build, python3 with venv (the export tests open the exports in Praat and ELAN's
# readers from a venv that scripts/python-env.sh makes), and the Rust toolchain when cargo is
# missing. With --gui also the libraries the window loads at run time (X11/Wayland, OpenGL).
# Uses sudo when not root.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
dpkg -s libasound2-dev >/dev/null 2>&1 || need+=(libasound2-dev)
command -v curl >/dev/null || command -v cargo >/dev/null || need+=(curl ca-certificates)
if ! command -v python3 >/dev/null; then
  need+=(python3 python3-venv)
elif ! python3 -m ensurepip --version >/dev/null 2>&1; then
  need+=(python3-venv) # Debian's python3 makes venvs with pip only with it
fi
if [ "${1:-}" = "--gui" ]; then
  for p in libgl1 libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1 libwayland-client0 libwayland-egl1; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
fi
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
