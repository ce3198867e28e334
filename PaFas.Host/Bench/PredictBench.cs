using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PaFas.Host.Inference;

namespace PaFas.Host.Bench;

/// <summary>The public predictor (<see cref="FaceAntiSpoofer"/>: greedy chain + live score) on decoded faces: latency
/// p50/p95 of single-face calls and the throughput of 32-face batches. Fresh weights rarely emit EOS, so with no
/// --model the chain is capped at 128 tokens (the demo's chains are about 130); a trained checkpoint decides its
/// own lengths (cap 256, the predictor's default).</summary>
public static class PredictBench
{
    public const int FreshMaxNewTokens = 128, BatchSize = 32;

    public static IEnumerable<BenchEntry> Run(BenchSetup s, string tmp, string device, int repeat, ILogger log)
    {
        using var fas = FaceAntiSpoofer.Load(s.CheckpointOrFresh(tmp), device);
        if (s.Checkpoint == "") fas.MaxNewTokens = FreshMaxNewTokens;
        fas.Predict(s.Faces[0]);   // warm-up
        int n = Math.Max(20, 10 * repeat);
        var lat = new double[n];
        var lengths = new List<double>();
        for (int i = 0; i < n; i++)
        {
            var sw = Stopwatch.StartNew();
            var p = fas.Predict(s.Faces[i % s.Faces.Count]);
            lat[i] = sw.Elapsed.TotalMilliseconds;
            lengths.Add(s.Tokenizer.Encode(p.Completion).Length);
        }
        var sorted = lat.OrderBy(x => x).ToArray();
        var batch = Enumerable.Range(0, BatchSize).Select(i => s.Faces[i % s.Faces.Count]).ToList();
        var rates = new double[repeat];
        for (int r = 0; r < repeat; r++)
        {
            var sw = Stopwatch.StartNew();
            fas.PredictBatch(batch);
            rates[r] = BatchSize / sw.Elapsed.TotalSeconds;
        }
        string what = s.Checkpoint == "" ? $"{s.Config.Name}, fresh weights, {FreshMaxNewTokens}-token cap" : $"{s.Config.Name}, {s.Checkpoint}";
        log.LogInformation("bench predict: p50 {P50:F1} ms, p95 {P95:F1} ms, batch {B}: {Rate:F1} faces/s", BenchEntry.Quantile(sorted, 0.5), BenchEntry.Quantile(sorted, 0.95), BatchSize, rates.Max());
        return new[]
        {
            BenchEntry.Of("predict.b1.latency_ms", $"predictor latency, batch 1 ({what}); median = p50", "ms", lat),
            BenchEntry.Single("predict.b1.p50_ms", "predictor latency p50, batch 1 (target <= 30)", "ms", BenchEntry.Quantile(sorted, 0.5)),
            BenchEntry.Single("predict.b1.p95_ms", "predictor latency p95, batch 1", "ms", BenchEntry.Quantile(sorted, 0.95)),
            BenchEntry.Of($"predict.b{BatchSize}.faces_per_s", $"predictor throughput, batch {BatchSize}", "faces/s", rates),
            BenchEntry.Of("predict.completion_tokens", "predictor completion length (batch 1 calls)", "tokens", lengths),
        };
    }
}
