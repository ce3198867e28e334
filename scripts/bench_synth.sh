#!/usr/bin/env bash
# Times the synthetic world generator (samples/s; target >= 200/s at 64x64 on 2 cores).
# Usage: scripts/bench_synth.sh [per_domain=500] [size=64] [threads=2]
# Uses `pafas synth` once the CLI is wired (expects --out --per-domain --size --threads), else prints how to
# call the library entry point SyntheticWorld.Generate(new SynthOptions { ... }).
set -euo pipefail
cd "$(dirname "$0")/.."
PER=${1:-500}; SIZE=${2:-64}; THREADS=${3:-2}
OUT=$(mktemp -d /tmp/pafas-synth-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
dotnet build PaFas.Host -c Release >/dev/null
BIN=$(ls PaFas.Host/bin/Release/net*/PaFas.Host.dll | head -1)
if dotnet "$BIN" synth --help >/dev/null 2>&1; then
  START=$(date +%s.%N)
  dotnet "$BIN" synth --out "$OUT" --per-domain "$PER" --size "$SIZE" --threads "$THREADS"
  END=$(date +%s.%N)
  N=$(wc -l < "$OUT/manifest.jsonl")
  echo "synth: $N samples in $(echo "$END - $START" | bc) s (incl. start-up) = $(echo "$N / ($END - $START)" | bc) samples/s"
else
  echo "pafas synth is not wired yet; call PaFas.Host.Data.SyntheticWorld.Generate(new SynthOptions { Out, PerDomain = $PER, Size = $SIZE, Threads = $THREADS })"
  echo "(SynthResult.Seconds is the generation time without start-up)"
  exit 2
fi
