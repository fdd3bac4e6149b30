#!/usr/bin/env bash
# Analyses the shared corpus with a release build and scores it with the corpus scorer.
#   scripts/score-dev.sh [OUT_DIR]      (needs python3 with numpy and mir_eval)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
out=${1:-$here/out/score}
# The current code unless ATTUNE_BIN names a binary: a stale build would score old code.
if [ -z "${ATTUNE_BIN:-}" ]; then (cd "$here" && cargo build --release --locked -q); fi
bin=${ATTUNE_BIN:-$here/target/release/attune}
rm -rf "$out"; mkdir -p "$out"
"$bin" analyze "$corpus/dev/clips" --out "$out/dev" -q || true
"$bin" analyze "$corpus/real/fda" --out "$out/fda" -q || true
"$bin" analyze "$corpus/real/molina_qbh" --out "$out/molina" -q || true
python3 "$corpus/score/score.py" pitch "$corpus/dev/clips" "$out/dev" --by category --json "$out/pitch_dev.json" | grep -E '^\| (ALL|category)'
python3 "$corpus/score/score.py" onsets "$corpus/dev/clips" "$out/dev" --json "$out/onsets_dev.json" | grep -E '^\| ALL'
python3 "$corpus/score/score.py" pitch "$corpus/real/fda" "$out/fda" --json "$out/pitch_fda.json" | grep -E '^\| ALL'
python3 "$corpus/score/score.py" onsets "$corpus/real/molina_qbh" "$out/molina" --json "$out/onsets_molina.json" | grep -E '^\| ALL'
