#!/usr/bin/env bash
# Makes target/pyenv, a Python virtual environment with the readers that tests/export.rs opens
# attune's exports in: praat-parselmouth (Praat itself, for the TextGrid), pympi-ling (ELAN
# files) and xmlschema (validation against ELAN's EAFv3.0.xsd). Prints the venv's python.
# Quick when they are already installed. Needs python3 with venv (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/pyenv
py="$venv/bin/python"
if [ -x "$py" ] && "$py" -c 'import parselmouth, pympi, xmlschema' 2>/dev/null; then
  echo "$PWD/$py"
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "attune: python3 is missing (scripts/install-deps.sh installs it)" >&2
  exit 3
fi
if [ ! -x "$py" ]; then
  mkdir -p target
  if ! python3 -m venv "$venv" >&2; then
    rm -rf "$venv"
    echo "attune: cannot make a Python venv; install python3-venv (scripts/install-deps.sh)" >&2
    exit 3
  fi
fi
echo "attune: installing praat-parselmouth, pympi-ling and xmlschema into $venv" >&2
"$py" -m pip install --quiet --disable-pip-version-check \
  'praat-parselmouth>=0.4.5,<0.5' 'pympi-ling>=1.70,<2' 'xmlschema>=3,<5' >&2
"$py" -c 'import parselmouth, pympi, xmlschema'
echo "$PWD/$py"
