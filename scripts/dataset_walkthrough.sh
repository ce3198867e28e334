#!/usr/bin/env bash
# The README's "A real data set's layout, end to end", run on a small data set laid out like the public ones:
# a list file per split (`rgb depth ir label`), images in nested folders <sensor>/<class>/<n>_{rgb,depth,ir}.png,
# three sensors as domains, the attack type in the path. The images come from the foreign renderer (sensors the
# annotator was not written for). Usage: scripts/dataset_walkthrough.sh [WORK_DIR] [PER_SENSOR]
# Tiny training steps: it shows the commands and what they print, not a trained model.
set -euo pipefail
W=${1:-runs/walkthrough}; N=${2:-120}
pafas() { dotnet "$(dirname "$0")/../PaFas.Host/bin/Release/net10.0/PaFas.Host.dll" --threads 1 "$@"; }
rm -rf "$W"; mkdir -p "$W"
# --- the data set (a stand-in for CASIA-SURF / CeFA / WMCA / PADISI folders)
pafas synth --renderer foreign --sensor kinect16,realsense8,orbbec8 --per-domain "$N" --out "$W/fas" >/dev/null
python3 - "$W/fas" <<'PY'
import json, os, sys
root = sys.argv[1]; lists = {"train": [], "dev": [], "test": []}
for line in open(os.path.join(root, "manifest.jsonl")):
    s = json.loads(line); rel = lambda p: os.path.relpath(os.path.join(root, p), root)
    n = int(s["id"].split("/")[-1]); split = "test" if n % 4 == 3 else "dev" if n % 4 == 2 else "train"
    lists[split].append(f'{rel(s["rgb"])} {rel(s["depth"])} {rel(s["ir"])} {1 if s["label"] == ["Real Face"] else 0}')
for k, v in lists.items(): open(os.path.join(root, f"{k}_list.txt"), "w").write("\n".join(v) + "\n")
os.remove(os.path.join(root, "manifest.jsonl")); os.remove(os.path.join(root, "sensors.json"))
PY
echo "== the data set"; ls "$W/fas"; head -2 "$W/fas/train_list.txt"
# --- 1. inspect: each list -> JSONL with domain (first folder) and attack (second folder)
for split in train dev test; do
  echo "== pafas inspect --data $W/fas/${split}_list.txt ..."
  pafas inspect --data "$W/fas/${split}_list.txt" --domain-pattern '^(?<domain>[^/]+)/' \
        --attack-pattern '^[^/]+/(?<attack>[^/]+)/' --out "$W/work/${split}.jsonl" | grep -v '^$' | head -40
done
cat "$W/work/train.jsonl" "$W/work/dev.jsonl" "$W/work/test.jsonl" > "$W/work/all.jsonl"
# --- 2. split by domain: train on two sensors, test on the third (leave one sensor out)
echo "== pafas split --sources kinect16,realsense8 --targets orbbec8"
pafas split --data "$W/work/all.jsonl" --sources kinect16,realsense8 --targets orbbec8 --out "$W/splits" --val-fraction 0.2
# --- 3. annotate the training sensors, thresholds calibrated per sensor from the labels
echo "== pafas annotate --calibrate domain --report --sheet"
pafas annotate --data "$W/splits/train.jsonl" --calibrate domain --min-per-class 3 --report --sheet "$W/sheet.png" \
      --out "$W/annotations.jsonl"
# --- 4-8. augment, sft, grpo, eval, metrics (tiny steps)
echo "== pafas augment"
pafas augment --data "$W/splits/train.jsonl" --annotations "$W/annotations.jsonl" --paths 4 --out "$W/chains.jsonl"
echo "== pafas sft"
pafas sft --chains "$W/chains.jsonl" --val "$W/splits/val.jsonl" --out "$W/sft" --model-size tiny --steps 6 --batch 8 --eval-every 0 --log-every 3 2>&1 | tail -3
echo "== pafas grpo"
pafas grpo --init "$W/sft" --data "$W/splits/train.jsonl" --val "$W/splits/val.jsonl" --out "$W/grpo" --steps 2 --prompts 2 --group 2 --max-new 48 --eval-every 0 --log-every 1 2>&1 | tail -3
echo "== pafas eval"
pafas eval --model "$W/grpo/final" --data "$W/splits/test.jsonl" --val "$W/splits/val.jsonl" --out "$W/eval" --max-new 48 2>&1 | tail -12
echo "== pafas score + metrics"
pafas score --model "$W/grpo/final" --data "$W/splits/test.jsonl" --out "$W/test_scores.csv" --max-new 48 >/dev/null
pafas score --model "$W/grpo/final" --data "$W/splits/val.jsonl" --out "$W/val_scores.csv" --max-new 48 >/dev/null
pafas metrics --scores "$W/test_scores.csv" --val-scores "$W/val_scores.csv" | head -12
