using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Augmentation;
using PaFas.Host.Bench;
using PaFas.Host.Data;
using PaFas.Host.Model;
using PaFas.Host.Training;
using TorchSharp;
using static TorchSharp.torch;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas bench</c>: throughput of the synthetic world (samples/s), PNRPS augmentation (chains/s), the
/// model's training step and generation (model, sft), cached and uncached decoding (decode), the GRPO step split
/// (grpo), the predictor (predict), memory (memory, peak) and the achieved FLOP/s against the matmul peak (sft);
/// medians of <c>--repeat</c> runs, written to bench.json and bench.md (see <see cref="BenchReport"/>).</summary>
public static class BenchCommand
{
    public static int Run(BenchOptions a, ILogger log)
    {
        OutputGuard.Folder("--out", a.Out, null, GuardedInput.Model("--model", a.Model));
        var report = Measure(a, log);
        int threads = a.Threads > 0 ? a.Threads : torch.get_num_threads();
        report.Write(a.Out, threads);
        Console.WriteLine(report.ToMarkdown(threads));
        log.LogInformation("bench: wrote {Dir}/bench.json and bench.md", a.Out);
        return 0;
    }

    /// <summary>Runs the targets of <paramref name="a"/> and returns the report (nothing written).</summary>
    public static BenchReport Measure(BenchOptions a, ILogger log)
    {
        TorchRuntime.SetThreads(a.Threads);
        a.Validate();
        var what = a.Expanded;
        var report = new BenchReport();
        var tmp = Path.Combine(Path.GetTempPath(), "pafas-bench-" + Environment.ProcessId);
        try
        {
            var world = SyntheticWorld.Generate(new SynthOptions { Out = Path.Combine(tmp, "warm"), PerDomain = 20, Seed = a.Seed });
            BenchSetup? setup = null;
            BenchSetup Setup()
            {
                if (setup != null) return setup;
                setup = new BenchSetup(a.ModelSize, a.Model, world.ManifestPath, a.Seed, TorchRuntime.ResolveDevice(a.Device));
                Describe(report, setup, a);
                return setup;
            }
            foreach (var w in what)
                switch (w)
                {
                    case "synth":
                        report.Add(Measure("synth.samples_per_s", "synthetic world (4 domains x 100, 64x64, PNG files)", "samples/s", a.Repeat, log, r =>
                        {
                            var res = SyntheticWorld.Generate(new SynthOptions { Out = Path.Combine(tmp, "s" + r), PerDomain = 100, Seed = a.Seed + r, Threads = a.Threads });
                            return res.Samples / res.Seconds;
                        }));
                        break;
                    case "augment":
                        report.Add(Measure("augment.chains_per_s", "augmentation (80 samples x N = 50 PNRPS paths, answer shuffle)", "chains/s", a.Repeat, log, r =>
                        {
                            var sw = Stopwatch.StartNew();
                            var res = Augmenter.Run(new AugmentOptions { Data = world.ManifestPath, Out = Path.Combine(tmp, $"c{r}.jsonl"), Paths = 50, Seed = r, Threads = a.Threads }, GrammarStore.Default);
                            return res.Chains / sw.Elapsed.TotalSeconds;
                        }));
                        break;
                    case "model":
                        foreach (var preset in new[] { "tiny", "small" }) report.AddRange(ModelBench(preset, world.ManifestPath, a, log));
                        break;
                    case "memory":
                        report.Add(MemoryBench(world.ManifestPath, a, log));
                        break;
                    case "peak":
                        report.AddRange(PeakBench.Run(Setup(), world.ManifestPath, tmp, a.Threads, a.Device, log));
                        break;
                    case "sft":
                        report.AddRange(SftBench.Run(Setup(), a.Repeat, log));
                        break;
                    case "decode":
                        report.AddRange(DecodeBench.Run(Setup(), a.Repeat, log));
                        break;
                    case "grpo":
                        report.AddRange(GrpoBench.Run(Setup(), world.ManifestPath, tmp, a.Repeat, a.Threads, a.Device, log));
                        break;
                    case "predict":
                        report.AddRange(PredictBench.Run(Setup(), tmp, a.Device, a.Repeat, log));
                        break;
                    default:
                        throw new ArgumentException($"--what must be one of {string.Join(", ", BenchOptions.Targets)} or all, got '{w}'");
                }
        }
        finally
        {
            try { Directory.Delete(tmp, true); } catch (IOException) { }
        }
        return report;
    }

    /// <summary>The workload of the model benchmarks, for the PyTorch reference and for readers of bench.json.</summary>
    private static void Describe(BenchReport report, BenchSetup s, BenchOptions a)
    {
        int t = s.TextTokens, vocab = s.Tokenizer.VocabSize;
        using var m = s.NewModel();
        var spec = report.Spec;
        spec["preset"] = s.Config.Name;
        spec["checkpoint"] = s.Checkpoint;
        spec["config"] = s.Config;
        spec["vocab"] = vocab;
        spec["parameters"] = m.ParameterCount;
        spec["text_tokens"] = t;
        spec["visual_tokens"] = s.Config.VisualTokens;
        spec["sft_batches"] = SftBench.Batches;
        spec["sft_flops_per_step"] = SftBench.Batches.ToDictionary(b => b.ToString(CultureInfo.InvariantCulture), b => Flops.TrainStep(s.Config, vocab, t, b));
        spec["forward_flops_per_sample"] = Flops.Forward(s.Config, vocab, t).Total;
        spec["decode_new_tokens"] = DecodeBench.NewTokens;
        spec["decode_prompt_tokens"] = Prompt.Encode(s.Tokenizer, s.Faces[0]).Length;
        spec["matmul_size"] = SftBench.MatmulSize;
        spec["threads"] = a.Threads > 0 ? a.Threads : torch.get_num_threads();
    }

    private static BenchEntry Measure(string key, string name, string unit, int repeat, ILogger log, Func<int, double> once)
    {
        var e = BenchEntry.Of(key, name, unit, Enumerable.Range(0, Math.Max(1, repeat)).Select(once).ToArray());
        log.LogInformation("bench {Name}: median {Median:F1} (runs: {Runs})", name, e.Median, string.Join(", ", e.Runs.Select(x => x.ToString("F1"))));
        return e;
    }

    /// <summary>Resident memory over 500 SFT steps of the tiny preset (batch 8): RSS after step 100 and after step
    /// 500, and the growth between them in MiB (flat memory = dispose scopes release every step's tensors).</summary>
    private static BenchEntry MemoryBench(string manifest, BenchOptions a, ILogger log)
    {
        var g = GrammarStore.Default;
        var cfg = ModelConfig.Preset("tiny", GrammarStore.DefaultDataDir());
        var tok = Tokenizer.Build(g);
        var dev = TorchRuntime.ResolveDevice(a.Device);
        var faces = ImageLoader.LoadBatch(Manifest.Load(manifest).Take(8).ToList(), cfg.ImageSize);
        var chains = BenchSetup.TypicalChains(tok, faces, BenchSetup.TypicalCompletion(tok));
        using var model = new PaFasModel(cfg, tok.VocabSize, a.Seed);
        model.to(dev);
        var opt = optim.AdamW(model.parameters(), 1e-4);
        var rss = new List<double>();
        var proc = Process.GetCurrentProcess();
        for (int step = 1; step <= 500; step++)
        {
            using (var scope = NewDisposeScope())
            {
                using var vb = VisionBatch.From(faces, dev);
                using var batch = SftBatch.Build(chains, tok.Pad, dev);
                opt.zero_grad();
                SftLoss.Mean(model, vb, batch).backward();
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
        return BenchEntry.Single("memory.rss_growth_mib", $"RSS growth from SFT step 100 to 500 (tiny, batch 8; RSS {at100:F0} -> {at500:F0} MiB)", "MiB", at500 - at100);
    }

    /// <summary>Training-step and generation throughput of one preset on chain-length sequences (batch 16).</summary>
    private static IEnumerable<BenchEntry> ModelBench(string preset, string manifest, BenchOptions a, ILogger log)
    {
        var g = GrammarStore.Default;
        var cfg = ModelConfig.Preset(preset, GrammarStore.DefaultDataDir());
        var tok = Tokenizer.Build(g);
        var dev = TorchRuntime.ResolveDevice(a.Device);
        var samples = Manifest.Load(manifest).Take(16).ToList();
        var faces = ImageLoader.LoadBatch(samples, cfg.ImageSize);
        // A typical chain: about 130 completion tokens.
        var chains = BenchSetup.TypicalChains(tok, faces, BenchSetup.TypicalCompletion(tok));
        using var model = new PaFasModel(cfg, tok.VocabSize, a.Seed);
        model.to(dev);
        using var vb = VisionBatch.From(faces, dev);
        using var batch = SftBatch.Build(chains, tok.Pad, dev);
        var opt = optim.AdamW(model.parameters(), 1e-4);
        long nTok = chains.Sum(c => c.Tokens.Length);
        var train = Measure($"model.{preset}.train_tokens_per_s", $"{preset} ({model.ParameterCount:N0} params): SFT train tokens/s (batch 16 x {chains[0].Tokens.Length} tokens + {cfg.VisualTokens} visual)", "tokens/s", a.Repeat + 1, log, r =>
        {
            var sw = Stopwatch.StartNew();
            for (int k = 0; k < 3; k++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                SftLoss.Mean(model, vb, batch).backward();
                opt.step();
            }
            return 3 * nTok / sw.Elapsed.TotalSeconds;
        });
        var gen = Measure($"model.{preset}.generate_tokens_per_s", $"{preset}: generation tokens/s (batch 16, 128 new tokens, KV cache, sampling)", "tokens/s", a.Repeat, log, r =>
        {
            var sw = Stopwatch.StartNew();
            var res = Rollouts.Run(model, tok, faces, new RolloutOptions(new GenerationOptions(128, Temperature: 1.0, Seed: r), LiveScore: false));
            return res.Sum(c => c.Completion.Length + 1) / sw.Elapsed.TotalSeconds;
        });
        return new[] { train, gen };
    }
}
