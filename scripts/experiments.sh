#!/usr/bin/env bash
# Shuffle / raw-label ablation on the synthetic world, with the demo pipeline's sizes (one split, one seed per call).
# Reuses the world, annotations and splits of a `pafas pipeline` run, so every variant sees the same data; each
# variant = augment (its shuffle or raw labels) -> SFT 300 steps -> GRPO 60 steps -> eval of GRPO's best/ on the
# held-out domain (threshold from the source validation split). Stages whose output exists are skipped, so the
# suite can be built up over several sittings. About 6-7 minutes per variant on a 2-core CPU.
# Usage: scripts/experiments.sh [pipeline_dir=runs/pipeline] [out=runs/experiments] [variants="answer none path raw"] [seed=42]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PIPE=${1:-runs/pipeline}
OUT=${2:-runs/experiments}
VARIANTS=${3:-"answer none path raw"}
SEED=${4:-42}
DLL="$ROOT/PaFas.Host/bin/Release/net10.0/PaFas.Host.dll"
[ -f "$DLL" ] || dotnet build "$ROOT/PaFas.Host" -c Release -v q > /dev/null
pafas() { dotnet "$DLL" --seed "$SEED" "$@"; }
[ -f "$PIPE/splits/train.jsonl" ] || pafas pipeline --out "$PIPE"
S="$PIPE/splits"
mkdir -p "$OUT"
for v in $VARIANTS; do
  D="$OUT/$v-s$SEED"; mkdir -p "$D"
  if [ "$v" = raw ]; then AUG=(--mode raw); else AUG=(--shuffle "$v"); fi
  [ -f "$D/chains.jsonl" ] || pafas augment --data "$S/train.jsonl" --annotations "$PIPE/annotations.jsonl" --paths 10 --labelled 400 "${AUG[@]}" --out "$D/chains.jsonl" 2> "$D/augment.log" > /dev/null
  [ -d "$D/sft/final" ] || pafas sft --chains "$D/chains.jsonl" --val "$S/val.jsonl" --out "$D/sft" --preset small --steps 300 --lr 1e-3 --batch 16 --warmup 30 --schedule cosine --eval-every 0 --save-every 0 2> "$D/sft.log" > /dev/null
  [ -d "$D/grpo/final" ] || pafas grpo --init "$D/sft" --data "$S/train.jsonl" --val "$S/val.jsonl" --out "$D/grpo" --steps 60 --prompts 4 --group 8 --lr 5e-5 --reward-mode hierarchical --max-new 200 --eval-every 20 --save-every 20 2> "$D/grpo.log" > "$D/grpo.out"
  M="$D/grpo/best"; [ -d "$M" ] || M="$D/grpo"
  [ -f "$D/eval/metrics.json" ] || pafas eval --model "$M" --data "$S/test.jsonl" --val "$S/val.jsonl" --out "$D/eval" --max-new 200 2> "$D/eval.log" > "$D/eval.out"
  [ -f "$D/eval-sft/metrics.json" ] || pafas eval --model "$D/sft" --data "$S/test.jsonl" --val "$S/val.jsonl" --out "$D/eval-sft" --max-new 200 2> "$D/eval-sft.log" > "$D/eval-sft.out"
  echo "$v: SFT only: $(head -n 1 "$D/eval-sft.out")"
  echo "$v: SFT+GRPO: $(head -n 1 "$D/eval.out")"
  grep -h "zero-std" "$D/grpo.out" || true
done
