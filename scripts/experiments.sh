#!/usr/bin/env bash
# The paper's experiments on the synthetic world (issue 7): Protocol 1 (leave one domain out), Protocol 2 (depth / IR /
# both missing at test, on the Protocol 1 models), Protocol 3 (two source domains), the SFT-data variants and an N sweep,
# over several seeds. Every stage of every cell is cached (skipped when its output exists) and training resumes from
# last/ after an interruption, so the suite can be built up over several sittings; rerun the same command to continue.
#
# Usage: scripts/experiments.sh [suite...]          suites: p1 p2 p3 nsweep all (default: all), or one cell:
#        scripts/experiments.sh cell <protocol> <variant> <N> <seed>     e.g. cell p1-W answer 10 2
# Environment (defaults in brackets):
#   OUT [runs/exp]  SEEDS ["1 2 3"]  VARIANTS ["answer raw none path"]  NS ["1 50 100"] (N sweep, besides N = 10)
#   THREADS [1]  PAFAS_DLL [PaFas.Host/bin/Release/net10.0/PaFas.Host.dll; built if missing]
#   SFT_STEPS [250] SFT_BATCH [8] GRPO_STEPS [40] (the "exp" recipe below; change them only for a new OUT)
#   SFT_EPOCHS [""] when set, every cell's SFT runs max(SFT_STEPS, ceil(SFT_EPOCHS x chains / SFT_BATCH)) steps, so that
#     SFT sees each chain SFT_EPOCHS times whatever N is (for the N sweep: with a fixed budget, N above 5 leaves most
#     chains unseen); use its own OUT, e.g. OUT=runs/exp-nsweep SFT_EPOCHS=1 NS="1 10 50 100" ... nsweep
#   MIXED_BUILDS [0] (1: continue an OUT with a binary other than the one recorded in $OUT/build.txt)
#   INIT [""] SFT's initial weights: "" = from scratch (the grid of docs/results.md), "pretrained" = the shipped pack
#     data/pretrained/small, or any pack, checkpoint or run folder; GRPO_FLAGS [""] extra flags of every GRPO run
#     (e.g. "--conclusion-weight 1", the demo recipe's reward). Both are recorded in $OUT/recipe.txt and must not
#     change within one OUT.
#
# A cell = (protocol, variant, N, seed) on one world (seed 42, 160 samples per domain, 64x64):
#   split (pafas split, validation from the sources, seeded) -> augment (variant: PNRPS with answer / path / no shuffle,
#   or raw labels; 400 labelled samples, N paths) -> SFT (small model, SFT_STEPS x SFT_BATCH, lr 1e-3 cosine) ->
#   GRPO (GRPO_STEPS steps, 4 prompts x 8 completions, lr 5e-5, format + hierarchical reward, no KL; best/ by
#   validation live-score AUC) -> eval of SFT and of GRPO's best/ on the target domains (threshold: validation EER).
# The variant "raw" trains on answers only (no reasoning), so its SFT row is "raw SFT" and its GRPO row "raw SFT + GRPO".
# Tables: python3 scripts/results_tables.py "$OUT" > docs/results_tables.md
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-runs/exp}
SEEDS=${SEEDS:-"1 2 3"}
VARIANTS=${VARIANTS:-"answer raw none path"}
NS=${NS:-"1 50 100"}
THREADS=${THREADS:-1}
SFT_STEPS=${SFT_STEPS:-250}
SFT_BATCH=${SFT_BATCH:-8}
GRPO_STEPS=${GRPO_STEPS:-40}
DLL=${PAFAS_DLL:-"$ROOT/PaFas.Host/bin/Release/net10.0/PaFas.Host.dll"}
[ -f "$DLL" ] || dotnet build "$ROOT/PaFas.Host" -c Release -v q > /dev/null
pafas() { dotnet "$DLL" --threads "$THREADS" "$@"; }
log() { echo "[$(date +%H:%M:%S)] $*"; }
mkdir -p "$OUT"

# One OUT = one build: a rebuilt binary can round differently (short GRPO runs are sensitive to that), so the first run
# records its build in $OUT/build.txt (version with commit, and a hash of the two project DLLs) and a later run with
# another build stops, unless MIXED_BUILDS=1 says the mix is intended.
stamp() {
  local now; now="$(pafas --version) dll-sha256 $(cat "$(dirname "$DLL")"/PaFas.Host.dll "$(dirname "$DLL")"/PaFas.Core.dll | sha256sum | cut -c1-16)"
  [ -f "$OUT/build.txt" ] || { echo "$now" > "$OUT/build.txt"; return 0; }
  local was; was=$(cat "$OUT/build.txt")
  if [ "$was" != "$now" ] && [ "${MIXED_BUILDS:-0}" != 1 ]; then
    echo "experiments.sh: $OUT was built by '$was', this binary ($DLL) is '$now'." >&2
    echo "  Use another OUT, point PAFAS_DLL at the original build, or set MIXED_BUILDS=1 to mix builds on purpose." >&2
    exit 2
  fi
}
stamp

INIT=${INIT:-}
GRPO_FLAGS=${GRPO_FLAGS:-}
[ "$INIT" = pretrained ] && INIT="$ROOT/data/pretrained/small"
SFT_EPOCHS=${SFT_EPOCHS:-}
recipe_now="init=${INIT:-scratch} grpo_flags=${GRPO_FLAGS:-none} sft_steps=$SFT_STEPS sft_batch=$SFT_BATCH grpo_steps=$GRPO_STEPS"
[ -n "$SFT_EPOCHS" ] && recipe_now="$recipe_now sft_epochs=$SFT_EPOCHS"
if [ -f "$OUT/recipe.txt" ] && [ "$(cat "$OUT/recipe.txt")" != "$recipe_now" ]; then
  echo "experiments.sh: $OUT was run with '$(cat "$OUT/recipe.txt")', not '$recipe_now'; use another OUT." >&2
  exit 2
fi
echo "$recipe_now" > "$OUT/recipe.txt"
SFT_INIT=(); [ -n "$INIT" ] && SFT_INIT=(--init "$INIT")
read -r -a GRPO_EXTRA <<< "$GRPO_FLAGS"

world() {
  local W="$OUT/world"
  [ -f "$W/manifest.jsonl" ] || pafas --seed 42 synth --out "$W" --per-domain 160 --size 64 > /dev/null 2> "$OUT/synth.log"
  [ -f "$OUT/annotations.jsonl" ] || pafas annotate --data "$W/manifest.jsonl" --out "$OUT/annotations.jsonl" --report > "$OUT/annotations.txt" 2> "$OUT/annotate.log"
}

split() { # protocol seed -> prints the split folder
  local S="$OUT/splits/$1-s$2"
  [ -f "$S/split.json" ] || pafas --seed "$2" split --data "$OUT/world/manifest.jsonl" --protocol "$1" --out "$S" > /dev/null 2> /dev/null
  echo "$S"
}

# train <kind sft|grpo> <dir> <seed>: fresh, or resumed from last/ after an interruption; skipped when final/ exists.
train() {
  local kind=$1 dir=$2 seed=$3 resume=()
  [ -d "$dir/final" ] && return 0
  if [ -f "$dir/last/trainer_state.json" ]; then resume=(--resume); else rm -rf "$dir"; fi
  pafas --seed "$seed" "$kind" --out "$dir" "${TRAIN_ARGS[@]}" "${resume[@]}" >> "$dir.out" 2>> "$dir.log"
}

evaluate() { # <model> <split> <out> [drop]
  [ -f "$3/metrics.json" ] && return 0
  local drop=()
  [ -n "${4:-}" ] && drop=(--drop "$4")
  pafas eval --model "$1" --data "$2/test.jsonl" --val "$2/val.jsonl" --out "$3" --max-new 200 "${drop[@]}" > "$3.out" 2> "$3.log"
}

cell() { # protocol variant N seed
  local P=$1 v=$2 N=$3 s=$4
  world
  local S; S=$(split "$P" "$s")
  local D="$OUT/cells/$P/$v-N$N-s$s"
  mkdir -p "$D"
  [ -f "$D/eval/metrics.json" ] && [ -f "$D/eval-sft/metrics.json" ] && return 0
  claim "$D" || return 0
  log "cell $P $v N=$N seed $s"
  local aug=(--shuffle "$v")
  [ "$v" = raw ] && aug=(--mode raw)
  [ -f "$D/chains.jsonl" ] || pafas --seed "$s" augment --data "$S/train.jsonl" --annotations "$OUT/annotations.jsonl" \
    --paths "$N" --labelled 400 "${aug[@]}" --out "$D/chains.jsonl" > /dev/null 2> "$D/augment.log"
  local steps=$SFT_STEPS
  if [ -n "$SFT_EPOCHS" ]; then
    local chains; chains=$(wc -l < "$D/chains.jsonl")
    steps=$(python3 -c "import math, sys; print(max(int(sys.argv[1]), math.ceil(float(sys.argv[2]) * int(sys.argv[3]) / int(sys.argv[4]))))" \
      "$SFT_STEPS" "$SFT_EPOCHS" "$chains" "$SFT_BATCH")
  fi
  TRAIN_ARGS=(--chains "$D/chains.jsonl" --val "$S/val.jsonl" --model-size small --steps "$steps" --batch "$SFT_BATCH"
    --lr 1e-3 --warmup 25 --schedule cosine --eval-every 0 --save-every 50 "${SFT_INIT[@]}")
  train sft "$D/sft" "$s"
  TRAIN_ARGS=(--init "$D/sft" --data "$S/train.jsonl" --val "$S/val.jsonl" --steps "$GRPO_STEPS" --prompts 4 --group 8
    --lr 5e-5 --reward-mode hierarchical --max-new 200 --eval-every 20 --save-every 10 --log-every 1 "${GRPO_EXTRA[@]}")
  train grpo "$D/grpo" "$s"
  local M="$D/grpo/best"; [ -d "$M" ] || M="$D/grpo"
  evaluate "$M" "$S" "$D/eval"
  evaluate "$D/sft" "$S" "$D/eval-sft"
  log "  SFT:      $(head -n 1 "$D/eval-sft.out")"
  log "  SFT+GRPO: $(head -n 1 "$D/eval.out")"
  rm -rf "$D/claim"
}

# Several workers may run this script at once (e.g. `scripts/experiments.sh all & scripts/experiments.sh all`): a worker
# claims a cell by creating <cell>/claim (holding its PID) and skips cells that a live worker holds.
claim() { # <folder> [name]
  local c="$1/${2:-claim}"
  if ! mkdir "$c" 2> /dev/null; then
    local pid; pid=$(cat "$c/pid" 2> /dev/null || echo)
    if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then return 1; fi
    log "taking over the claim of a stopped worker on $1"
  fi
  echo $$ > "$c/pid"
  CLAIMS+=("$c")
}
CLAIMS=()
trap 'for c in "${CLAIMS[@]}"; do [ "$(cat "$c/pid" 2> /dev/null)" = $$ ] && rm -rf "$c"; done' EXIT

p2() { # protocol variant N seed: the Protocol 1 cell's models with modalities missing at test
  local P=$1 v=$2 N=$3 s=$4 D="$OUT/cells/$1/$2-N$3-s$4"
  [ -f "$D/eval/metrics.json" ] || return 0
  [ -f "$D/eval-drop-depth-ir/metrics.json" ] && { [ "$v" != raw ] || [ -f "$D/eval-sft-drop-depth-ir/metrics.json" ]; } && return 0
  claim "$D" claim-p2 || return 0
  local S="$OUT/splits/$P-s$s" M="$D/grpo/best"; [ -d "$M" ] || M="$D/grpo"
  for drop in depth ir depth,ir; do
    evaluate "$M" "$S" "$D/eval-drop-${drop/,/-}" "$drop"
    if [ "$v" = raw ]; then evaluate "$D/sft" "$S" "$D/eval-sft-drop-${drop/,/-}" "$drop"; fi
  done
  log "p2 $P $v N=$N seed $s done"
  rm -rf "$D/claim-p2"
}

# Each cell runs in its own process: a failed cell is logged and the suite goes on with the next.
one() { bash "$0" "$@" || log "FAILED: $* (see the logs in its folder)"; }

run_suite() { # suite seed
  local s=$2
  case "$1" in
    # Variant-major: the first two variants on every split before the next two, so a partial run can already
    # compare PA-FAS with raw labels across domains.
    p1) local vs=($VARIANTS)
        for group in "${vs[*]:0:2}" "${vs[*]:2}"; do
          for P in p1-W p1-C p1-P p1-S; do for v in $group; do one cell "$P" "$v" 10 "$s"; done; done
        done ;;
    p2) for P in p1-W p1-C p1-P p1-S; do for v in $VARIANTS; do one p2cell "$P" "$v" 10 "$s"; done; done ;;
    p3) for P in p3-PS p3-CW; do for v in $VARIANTS; do one cell "$P" "$v" 10 "$s"; done; done ;;
    nsweep) for N in $NS; do one cell p1-W answer "$N" "$s"; done ;;
    all) for x in p1 p2 p3 nsweep; do run_suite "$x" "$s"; done ;;
    *) echo "unknown suite '$1' (p1 p2 p3 nsweep all, or: cell <protocol> <variant> <N> <seed>)" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  cell) shift; cell "$@"; exit 0 ;;
  p2cell) shift; p2 "$@"; exit 0 ;;
esac
# Seed-major: every suite of the first seed, then of the next, so a partial run gives whole tables for the first seeds.
for s in $SEEDS; do for x in "${@:-all}"; do run_suite "$x" "$s"; done; done
