#!/usr/bin/env bash
# GRPO recipe variants from one SFT run: each variant runs `pafas grpo` (the demo recipe's GRPO section plus the
# variant's flags) from the same SFT checkpoint, then `pafas eval` on the held-out test split, and appends one
# row of FAS and reasoning measures to OUT/variants.tsv. A finished variant (its eval/metrics.json exists) is not
# run again.
#
#   PIPE=runs/pipeline OUT=runs/grpo-variants bash scripts/grpo_variants.sh [NAME=FLAGS ...]
#
# PIPE is a finished `pafas pipeline` folder (sft/, splits/). RECIPE (default demo-paper: the paper's reward) gives the
# GRPO settings every variant starts from. PAFAS overrides the command (default: dotnet run
# of PaFas.Host in Release). Without arguments the variants are the paper's reward and the two terms beyond it
# (conclusion, consistency; add "coherence=--coherence-weight 1" for the third).
set -euo pipefail
cd "$(dirname "$0")/.."
PIPE=${PIPE:-runs/pipeline}
OUT=${OUT:-runs/grpo-variants}
PAFAS=${PAFAS:-"dotnet run --project PaFas.Host -c Release --no-build --"}
RECIPE=${RECIPE:-demo-paper}
[ -d "$PIPE/sft" ] && [ -f "$PIPE/splits/train.jsonl" ] || { echo "grpo_variants: $PIPE has no sft/ and splits/ (run pafas pipeline first)" >&2; exit 1; }
if [ $# -eq 0 ]; then
  set -- "paper=" "consistency=--consistency-weight 1" "conclusion=--conclusion-weight 1" \
         "both=--conclusion-weight 1 --consistency-weight 1"
fi
mkdir -p "$OUT"
tsv="$OUT/variants.tsv"
[ -f "$tsv" ] || printf 'variant\tflags\thter\tauc\tanswer_live_spoof\tanswer_leaf\tconclusion_live_spoof\tconclusion_leaf\tconsistency\tanswer_score_agreement\tself_contradiction\tfaithfulness\tzero_std_mean\tgrpo_s\n' > "$tsv"
for spec in "$@"; do
  name=${spec%%=*}; flags=${spec#*=}
  dir="$OUT/$name"
  if [ -f "$dir/eval/metrics.json" ]; then echo "grpo_variants: $name done before, kept"; continue; fi
  start=$(date +%s)
  # shellcheck disable=SC2086
  $PAFAS grpo --recipe "$RECIPE" --init "$PIPE/sft" --data "$PIPE/splits/train.jsonl" --val "$PIPE/splits/val.jsonl" \
    --out "$dir/grpo" --force $flags
  secs=$(( $(date +%s) - start ))
  model="$dir/grpo/best"; [ -d "$model" ] || model="$dir/grpo"
  $PAFAS eval --model "$model" --data "$PIPE/splits/test.jsonl" --val "$PIPE/splits/val.jsonl" --max-new 200 --out "$dir/eval"
  python3 - "$dir" "$name" "$flags" "$secs" >> "$tsv" <<'EOF'
import json, sys
d, name, flags, secs = sys.argv[1:]
m = json.load(open(f"{d}/eval/metrics.json"))
r = m["reasoning"]
zs = [json.loads(l).get("zero_std_fraction") for l in open(f"{d}/grpo/metrics.jsonl")]
zs = [z for z in zs if isinstance(z, (int, float))]
f = lambda x: "n/a" if x is None else f"{100 * x:.2f}"
print("\t".join([name, flags or "(paper)", f(m["hter"]), f(m["auc"]), f(r["answer_live_spoof_accuracy"]), f(r["answer_leaf_accuracy"]),
                 f(r["conclusion_live_spoof_accuracy"]), f(r["conclusion_leaf_accuracy"]), f(r["consistency"]),
                 f(r["answer_score_agreement"]), f(r["self_contradiction_rate"]), f(r["faithfulness"]),
                 f(sum(zs) / len(zs) if zs else None), secs]))
EOF
  tail -n 1 "$tsv"
done
column -t -s $'\t' "$tsv"
