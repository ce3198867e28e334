#!/usr/bin/env bash
# Issue 16's targets for one recipe, measured: `pafas pipeline` with each held-out domain (Protocol 1, seed 42),
# then the held-out-W model evaluated on faces from the foreign renderer (sensors that neither the world's
# domains nor the pretraining ranges cover; see `pafas synth --renderer foreign`), then one table of every
# measure next to its target: OUT/targets.md (and OUT/targets.tsv).
#
#   OUT=runs/targets bash scripts/demo_targets.sh                 # the demo recipe, held-out W C P S
#   OUT=runs/targets-paper RECIPE=paper HOLDOUTS=W bash scripts/demo_targets.sh
#   PIPE_FLAGS="--from-scratch" OUT=runs/targets-scratch bash scripts/demo_targets.sh
#
# A finished pipeline (its eval/metrics.json exists) or foreign evaluation is kept, so the script resumes.
# PAFAS overrides the command (default: the Release build's PaFas.Host, built when missing). Each pipeline's
# wall time is recorded in OUT/pipeline-<domain>/wall_seconds.txt; it is comparable only on an unshared machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-runs/targets}
RECIPE=${RECIPE:-demo}
HOLDOUTS=${HOLDOUTS:-"W C P S"}
PIPE_FLAGS=${PIPE_FLAGS:-}
FOREIGN_PER_SENSOR=${FOREIGN_PER_SENSOR:-60}
BIN="$ROOT/PaFas.Host/bin/Release/net10.0/PaFas.Host"
if [ -z "${PAFAS:-}" ]; then
  [ -x "$BIN" ] || dotnet build "$ROOT/PaFas.Host" -c Release -v q > /dev/null
  PAFAS="$BIN"
fi
mkdir -p "$OUT"
log() { echo "[$(date +%H:%M:%S)] $*"; }

for h in $HOLDOUTS; do
  dir="$OUT/pipeline-$h"
  if [ -f "$dir/eval/metrics.json" ]; then log "held-out $h: done before, kept"; continue; fi
  log "held-out $h: pafas pipeline --recipe $RECIPE --holdout $h $PIPE_FLAGS"
  start=$(date +%s)
  # shellcheck disable=SC2086
  $PAFAS pipeline --recipe "$RECIPE" --holdout "$h" --out "$dir" $PIPE_FLAGS > "$OUT/pipeline-$h.log" 2>&1 \
    || { echo "demo_targets: the pipeline for held-out $h failed; see $OUT/pipeline-$h.log" >&2; exit 1; }
  echo $(( $(date +%s) - start )) > "$dir/wall_seconds.txt"
done

first=${HOLDOUTS%% *}
pipe="$OUT/pipeline-$first"
if [ ! -f "$OUT/foreign-eval/metrics.json" ]; then
  [ -f "$OUT/foreign/manifest.jsonl" ] || $PAFAS synth --renderer foreign --per-domain "$FOREIGN_PER_SENSOR" \
      --out "$OUT/foreign" --seed 7 > "$OUT/foreign-synth.log" 2>&1
  model=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('model',''))" "$pipe/eval/metrics.json" 2>/dev/null || true)
  [ -n "$model" ] && [ -d "$model" ] || model="$pipe/grpo/best"
  [ -d "$model" ] || model="$pipe/grpo/final"
  log "foreign sensors: pafas eval --model $model"
  $PAFAS eval --model "$model" --data "$OUT/foreign/manifest.jsonl" --val "$pipe/splits/val.jsonl" --max-new 200 \
      --out "$OUT/foreign-eval" > "$OUT/foreign-eval.log" 2>&1 \
    || { echo "demo_targets: the foreign-sensor evaluation failed; see $OUT/foreign-eval.log" >&2; exit 1; }
fi

python3 - "$OUT" "$RECIPE" "$PIPE_FLAGS" $HOLDOUTS <<'EOF'
import json, os, sys
out, recipe, flags, holdouts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
# (key in metrics.json, label, target, higher is better); reasoning keys live under "reasoning"
rows = [("hter", "HTER", 0.05, False), ("auc", "AUC", 0.99, True),
        ("answer_live_spoof_accuracy", "answer live/spoof accuracy", 0.95, True),
        ("answer_leaf_accuracy", "answer leaf accuracy", 0.70, True),
        ("answer_score_agreement", "answer/score verdict agreement", 0.95, True),
        ("consistency", "consistency (conclusion = answer)", 0.95, True),
        ("self_contradiction_rate", "self-contradicting chains", 0.02, False),
        ("faithfulness", "faithfulness (cited cues true)", 0.95, True),
        ("conclusion_live_spoof_accuracy", "conclusion live/spoof accuracy", None, True),
        ("conclusion_leaf_accuracy", "conclusion leaf accuracy", None, True),
        ("format_failure_rate", "format failures", None, False)]
cols = []
for h in holdouts:
    p = f"{out}/pipeline-{h}/eval/metrics.json"
    if os.path.exists(p):
        cols.append((f"held-out {h}", json.load(open(p))))
fp = f"{out}/foreign-eval/metrics.json"
def get(m, k):
    v = m.get(k, m.get("reasoning", {}).get(k))
    return v if isinstance(v, (int, float)) else None
avg = {}
for k, *_ in rows:
    vs = [get(m, k) for _, m in cols]
    vs = [v for v in vs if v is not None]
    avg[k] = sum(vs) / len(vs) if vs and len(vs) == len(cols) else None
allc = cols + ([("mean of held-out", None)] if len(cols) > 1 else []) + \
       ([("foreign sensors", json.load(open(fp)))] if os.path.exists(fp) else [])
pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"
head = ["measure", "target"] + [c for c, _ in allc]
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
tsv = ["\t".join(["key"] + head[1:])]
for k, label, target, hi in rows:
    vals = [avg[k] if m is None else get(m, k) for _, m in allc]
    tgt = "" if target is None else (">= " if hi else "<= ") + pct(target)
    def mark(v):
        if v is None or target is None: return pct(v)
        ok = v >= target - 1e-12 if hi else v <= target + 1e-12
        return pct(v) + ("" if ok else " (miss)")
    lines.append("| " + " | ".join([label, tgt] + [mark(v) for v in vals]) + " |")
    tsv.append("\t".join([k, "" if target is None else str(target)] + ["" if v is None else f"{v:.6f}" for v in vals]))
walls = []
for h in holdouts:
    w = f"{out}/pipeline-{h}/wall_seconds.txt"
    if os.path.exists(w):
        walls.append(f"{h} {int(open(w).read()) / 60:.1f} min")
md = [f"# Issue 16 targets: recipe `{recipe}`{(' ' + flags) if flags else ''}, seed 42", "",
      "Written by `scripts/demo_targets.sh`; every number is from the metrics.json of the run named in the column.", "",
      *lines, "", "Pipeline wall time (this machine, after the build): " + (", ".join(walls) if walls else "not recorded") + "."]
if os.path.exists(fp):
    md += ["", "Foreign sensors: faces of `pafas synth --renderer foreign` (seed 7), an independent renderer whose sensors",
           "none of the training domains or the pretraining ranges cover, evaluated with the held-out-"
           + holdouts[0] + " pipeline's model and the threshold of its source validation split."]
open(f"{out}/targets.md", "w").write("\n".join(md) + "\n")
open(f"{out}/targets.tsv", "w").write("\n".join(tsv) + "\n")
print("\n".join(md))
EOF
