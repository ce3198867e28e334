using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Augmentation;
using PaFas.Host.Data;
using PaFas.Host.IO;
using PaFas.Host.Model;
using PaFas.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Commands;

/// <summary><c>pafas bench</c>: throughput of the synthetic world (samples/s), PNRPS augmentation (chains/s), the
/// model's SFT training step (tokens/s) and KV-cached generation (tokens/s), median of <c>--repeat</c> runs,
/// written to bench.json and bench.md.</summary>
public static class BenchCommand
{
    public static int Run(BenchArgs a, ILogger log)
    {
        var what = a.What == "all" ? new[] { "synth", "augment", "model", "memory" } : new[] { a.What };
        var results = new List<Dictionary<string, object>>();
        var tmp = Path.Combine(Path.GetTempPath(), "pafas-bench-" + Environment.ProcessId);
        try
        {
            var world = SyntheticWorld.Generate(new SynthOptions { OutDir = Path.Combine(tmp, "warm"), PerDomain = 20, Seed = a.Common.Seed });
            foreach (var w in what)
                switch (w)
                {
                    case "synth":
                        results.Add(Measure("synth: samples/s (4 domains x 100, 64x64, PNG files)", a.Repeat, log, r =>
                        {
                            var res = SyntheticWorld.Generate(new SynthOptions { OutDir = Path.Combine(tmp, "s" + r), PerDomain = 100, Seed = a.Common.Seed + r, Threads = a.Common.Threads });
                            return res.Samples / res.Seconds;
                        }));
                        break;
                    case "augment":
                        results.Add(Measure("augment: chains/s (80 samples x N = 50 PNRPS paths, answer shuffle)", a.Repeat, log, r =>
                        {
                            var sw = Stopwatch.StartNew();
                            var res = Augmenter.Run(new AugmentOptions { Data = world.ManifestPath, Out = Path.Combine(tmp, $"c{r}.jsonl"), Paths = 50, Seed = r, Threads = a.Common.Threads }, GrammarStore.Default);
                            return res.Chains / sw.Elapsed.TotalSeconds;
                        }));
                        break;
                    case "model":
                        foreach (var preset in new[] { "tiny", "small" }) results.AddRange(ModelBench(preset, world.ManifestPath, a, log));
                        break;
                    case "memory":
                        results.Add(MemoryBench(world.ManifestPath, a, log));
                        break;
                    default:
                        throw new ArgumentException($"--what must be synth, augment, model, memory or all, got '{w}'");
                }
        }
        finally
        {
            try { Directory.Delete(tmp, true); } catch (IOException) { }
        }
        Directory.CreateDirectory(a.Out);
        AtomicFile.WriteAllText(Path.Combine(a.Out, "bench.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        var md = new StringBuilder($"# pafas bench ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, threads {(a.Common.Threads > 0 ? a.Common.Threads : torch.get_num_threads())})\n\n| measure | median | min | max |\n|---|---:|---:|---:|\n");
        foreach (var r in results) md.Append($"| {r["name"]} | {r["median"]:F1} | {r["min"]:F1} | {r["max"]:F1} |\n");
        AtomicFile.WriteAllText(Path.Combine(a.Out, "bench.md"), md.ToString());
        Console.WriteLine(md.ToString());
        return 0;
    }

    private static Dictionary<string, object> Measure(string name, int repeat, ILogger log, Func<int, double> once)
    {
        var xs = Enumerable.Range(0, Math.Max(1, repeat)).Select(r => once(r)).OrderBy(x => x).ToArray();
        log.LogInformation("bench {Name}: median {Median:F1} (runs: {Runs})", name, xs[xs.Length / 2], string.Join(", ", xs.Select(x => x.ToString("F1"))));
        return new Dictionary<string, object> { ["name"] = name, ["median"] = xs[xs.Length / 2], ["min"] = xs[0], ["max"] = xs[^1], ["runs"] = xs };
    }

    /// <summary>Resident memory over 500 SFT steps of the tiny preset (batch 8): RSS after step 100 and after step
    /// 500, and the growth between them in MiB (flat memory = dispose scopes release every step's tensors).</summary>
    private static Dictionary<string, object> MemoryBench(string manifest, BenchArgs a, ILogger log)
    {
        var g = GrammarStore.Default;
        var cfg = ModelConfig.Preset("tiny");
        var tok = Tokenizer.Build(g);
        var dev = TorchRuntime.ResolveDevice(a.Common.Device);
        var faces = ImageLoader.LoadBatch(Manifest.Load(manifest).Take(8).ToList(), cfg.ImageSize);
        var path = string.Join(" ", Enumerable.Repeat("In the depth map the face region is flat with no facial relief. This points to Spoof Face.", 6));
        var completion = tok.Encode(GrammarModule.renderText(path, Microsoft.FSharp.Collections.ListModule.OfSeq(new[] { "Real Face" })));
        var seqs = faces.Select(f => Prompt.Encode(tok, f).Concat(completion).Append(tok.Eos).ToArray()).ToList();
        using var model = new PaFasModel(cfg, tok.VocabSize, a.Common.Seed);
        model.to(dev);
        var opt = optim.AdamW(model.parameters(), 1e-4);
        var rss = new List<double>();
        var proc = Process.GetCurrentProcess();
        for (int step = 1; step <= 500; step++)
        {
            using (var scope = NewDisposeScope())
            {
                using var vb = VisionBatch.From(faces, dev);
                var (tokens, att) = Sequences.PadRight(seqs, tok.Pad, dev);
                opt.zero_grad();
                var logits = model.Logits(vb, tokens, att);
                var loss = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, logits.shape[^1]), tokens[.., 1..].reshape(-1));
                loss.backward();
                opt.step();
            }
            if (step % 50 == 0)
            {
                proc.Refresh();
                rss.Add(proc.WorkingSet64 / 1048576.0);
            }
        }
        double at100 = rss[1], at500 = rss[^1];
        log.LogInformation("bench memory: RSS every 50 steps (MiB): {Rss}", string.Join(", ", rss.Select(x => x.ToString("F0"))));
        return new Dictionary<string, object>
        {
            ["name"] = $"memory: RSS growth from SFT step 100 to 500, MiB (tiny, batch 8; RSS {at100:F0} -> {at500:F0} MiB)",
            ["median"] = at500 - at100, ["min"] = at500 - at100, ["max"] = at500 - at100, ["runs"] = rss.ToArray(),
        };
    }

    /// <summary>Training-step and generation throughput of one preset on chain-length sequences (batch 16).</summary>
    private static IEnumerable<Dictionary<string, object>> ModelBench(string preset, string manifest, BenchArgs a, ILogger log)
    {
        var g = GrammarStore.Default;
        var cfg = ModelConfig.Preset(preset);
        var tok = Tokenizer.Build(g);
        var dev = TorchRuntime.ResolveDevice(a.Common.Device);
        var samples = Manifest.Load(manifest).Take(16).ToList();
        var faces = ImageLoader.LoadBatch(samples, cfg.ImageSize);
        // A typical chain: about 130 completion tokens.
        var path = string.Join(" ", Enumerable.Repeat("In the depth map the face region is flat with no facial relief. This points to Spoof Face.", 6));
        var completion = tok.Encode(GrammarModule.renderText(path, Microsoft.FSharp.Collections.ListModule.OfSeq(new[] { "Real Face" })));
        var seqs = faces.Select(f => Prompt.Encode(tok, f).Concat(completion).Append(tok.Eos).ToArray()).ToList();
        using var model = new PaFasModel(cfg, tok.VocabSize, a.Common.Seed);
        model.to(dev);
        using var vb = VisionBatch.From(faces, dev);
        var (tokens, att) = Sequences.PadRight(seqs, tok.Pad, dev);
        var opt = optim.AdamW(model.parameters(), 1e-4);
        long nTok = seqs.Sum(s => s.Length);
        var train = Measure($"{preset} ({model.ParameterCount:N0} params): SFT train tokens/s (batch 16 x {seqs[0].Length} tokens + {cfg.VisualTokens} visual)", a.Repeat + 1, log, r =>
        {
            var sw = Stopwatch.StartNew();
            for (int k = 0; k < 3; k++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                var logits = model.Logits(vb, tokens, att);
                var loss = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, logits.shape[^1]), tokens[.., 1..].reshape(-1));
                loss.backward();
                opt.step();
            }
            return 3 * nTok / sw.Elapsed.TotalSeconds;
        });
        var prompts = faces.Select(f => Prompt.Encode(tok, f)).ToList();
        var gen = Measure($"{preset}: generation tokens/s (batch 16, 128 new tokens, KV cache, sampling)", a.Repeat, log, r =>
        {
            var sw = Stopwatch.StartNew();
            var res = PaFas.Host.Model.Generator.Generate(model, tok, vb, prompts, new GenerationOptions(128, 1.0, 1.0, r));
            return res.Completions.Sum(c => c.Length + 1) / sw.Elapsed.TotalSeconds;
        });
        tokens.Dispose(); att.Dispose();
        return new[] { train, gen };
    }
}
