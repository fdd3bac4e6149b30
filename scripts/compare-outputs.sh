#!/usr/bin/env bash
# Runs two attune binaries over the same inputs and lists every output file that differs: the
# dev clips and sessions with each speaker option, the demo, a folder run, and the exports of
# the session folders given in $SESSIONS_TO_EXPORT (space-separated). A refactoring must leave
# every file identical; the generated-at timestamps of .eaf and .html exports are ignored.
#   scripts/compare-outputs.sh OLD_BIN NEW_BIN [WORK_DIR]
# With KEYS=1 JSON keys ending in _secs are read as _s (the spelling attune writes now).
set -uo pipefail
old=$1 new=$2 work=${3:-out/compare}
corpus=${CORPUS:-$(cd "$(dirname "$0")/.." && pwd)/../shared/corpus}
demo=$(cd "$(dirname "$0")/.." && pwd)/assets/demo_session.wav
run() {
  local bin=$1 out=$2 s=$corpus/dev/sessions
  rm -rf "$out"; mkdir -p "$out"
  "$bin" analyze "$corpus/dev/clips" --out "$out/clips" -q
  "$bin" analyze "$demo" --out "$out/demo" -q
  for wav in "$s"/*.stereo.wav; do
    id=$(basename "$wav" .stereo.wav)
    "$bin" analyze "$wav" --user-channel 1 --partner-channel 2 --out "$out/stereo" -q
    "$bin" analyze "$s/$id.mono.wav" --partner-voice "$s/$id.partner-enroll.wav" --out "$out/mono" -q
    "$bin" analyze "$s/$id.mono.wav" --partner-voice "$s/$id.partner-enroll.wav" \
      --user-voice "$s/$id.user-enroll.wav" --out "$out/mono_both" -q
    "$bin" analyze "$s/$id.mono.wav" --two-voices --out "$out/two" -q
    "$bin" analyze "$s/$id.mono.wav" --out "$out/plain" -q
  done
  "$bin" analyze "$s" --out "$out/folder" -q
  for d in ${SESSIONS_TO_EXPORT:-}; do
    "$bin" export "$d" --out "$out/export-$(basename "$d")" -q
    "$bin" export "$d" --two-voices --out "$out/export2-$(basename "$d")" -q
  done
}
run "$old" "$work/old" 2>"$work.old.log"; run "$new" "$work/new" 2>"$work.new.log"
norm() {
  sed -E 's/DATE="[^"]*"/DATE=X/; s/ on [0-9T:-]+Z\./ on X./g' "$1" |
    if [ -n "${KEYS:-}" ]; then sed -E 's/_secs"/_s"/g; s/_secs_/_s_/g'; else cat; fi
}
n=0 bad=0
while IFS= read -r f; do
  rel=${f#"$work/old/"} g="$work/new/$rel" n=$((n + 1))
  if [ ! -f "$g" ]; then echo "missing: $rel"; bad=$((bad + 1)); continue; fi
  cmp -s "$f" "$g" || cmp -s <(norm "$f") <(norm "$g") || { echo "differs: $rel"; bad=$((bad + 1)); }
done < <(find "$work/old" -type f | sort)
echo "$n files compared, $bad differ ($(find "$work/new" -type f | wc -l) files from the new binary)"
