using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;
using Generator = PaFas.Host.Model.Generator;

namespace PaFas.Host.Bench;

/// <summary>Greedy decoding of one face (batch 1) for exactly N new tokens (EOS does not stop it): with the KV cache
/// (<see cref="Rollouts.Run"/>, the path of predict, eval, validation and GRPO) and without it (every step runs the whole
/// sequence through the model again). Tokens/s = N / wall time, prefill included.</summary>
public static class DecodeBench
{
    public static readonly int[] NewTokens = { 32, 128, 256 };
    private static readonly GenerationOptions Greedy = new(Temperature: 0);
    private static readonly Random Rng = new(0);   // unused by greedy picking

    /// <summary>Cached greedy decoding of exactly <paramref name="n"/> tokens through the rollout engine (no live score).</summary>
    public static Rollout Exactly(PaFasModel m, Tokenizer tok, FaceTensors face, int n) =>
        Rollouts.Run(m, tok, new[] { face }, new RolloutOptions(new GenerationOptions(n, StopAtEos: false), LiveScore: false))[0];

    /// <summary>Uncached greedy decoding: N full forward passes over prompt + the tokens so far.</summary>
    public static int[] Uncached(PaFasModel m, Tokenizer tok, VisionBatch vb, int[] prompt, int n)
    {
        var seq = new List<int>(prompt);
        var result = new int[n];
        using var noGrad = no_grad();
        for (int k = 0; k < n; k++)
        {
            using var scope = NewDisposeScope();
            var ids = torch.tensor(seq.Select(x => (long)x).ToArray(), new long[] { 1, seq.Count }).to(m.Device);
            var logits = m.Forward(vb, ids, null, null);
            var last = logits.select(1, -1).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            result[k] = Generator.Pick(last, Greedy, Rng);
            seq.Add(result[k]);
        }
        return result;
    }

    /// <summary>Cost of one small native tensor operation as the model issues them (an addition of two [1, 192]
    /// tensors inside a dispose scope) in microseconds: at batch 1 a decoding step is a few hundred such operations,
    /// so this bounds the cached decoding rate.</summary>
    public static double[] OpMicroseconds(int repeat)
    {
        using var a = torch.randn(1, 192);
        using var b2 = torch.randn(1, 192);
        const int n = 20000;
        var result = new double[repeat];
        for (int r = 0; r < repeat; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i += 100)
            {
                using var scope = NewDisposeScope();
                for (int k = 0; k < 100; k++) Ops.Add(a, b2);
            }
            result[r] = sw.Elapsed.TotalMilliseconds * 1000 / n;
        }
        return result;
    }

    public static IEnumerable<BenchEntry> Run(BenchSetup s, int repeat, ILogger log)
    {
        using var model = s.NewModel();
        model.eval();
        var face = s.Faces[0];
        using var vb = VisionBatch.From(new[] { face }, s.Device);
        var prompt = Prompt.Encode(s.Tokenizer, face);
        int room = s.Config.MaxSeq - s.Config.VisualTokens - prompt.Length;
        var entries = new List<BenchEntry>();
        // warm-up
        Exactly(model, s.Tokenizer, face, 8);
        Uncached(model, s.Tokenizer, vb, prompt, 4);
        var rates = new Dictionary<(int, bool), double>();
        foreach (var n in NewTokens)
        {
            if (n > room)
            {
                log.LogWarning("bench decode: {N} new tokens do not fit the model's {Max} positions; skipped", n, s.Config.MaxSeq);
                continue;
            }
            foreach (var cached in new[] { true, false })
            {
                var runs = new double[repeat];
                for (int r = 0; r < repeat; r++)
                {
                    var sw = Stopwatch.StartNew();
                    int made = cached
                        ? Exactly(model, s.Tokenizer, face, n).Completion.Length
                        : Uncached(model, s.Tokenizer, vb, prompt, n).Length;
                    runs[r] = made / sw.Elapsed.TotalSeconds;
                }
                var name = cached ? "cached" : "uncached";
                var e = BenchEntry.Of($"decode.{name}.n{n}.tokens_per_s", $"greedy decoding, {s.Config.Name}, batch 1, {n} new tokens, {(cached ? "KV cache" : "no cache")}", "tokens/s", runs);
                rates[(n, cached)] = e.Median;
                log.LogInformation("bench decode {Kind} {N}: {Rate:F0} tokens/s", name, n, e.Median);
                entries.Add(e);
            }
        }
        entries.Add(BenchEntry.Of("decode.op_overhead_us", "one small tensor operation (add of two 1 x 192 tensors)", "us", OpMicroseconds(repeat)));
        foreach (var n in NewTokens.Where(n => rates.ContainsKey((n, true)) && rates.ContainsKey((n, false))))
            entries.Add(BenchEntry.Single($"decode.n{n}.cache_speedup", $"KV cache speed-up at {n} new tokens (target >= 5 at 128)", "ratio", rates[(n, true)] / rates[(n, false)]));
        return entries;
    }
}
