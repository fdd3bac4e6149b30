#!/usr/bin/env bash
# Live voice attribution on the dev sessions: each ID.mono.wav played through
# `attune live --headless --play` (10x real time) with the enrolment clips, then
# session.segments.csv scored with score.py segments --enrol.
#   scripts/score-live-sessions.sh [both|partner]     (both: partner and user clips)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-both}
S=${SESSIONS:-$here/../shared/corpus/dev/sessions}
# The current code unless ATTUNE_BIN names a binary: a stale build would score old code.
if [ -z "${ATTUNE_BIN:-}" ]; then (cd "$here" && cargo build --release --locked -q); fi
bin=${ATTUNE_BIN:-$here/target/release/attune}
out=${OUT:-$here/out/live-sessions-$mode}; rm -rf "$out"; mkdir -p "$out/res"
for wav in "$S"/*.mono.wav; do
  id=$(basename $wav .mono.wav)
  secs=$(python3 -c "import wave;w=wave.open('$wav');print(w.getnframes()/w.getframerate()/10+3)")
  extra=(--partner-voice "$S"/$id.partner-enroll.wav)
  [ $mode = both ] && extra+=(--user-voice "$S"/$id.user-enroll.wav)
  "$bin" live --headless --play $wav --speed 10 --duration $secs --session-dir "$out/$id" "${extra[@]}" 2>/dev/null >/dev/null || echo "fail $id"
  cp "$out/$id/session.segments.csv" "$out/res/$id.segments.csv"
done
python3 "$here/../shared/corpus/score/score.py" segments "$S" "$out/res" --enrol | grep -E '^\|' | tail -3
