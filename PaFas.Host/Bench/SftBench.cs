using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PaFas.Host.Model;
using PaFas.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Bench;

/// <summary>The SFT step as the trainer runs it, on a fixed batch: zero_grad, forward, cross-entropy summed over the
/// completion tokens / their count, backward, gradient clipping at norm 1, AdamW (lr 1e-4, betas 0.9/0.999,
/// eps 1e-8, weight decay 0.01). Batch building and image upload are outside the timed step (the PyTorch
/// reference times the same thing). Also: the achieved FLOP/s against libtorch's large-matmul peak.</summary>
public static class SftBench
{
    public static readonly int[] Batches = { 1, 8, 32 };
    /// <summary>Side of the square matrices of the peak measurement.</summary>
    public const int MatmulSize = 2048;

    /// <summary>Seconds per step: one warm-up step, then <paramref name="repeat"/> runs of <paramref name="steps"/> steps each.</summary>
    public static double[] StepSeconds(BenchSetup s, int batch, int repeat, int steps)
    {
        using var model = s.NewModel();
        model.train();
        using var opt = optim.AdamW(model.parameters(), 1e-4, 0.9, 0.999, 1e-8, 0.01);
        var items = s.Chains(batch);
        using var b = SftBatch.Build(items, s.Tokenizer.Pad, s.Device);
        using var vb = VisionBatch.From(items.Select(c => c.Face).ToList(), s.Device);
        void Step()
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = SftLoss.Mean(model, vb, b);
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            opt.step();
        }
        Step();
        var result = new double[repeat];
        for (int r = 0; r < repeat; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int k = 0; k < steps; k++) Step();
            result[r] = sw.Elapsed.TotalSeconds / steps;
        }
        return result;
    }

    public static IEnumerable<BenchEntry> Run(BenchSetup s, int repeat, ILogger log)
    {
        int t = s.TextTokens, vocab = s.Tokenizer.VocabSize;
        string shape = $"{t} text + {s.Config.VisualTokens} visual tokens";
        var entries = new List<BenchEntry>();
        double b32Seconds = double.NaN;
        foreach (var batch in Batches)
        {
            int steps = batch >= 32 ? 2 : batch >= 8 ? 3 : 10;
            var secs = StepSeconds(s, batch, repeat, steps);
            double median = BenchEntry.MedianOf(secs.OrderBy(x => x).ToArray());
            if (batch == 32) b32Seconds = median;
            double flops = Flops.TrainStep(s.Config, vocab, t, batch);
            log.LogInformation("bench sft batch {B}: {Ms:F1} ms/step ({Runs})", batch, median * 1e3, string.Join(", ", secs.Select(x => (x * 1e3).ToString("F1"))));
            entries.Add(BenchEntry.Of($"sft.b{batch}.step_ms", $"SFT step, {s.Config.Name}, batch {batch} x ({shape})", "ms", secs.Select(x => x * 1e3)));
            entries.Add(BenchEntry.Of($"sft.b{batch}.samples_per_s", $"SFT samples/s, batch {batch}", "samples/s", secs.Select(x => batch / x)));
            entries.Add(BenchEntry.Of($"sft.b{batch}.tokens_per_s", $"SFT text tokens/s, batch {batch}", "tokens/s", secs.Select(x => batch * t / x)));
            entries.Add(BenchEntry.Of($"sft.b{batch}.gflops", $"SFT achieved GFLOP/s, batch {batch} ({flops / 1e9:F2} GFLOP/step)", "GFLOP/s", secs.Select(x => flops / x / 1e9)));
        }
        var peak = Flops.MatmulRates(MatmulSize, Math.Max(3, repeat), s.Device).Select(x => x / 1e9).ToArray();
        var peakEntry = BenchEntry.Of("matmul.peak_gflops", $"libtorch float32 matmul {MatmulSize}x{MatmulSize}, same threads", "GFLOP/s", peak);
        entries.Add(peakEntry);
        double f32 = Flops.TrainStep(s.Config, vocab, t, 32) / b32Seconds / 1e9;
        entries.Add(BenchEntry.Single("sft.b32.peak_fraction", "SFT batch 32 GFLOP/s / matmul peak GFLOP/s (target >= 0.40)", "ratio", f32 / peakEntry.Median));
        return entries;
    }
}
