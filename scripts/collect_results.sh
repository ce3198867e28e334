#!/usr/bin/env bash
# Copies the small result files of the finished cells of a scripts/experiments.sh run (OUT, under runs/, which git
# ignores) into a folder that is committed (DEST, under docs/results/), so that scripts/results_tables.py rebuilds
# every table from the repository alone and no finished cell is lost when a machine goes away.
#
#   bash scripts/collect_results.sh runs/exp-pre docs/results/grid-pretrained
#   python3 scripts/results_tables.py docs/results/grid-pretrained
#
# Per finished cell (its eval/metrics.json exists): every eval*/metrics.json, grpo/metrics.jsonl (the GRPO log: rewards,
# zero-std groups, validation; the sampled completions it logs now and then are left out), sft/metrics.jsonl, and
# chains.count (the number of SFT chains). Also OUT's build.txt
# and recipe.txt. Cells still running are left out; rerunning the script adds the cells finished since.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: collect_results.sh OUT DEST" >&2; exit 2; }
OUT=${1%/} DEST=${2%/}
[ -d "$OUT/cells" ] || { echo "collect_results.sh: $OUT has no cells/ (not an experiments.sh folder)" >&2; exit 2; }
mkdir -p "$DEST"
for f in build.txt recipe.txt; do [ -f "$OUT/$f" ] && cp "$OUT/$f" "$DEST/$f"; done
n=0
for cell in "$OUT"/cells/*/*/; do
  cell=${cell%/}
  [ -f "$cell/eval/metrics.json" ] || continue
  rel=${cell#"$OUT"/}
  mkdir -p "$DEST/$rel"
  for m in "$cell"/eval*/metrics.json; do
    e=$(basename "$(dirname "$m")")
    mkdir -p "$DEST/$rel/$e"
    cp "$m" "$DEST/$rel/$e/metrics.json"
  done
  for t in grpo sft; do
    [ -f "$cell/$t/metrics.jsonl" ] || continue
    mkdir -p "$DEST/$rel/$t"
    python3 -c 'import json, sys
for line in open(sys.argv[1]):
    try: r = json.loads(line)
    except ValueError: continue
    r.pop("samples", None)
    print(json.dumps(r))' "$cell/$t/metrics.jsonl" > "$DEST/$rel/$t/metrics.jsonl"
  done
  [ -f "$cell/chains.jsonl" ] && wc -l < "$cell/chains.jsonl" | tr -d ' ' > "$DEST/$rel/chains.count"
  n=$((n + 1))
done
echo "collect_results.sh: $n finished cells of $OUT in $DEST"
