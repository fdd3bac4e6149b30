#!/usr/bin/env bash
# Analyses the corpus's dev sessions as sessions (two microphones; one microphone with the
# partner's enrolment clip; with both clips; one microphone as two voices A/B, named by the best
# naming per session with scripts/ab-best-naming.py) and scores speakers, turns and mirroring.
#   scripts/score-sessions.sh [OUT_DIR]     (needs python3 with numpy and mir_eval)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=${CORPUS:-$here/../shared/corpus}
sessions=${SESSIONS:-$corpus/dev/sessions}
out=${1:-$here/out/sessions}
# The current code unless ATTUNE_BIN names a binary: a stale build would score old code.
if [ -z "${ATTUNE_BIN:-}" ]; then (cd "$here" && cargo build --release --locked -q); fi
bin=${ATTUNE_BIN:-$here/target/release/attune}
rm -rf "$out"; mkdir -p "$out"/{stereo,mono,mono_both,mono_ab_raw,raw}
for wav in "$sessions"/*.stereo.wav; do
  id=$(basename "$wav" .stereo.wav)
  "$bin" analyze "$wav" --user-channel 1 --partner-channel 2 --out "$out/raw/stereo" -q
  "$bin" analyze "$sessions/$id.mono.wav" --partner-voice "$sessions/$id.partner-enroll.wav" \
    --out "$out/raw/mono" -q
  "$bin" analyze "$sessions/$id.mono.wav" --partner-voice "$sessions/$id.partner-enroll.wav" \
    --user-voice "$sessions/$id.user-enroll.wav" --out "$out/raw/mono_both" -q
  "$bin" analyze "$sessions/$id.mono.wav" --two-voices --out "$out/raw/mono_ab" -q
  cp "$out/raw/mono_ab/$id.mono.segments.csv" "$out/mono_ab_raw/$id.segments.csv"
  for kind in stereo mono mono_both; do
    stem=$id.$([ $kind = stereo ] && echo stereo || echo mono)
    for f in segments.csv turns.csv summary.json; do
      cp "$out/raw/$kind/$stem.$f" "$out/$kind/$id.$f"
    done
  done
done
score=$corpus/score/score.py
python3 "$here/scripts/ab-best-naming.py" "$sessions" "$out/mono_ab_raw" "$out/mono_ab" 2>/dev/null
echo "== two microphones"; python3 "$score" segments "$sessions" "$out/stereo" --json "$out/segments_stereo.json" | grep -E '^\|' | tail -2
echo "== one microphone + partner enrolment"; python3 "$score" segments "$sessions" "$out/mono" --enrol --json "$out/segments_mono.json" | grep -E '^\|' | tail -2
echo "== one microphone + partner and user enrolment"; python3 "$score" segments "$sessions" "$out/mono_both" --enrol --json "$out/segments_mono_both.json" | grep -E '^\|' | tail -2
echo "== one microphone, two voices (A/B, best naming)"; python3 "$score" segments "$sessions" "$out/mono_ab" --json "$out/segments_mono_ab.json" | grep -E '^\|' | tail -2
for kind in stereo mono; do
  echo "== mirror ($kind)"; python3 "$score" mirror "$sessions" "$out/$kind" --json "$out/mirror_$kind.json" | grep -E '^\|' | tail -2
  echo "== mirror ($kind, vs vocal_other)"; python3 "$score" mirror "$sessions" "$out/$kind" --negatives vocal_other | grep -E '^\|' | tail -2
done
