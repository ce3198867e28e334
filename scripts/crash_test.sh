#!/usr/bin/env bash
# Crash safety of training: SIGKILL `pafas sft` at random moments, resume with --resume until it finishes, and
# compare the final weights with an uninterrupted run of the same seed and thread count.
# Usage: scripts/crash_test.sh [kills=4] [steps=60] [save_every=10]
# Prints one line per kill, then PASS (identical final weights, at most one checkpoint interval lost per kill) or FAIL.
set -euo pipefail
KILLS=${1:-4}
STEPS=${2:-60}
SAVE=${3:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DLL="$ROOT/PaFas.Host/bin/Release/net10.0/PaFas.Host.dll"
[ -f "$DLL" ] || dotnet build "$ROOT/PaFas.Host" -c Release -v q > /dev/null
pafas() { dotnet "$DLL" --threads 1 --seed 7 "$@"; }
W=$(mktemp -d /tmp/pafas-crash-XXXXXX)
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
pafas synth --out "$W/world" --per-domain 12 --domains C,P > /dev/null 2>&1
pafas augment --data "$W/world/manifest.jsonl" --out "$W/chains.jsonl" --paths 3 > /dev/null 2>&1
SFT=(sft --chains "$W/chains.jsonl" --model-size tiny --steps "$STEPS" --batch 8 --save-every "$SAVE" --eval-every 0 --log-every 5)

echo "uninterrupted run ($STEPS steps, checkpoint every $SAVE)"
pafas "${SFT[@]}" --out "$W/straight" > /dev/null 2>&1
want=$(sha256sum "$W/straight/final/model.bin" | cut -d' ' -f1)

step_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['step'])" "$1/last/trainer_state.json" 2>/dev/null || echo 0; }
last_logged() { [ -f "$1/metrics.jsonl" ] && tail -n 1 "$1/metrics.jsonl" | python3 -c "import json,sys; print(json.loads(sys.stdin.read() or '{}').get('step',0))" 2>/dev/null || echo 0; }

RUN="$W/crashed"
# continue from last/ when a checkpoint exists; a run killed before its first checkpoint starts over (--force)
restart() { if [ -f "$RUN/last/trainer_state.json" ]; then echo --resume; elif [ -d "$RUN" ]; then echo --force; fi; }
for k in $(seq 1 "$KILLS"); do
  args=("${SFT[@]}" --out "$RUN" $(restart))
  # started directly (not through the shell function) so that $! is the training process itself
  dotnet "$DLL" --threads 1 --seed 7 "${args[@]}" > "$W/log$k" 2>&1 &
  pid=$!
  delay=$(python3 -c "import random; print(round(random.uniform(3.0, 8.0), 2))")
  sleep "$delay"
  if kill -0 $pid 2>/dev/null; then
    seen=$(last_logged "$RUN")
    kill -9 $pid; wait $pid 2>/dev/null || true
    saved=$(step_of "$RUN")
    echo "kill $k: SIGKILL after ${delay}s at about step $seen; last/ holds step $saved (lost $((seen > saved ? seen - saved : 0)) steps)"
    if [ "$seen" -gt 0 ] && [ $((seen - saved)) -gt "$SAVE" ]; then echo "FAIL: more than one checkpoint interval lost"; exit 1; fi
  elif wait $pid; then
    echo "kill $k: the run had already finished"
  else
    echo "FAIL: run $k exited with an error:"; tail -n 3 "$W/log$k"; exit 1
  fi
done
pafas "${SFT[@]}" --out "$RUN" $(restart) > "$W/log-final" 2>&1 || { echo "FAIL: the final run exited with an error:"; tail -n 3 "$W/log-final"; exit 1; }
if grep -l "error" "$W"/log* > /dev/null 2>&1; then echo "FAIL: a run reported an error:"; grep -h "error" "$W"/log* | head -3; exit 1; fi
got=$(sha256sum "$RUN/final/model.bin" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then echo "PASS: final weights identical to the uninterrupted run ($want)"; else echo "FAIL: final weights differ ($got vs $want)"; exit 1; fi
