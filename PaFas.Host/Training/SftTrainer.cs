using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>What <see cref="SftTrainer.Run"/> did.</summary>
/// <param name="Checkpoint">final/ when all steps were done, else last/.</param>
/// <param name="FirstLoss">Mean loss of the first logged window of this invocation (NaN when none).</param>
/// <param name="LastLoss">Mean loss of the last logged window.</param>
public sealed record SftResult(string RunDir, string Checkpoint, int Step, bool Completed, double FirstLoss, double LastLoss,
    double? BestMetric, string BestMetricName, int BestStep, int SkippedSteps, int TrainChains, int TrainSamples, int ValItems,
    int TruncatedChains, double Seconds);

/// <summary>Supervised fine-tuning: cross-entropy on the completion tokens of path-augmented (answer-shuffled)
/// chains, AdamW with warm-up + constant/cosine/linear schedule, gradient clipping and accumulation, periodic
/// validation with best/, last/ every --save-every steps, final/ at the end. Deterministic in (seed, threads)
/// and resumable: each step's batch and libtorch seed derive from (seed, step).</summary>
public static class SftTrainer
{
    public const string Stage = "sft";

    public static SftResult Run(SftOptions o, ILogger log)
    {
        var (dev, run, clock) = TrainingSession.Begin(o, log);
        var grammar = GrammarStore.Default;

        var chains = ChainFile.Load(o.Chains, o.Root);
        var (model, tok) = TrainingSession.CreateOrRestore(run, () => Fresh(o, grammar, dev, log), dev, log);
        var cfg = model.Config;
        var faces = new FaceCache(cfg.ImageSize);
        faces.Preload(chains.Select(c => c.ToSample()), o.Threads);

        var (train, held) = Split(chains, string.IsNullOrEmpty(o.Val) ? o.ValFraction : 0, o.Seed);
        int textBudget = cfg.MaxSeq - cfg.VisualTokens;
        var tokens = ChainTokens.Encode(train, tok, faces, textBudget, out int cut);
        if (cut > 0) log.LogWarning("{N} of {Total} chains are longer than the model's {Max} text positions and were cut", cut, tokens.Count, textBudget);
        Validator? validator = null;
        if (!string.IsNullOrEmpty(o.Val))
            validator = Validator.Load(o.Val, o.Root, grammar, tok, faces, textBudget, o.ValSamples, o.Seed, o.Threads, log);
        else if (held.Count > 0)
        {
            validator = Validator.FromChains(ChainTokens.Encode(held, tok, faces, textBudget, out _), held, faces, grammar);
            log.LogInformation("validation: {N} held-out chains of {S} samples (--val-fraction {F})", held.Count,
                held.Select(c => c.SampleId).Distinct().Count(), o.ValFraction);
        }
        int trainSamples = train.Select(c => c.SampleId).Distinct().Count();
        long parameters = model.parameters().Sum(p => p.numel());
        log.LogInformation("sft: {Chains} chains of {Samples} samples ({Shuffle}), model {Preset} ({Params:N0} parameters, image {Size}px) on {Device}",
            tokens.Count, trainSamples, string.Join(",", train.Select(c => c.Shuffle).Distinct()), cfg.Name, parameters, cfg.ImageSize, dev);

        var extra = new Dictionary<string, string>
        {
            ["chains"] = Path.GetFullPath(o.Chains),
            ["train_chains"] = tokens.Count.ToString(CultureInfo.InvariantCulture),
            ["train_samples"] = trainSamples.ToString(CultureInfo.InvariantCulture),
            ["val_items"] = (validator?.Count ?? 0).ToString(CultureInfo.InvariantCulture),
            ["parameters"] = parameters.ToString(CultureInfo.InvariantCulture),
            ["model"] = cfg.Name,
        };
        run.WriteConfig(Stage, o, cfg.Name, o.Seed, extra, log);

        using var session = new TrainingSession(o, Stage, log, run, model, tok, dev, new Dictionary<string, string> { ["chains"] = extra["chains"] });
        if (session.Step >= o.Steps && Directory.Exists(run.FinalDir))
        {
            log.LogInformation("{Dir}: already trained for {Step} steps (--steps {Steps}); nothing to do", run.Dir, session.Step, o.Steps);
            return Result(o, run, session, true, double.NaN, double.NaN, tokens.Count, trainSamples, validator, cut, clock);
        }

        model.train();
        session.Start();
        double firstLoss = double.NaN, lastLoss = double.NaN, windowLoss = 0;
        int windowSteps = 0, perStep = o.Batch * o.GradAccum;
        while (session.Step < o.Steps)
        {
            if (o.Cancel.IsCancellationRequested) { log.LogWarning("sft: stopped at step {Step}; writing last/", session.Step); break; }
            double lr = session.BeginStep();
            var rng = StepSeed.Rng(o.Seed, session.Step, StepSeed.Batch);
            var chosen = Sampling.Choose(rng, tokens.Count, perStep).Select(i => tokens[i]).ToList();
            long targets = chosen.Sum(c => (long)c.CompletionLength);
            var (loss, bad) = SftLoss.Backward(model, tok, dev, chosen, o.Batch, o.InjectNaN?.Invoke(session.Step + 1) == true);
            double norm = double.NaN;
            if (bad) session.SkipUpdate(loss);
            else norm = session.ApplyUpdate(loss).GradNorm;
            session.EndStep();
            session.SamplesSeen += chosen.Count;
            session.TokensSeen += chosen.Sum(c => (long)c.Tokens.Length);
            if (double.IsFinite(loss) && double.IsFinite(norm)) { windowLoss += loss; windowSteps++; }

            bool last = session.Step >= o.Steps;
            bool logNow = session.Due(o.LogEvery) || last;
            double shown = windowSteps > 0 ? windowLoss / windowSteps : double.NaN;
            session.Report(logNow ? shown : loss, lr, norm, chosen.Count, new Dictionary<string, object?>
            {
                ["completion_tokens"] = (double)targets / chosen.Count,
            }, logNow);
            if (logNow)
            {
                if (double.IsNaN(firstLoss)) firstLoss = shown;
                lastLoss = shown;
                windowLoss = 0; windowSteps = 0;
            }
            if (validator != null && (session.Due(o.EvalEvery) || last))
                session.ReportValidation(validator.Run(model, tok, dev, o.ValBatch, o.MaxNew));
            if (session.Due(o.SaveEvery) && !last) session.Save(RunFolder.Last, withOptimizer: true);
        }
        bool completed = session.Step >= o.Steps;
        session.Finish(completed);
        log.LogInformation("sft: {State} at step {Step}; run folder {Dir}", completed ? "finished" : "stopped", session.Step, run.Dir);
        return Result(o, run, session, completed, firstLoss, lastLoss, tokens.Count, trainSamples, validator, cut, clock);
    }

    private static SftResult Result(SftOptions o, RunFolder run, TrainingSession s, bool completed, double first, double last,
        int chains, int samples, Validator? v, int cut, System.Diagnostics.Stopwatch clock) =>
        new(run.Dir, completed ? run.FinalDir : run.LastDir, s.Step, completed, first, last, s.BestMetric, s.BestMetricName, s.BestStep,
            s.SkippedSteps, chains, samples, v?.Count ?? 0, cut, clock.Elapsed.TotalSeconds);

    /// <summary>A fresh model from the preset (weights seeded by the run seed) or the --init checkpoint (a checkpoint
    /// or run folder, or a shipped pretrained pack such as data/pretrained/small).</summary>
    private static (PaFasModel, Tokenizer) Fresh(SftOptions o, Grammar grammar, Device dev, ILogger log)
    {
        if (!string.IsNullOrEmpty(o.Init))
        {
            if (PretrainedPack.IsPack(o.Init))
            {
                var (pm, pt, info) = PretrainedPack.Load(o.Init, dev);
                log.LogInformation("sft: initial weights from the pretrained pack {Dir} ({Info})", o.Init, info);
                return (pm, pt);
            }
            var dir = CheckpointFolder.Resolve(o.Init);
            var (m, t, meta) = Checkpoint.Load(dir, dev);
            log.LogInformation("sft: initial weights from {Dir} ({Stage} step {Step})", dir, meta.Stage, meta.Step);
            return (m, t);
        }
        return FromPreset(o.ModelSize, o.ImageSize, o.Seed, grammar);
    }

    /// <summary>A fresh model of a preset (image side overridden when &gt; 0), its weights seeded from the run seed.</summary>
    public static (PaFasModel, Tokenizer) FromPreset(string preset, int imageSize, int runSeed, Grammar grammar)
    {
        var cfg = ModelConfig.Preset(preset, GrammarStore.DefaultDataDir());
        if (imageSize > 0) cfg = cfg with { ImageSize = imageSize };
        cfg.Validate();
        var tok = Tokenizer.Build(grammar);
        // PaFasModel's seed alone does not fix every initial weight (some draw from libtorch's global generator):
        // seed that too, so the same --seed gives the same initial model.
        int seed = StepSeed.Derive(runSeed, 0, StepSeed.Init);
        torch.manual_seed(seed);
        return (new PaFasModel(cfg, tok.VocabSize, seed), tok);
    }

    /// <summary>Holds out <paramref name="fraction"/> of the samples (every chain of a held-out sample) with a
    /// seeded choice; fraction 0 or fewer than 2 samples = no hold-out.</summary>
    public static (List<ChainRecord> Train, List<ChainRecord> Held) Split(IReadOnlyList<ChainRecord> chains, double fraction, int seed)
    {
        var ids = chains.Select(c => c.SampleId).Distinct().Order(StringComparer.Ordinal).ToList();
        int k = (int)Math.Round(ids.Count * fraction);
        if (fraction <= 0 || ids.Count < 2) return (chains.ToList(), new List<ChainRecord>());
        k = Math.Clamp(k, 1, ids.Count - 1);
        var rng = new Random(StepSeed.Derive(seed, 0, StepSeed.Validation));
        var held = ids.OrderBy(_ => rng.Next()).Take(k).ToHashSet(StringComparer.Ordinal);
        return (chains.Where(c => !held.Contains(c.SampleId)).ToList(), chains.Where(c => held.Contains(c.SampleId)).ToList());
    }
}

/// <summary>Seeded index sampling.</summary>
public static class Sampling
{
    /// <summary><paramref name="k"/> indices in [0, n): without replacement when k &lt;= n (partial Fisher-Yates),
    /// else every index k / n times plus a random remainder.</summary>
    public static int[] Choose(Random rng, int n, int k)
    {
        if (n < 1) throw new ArgumentException("nothing to sample from");
        var result = new int[k];
        int filled = 0;
        while (filled < k)
        {
            var idx = Enumerable.Range(0, n).ToArray();
            int take = Math.Min(n, k - filled);
            for (int i = 0; i < take; i++)
            {
                int j = i + rng.Next(n - i);
                (idx[i], idx[j]) = (idx[j], idx[i]);
                result[filled++] = idx[i];
            }
        }
        return result;
    }
}
