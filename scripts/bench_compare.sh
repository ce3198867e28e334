#!/usr/bin/env bash
# Runs `pafas bench` (sft, decode, grpo, predict, peak) and the PyTorch eager reference (scripts/reference_pytorch.py)
# on the same workload with the same thread count, one after the other, and prints the ratios against the targets
# of docs/performance.md. Writes OUT/pafas/bench.{json,md}, OUT/reference-tN.json, OUT/compare.{md,json}.
#
#   scripts/bench_compare.sh [--threads 2] [--model-size small] [--repeat 3] [--out runs/bench-compare]
#                            [--ref-threads "1 2"] [--model CHECKPOINT] [--what peak,sft,decode,grpo,predict]
#                            [--rounds 1]
#
# --ref-threads: extra thread counts for the reference alone (its best setting is reported); the ratios always use
# --threads for both. --rounds N (for a shared, noisy machine): N - 1 more alternating runs of ours and the reference
# (SFT step and decoding only, in OUT/round-K/), and the median of each SFT/decoding ratio over the N rounds. Needs a Release build (dotnet build PaFas.Host -c Release) and /usr/bin/python3 with torch.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2; preset=small; repeat=3; out=runs/bench-compare; ref_threads=""; model=""; what="peak,sft,decode,grpo,predict"; rounds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2;;
    --model-size) preset=$2; shift 2;;
    --repeat) repeat=$2; shift 2;;
    --out) out=$2; shift 2;;
    --ref-threads) ref_threads=$2; shift 2;;
    --model) model=$2; shift 2;;
    --what) what=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    -h|--help) sed -n 2,15p "$0"; exit 0;;
    *) echo "bench_compare.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done
dll=PaFas.Host/bin/Release/net10.0/PaFas.Host.dll
[ -f "$dll" ] || { echo "bench_compare.sh: $dll not found: run 'dotnet build PaFas.Host -c Release' first" >&2; exit 1; }
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || { echo "bench_compare.sh: $py cannot import torch (apt-get install python3-torch libopenblas0-pthread)" >&2; exit 1; }
mkdir -p "$out"
rm -rf "$out"/reference-t*.json "$out"/compare.md "$out"/compare.json "$out"/round-*
model_arg=(); [ -n "$model" ] && model_arg=(--model "$model")

echo "== pafas bench --what $what --model-size $preset --threads $threads" >&2
dotnet "$dll" --threads "$threads" bench --what "$what" --model-size "$preset" --repeat "$repeat" --out "$out/pafas" "${model_arg[@]}" >/dev/null
for t in $(printf '%s\n' "$threads" $ref_threads | awk '!seen[$0]++'); do
  echo "== reference_pytorch.py --threads $t" >&2
  "$py" scripts/reference_pytorch.py --spec "$out/pafas/bench.json" --threads "$t" --repeat "$repeat" --what sft,decode,uncached,matmul > "$out/reference-t$t.json"
done

for k in $(seq 2 "$rounds"); do
  echo "== round $k: pafas bench --what sft,decode, then the reference" >&2
  dotnet "$dll" --threads "$threads" bench --what sft,decode --model-size "$preset" --repeat "$repeat" --out "$out/round-$k/pafas" "${model_arg[@]}" >/dev/null
  "$py" scripts/reference_pytorch.py --spec "$out/round-$k/pafas/bench.json" --threads "$threads" --repeat "$repeat" --what sft,decode > "$out/round-$k/reference-t$threads.json"
done

"$py" - "$out" "$threads" "$rounds" <<'PY'
import json, sys, glob, os, statistics
out, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours = json.load(open(os.path.join(out, "pafas", "bench.json")))
ref = json.load(open(os.path.join(out, f"reference-t{threads}.json")))
refs = {int(os.path.basename(f)[len("reference-t"):-5]): json.load(open(f)) for f in glob.glob(os.path.join(out, "reference-t*.json"))}
r = {e["key"]: e["median"] for e in ours["results"]}
spec = ours["spec"]
rows = []
def row(name, value, target, ok):
    rows.append({"check": name, "value": value, "target": target, "met": ok})
row("parameters equal (ours / reference)", f"{spec['parameters']:,} / {ref['parameters']:,}", "equal", spec["parameters"] == ref["parameters"])
for b, f in spec["sft_flops_per_step"].items():
    row(f"FLOPs per SFT step, batch {b} (ours / reference)", f"{f:.4g} / {ref['sft_flops_per_step'][b]:.4g}", "equal", abs(f - ref["sft_flops_per_step"][b]) < 1e-6 * f)
for b in spec["sft_batches"]:
    k = f"sft.b{b}.step_ms"
    if k in r and "sft" in ref:
        ratio = r[k] / ref["sft"][str(b)]["step_ms"]
        row(f"SFT step time batch {b}: ours / PyTorch ({r[k]:.1f} / {ref['sft'][str(b)]['step_ms']:.1f} ms)", f"{ratio:.2f}x", "<= 0.75x", ratio <= 0.75)
for n in spec["decode_new_tokens"]:
    k = f"decode.cached.n{n}.tokens_per_s"
    if k in r and str(n) in ref.get("decode", {}).get("cached", {}):
        ratio = r[k] / ref["decode"]["cached"][str(n)]
        row(f"cached decoding {n} tokens: ours / PyTorch tokens/s ({r[k]:.0f} / {ref['decode']['cached'][str(n)]:.0f})", f"{ratio:.2f}x", ">= 1.0x", ratio >= 1.0)
if "decode.n128.cache_speedup" in r:
    row("cached / uncached decoding at 128 tokens (ours)", f"{r['decode.n128.cache_speedup']:.2f}x", ">= 5x", r["decode.n128.cache_speedup"] >= 5)
    u = ref.get("decode", {}).get("uncached", {}).get("128")
    if u:
        rows[-1]["check"] += f" [PyTorch: {ref['decode']['cached']['128'] / u:.2f}x]"
if "grpo.rollout_fraction" in r:
    row(f"GRPO rollout / step, G = 8 ({r['grpo.rollout_s']:.2f} of {r['grpo.step_s']:.2f} s)", f"{r['grpo.rollout_fraction']:.0%}", "<= 50%", r["grpo.rollout_fraction"] <= 0.5)
if "sft.b32.peak_fraction" in r:
    extra = ""
    if "sft" in ref and "matmul_peak_gflops" in ref:
        extra = f" [PyTorch: {ref['sft']['32']['gflops']:.1f} of {ref['matmul_peak_gflops']:.1f} = {ref['sft']['32']['gflops'] / ref['matmul_peak_gflops']:.0%}]"
    row(f"SFT batch 32 FLOP/s / matmul peak ({r['sft.b32.gflops']:.1f} of {r['matmul.peak_gflops']:.1f} GFLOP/s){extra}", f"{r['sft.b32.peak_fraction']:.0%}", ">= 40%", r["sft.b32.peak_fraction"] >= 0.4)
if "predict.b1.p50_ms" in r:
    row(f"predictor p50 latency, batch 1 (p95 {r['predict.b1.p95_ms']:.0f} ms, {r['predict.completion_tokens']:.0f}-token chains)", f"{r['predict.b1.p50_ms']:.1f} ms", "<= 30 ms", r["predict.b1.p50_ms"] <= 30)
if "peak.train_rss_mib" in r:
    row("peak RSS in training (SFT, batch 32)", f"{r['peak.train_rss_mib']:.0f} MiB", "<= 2048 MiB", r["peak.train_rss_mib"] <= 2048)
best = None
if refs:
    best_t = min(refs, key=lambda t: refs[t].get("sft", {}).get("32", {}).get("step_ms", float("inf")))
    best = {"threads": best_t, "sft_b32_step_ms": refs[best_t].get("sft", {}).get("32", {}).get("step_ms")}
md = [f"# pafas vs PyTorch {ref['torch']} eager ({spec['preset']}, {threads} threads, {ours['cores']} cores)", "",
      "| check | value | target | met |", "|---|---:|---:|:---:|"]
md += [f"| {x['check']} | {x['value']} | {x['target']} | {'yes' if x['met'] else '**no**'} |" for x in rows]
if best:
    md += ["", "PyTorch SFT step at batch 32 by thread count: " + ", ".join(
        f"{t}: {refs[t]['sft']['32']['step_ms']:.1f} ms" for t in sorted(refs) if "sft" in refs[t]) + f" (best: {best['threads']})"]
per_round = {}
if rounds > 1:
    def ratios(o, p):
        x = {e["key"]: e["median"] for e in o["results"]}
        res = {}
        for b in o["spec"]["sft_batches"]:
            if f"sft.b{b}.step_ms" in x and str(b) in p.get("sft", {}):
                res[f"SFT step batch {b}, ours / PyTorch (target <= 0.75x)"] = (x[f"sft.b{b}.step_ms"] / p["sft"][str(b)]["step_ms"], lambda v: v <= 0.75)
        for n in o["spec"]["decode_new_tokens"]:
            k = f"decode.cached.n{n}.tokens_per_s"
            if k in x and str(n) in p.get("decode", {}).get("cached", {}):
                res[f"cached decoding {n} tokens, ours / PyTorch (target >= 1.0x)"] = (x[k] / p["decode"]["cached"][str(n)], lambda v: v >= 1.0)
        return res
    all_rounds = [ratios(ours, ref)] + [ratios(json.load(open(os.path.join(out, f"round-{k}", "pafas", "bench.json"))),
                                               json.load(open(os.path.join(out, f"round-{k}", f"reference-t{threads}.json"))))
                                        for k in range(2, rounds + 1)]
    md += ["", f"Ratios over {rounds} alternating rounds (round 1 is the table above):", "",
           "| check | " + " | ".join(f"round {k}" for k in range(1, rounds + 1)) + " | median | met |", "|---|" + "---:|" * (rounds + 1) + ":---:|"]
    for name in all_rounds[0]:
        vals = [rr[name][0] for rr in all_rounds if name in rr]
        med = statistics.median(vals)
        per_round[name] = {"rounds": vals, "median": med, "met": all_rounds[0][name][1](med)}
        md.append(f"| {name} | " + " | ".join(f"{v:.2f}x" for v in vals) + f" | {med:.2f}x | {'yes' if per_round[name]['met'] else '**no**'} |")
open(os.path.join(out, "compare.md"), "w").write("\n".join(md) + "\n")
json.dump({"rows": rows, "rounds": per_round, "reference_best_threads": best}, open(os.path.join(out, "compare.json"), "w"), indent=2)
print("\n".join(md))
PY
