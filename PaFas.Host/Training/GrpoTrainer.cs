using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Inference;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;
using Generator = PaFas.Host.Model.Generator;

namespace PaFas.Host.Training;

/// <summary>What <see cref="GrpoTrainer.Run"/> did.</summary>
/// <param name="FirstReward">Mean total reward of the first step of this invocation.</param>
/// <param name="LastReward">Mean total reward over the last logged window.</param>
public sealed record GrpoResult(string RunDir, string Checkpoint, int Step, bool Completed, double FirstReward, double LastReward,
    double MeanZeroStdFraction, double? BestMetric, string BestMetricName, int BestStep, int SkippedSteps, int TrainSamples, double Seconds);

/// <summary>GRPO: for each step, P labelled prompts, G sampled completions each, rewards (format +
/// classification) and group-relative advantages from the core, then mu passes of the clipped token-level
/// surrogate (<see cref="GrpoLoss"/>) with the chosen aggregation, optional k3 KL to the frozen initial model.</summary>
public static class GrpoTrainer
{
    public const string Stage = "grpo";

    /// <summary>One step's sampled batch, ready for the loss.</summary>
    private sealed record Rollout(List<FaceTensors> Faces, List<int[]> Sequences, List<int> PromptLengths, double[] Advantages,
        RewardBreakdown[] Rewards, string[] Texts, int[] Lengths, bool[] Ended, double GenerateSeconds, double RewardSeconds);

    public static GrpoResult Run(GrpoOptions o, ILogger log)
    {
        o.Validate();
        TorchRuntime.SetThreads(o.Threads);
        var dev = TorchRuntime.ResolveDevice(o.Device);
        var grammar = GrammarStore.Default;
        var agg = o.Loss;
        var scale = o.Scale;
        var rcfg = o.RewardConfig;
        var run = RunFolder.Open(o.Out, o.Resume, o.Force, log);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var initDir = CheckpointFolder.Resolve(o.Init);
        var (model, tok) = TrainingSession.CreateOrRestore(run, () =>
        {
            var (m, t, meta) = Checkpoint.Load(initDir, dev);
            log.LogInformation("grpo: policy initialised from {Dir} ({Stage} step {Step})", initDir, meta.Stage, meta.Step);
            return (m, t);
        }, dev, log);
        PaFasModel? reference = null;
        if (o.Kl > 0)
        {
            reference = Checkpoint.Load(initDir, dev).Model;
            reference.eval();
            foreach (var p in reference.parameters()) p.requires_grad = false;
        }
        var cfg = model.Config;

        var domains = o.Domains.Select(d => d.Trim()).Where(d => d != "").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var samples = Manifest.Load(o.Data, new ManifestOptions { Root = o.Root })
            .Where(s => domains.Count == 0 || domains.Contains(s.Domain))
            .Where(s => TaxonomyModule.isValidLabel(grammar.Taxonomy, ListModule.OfSeq(s.Label)))
            .ToList();
        if (samples.Count == 0)
            throw new InvalidDataException($"{o.Data}: no sample with a full taxonomy label{(domains.Count > 0 ? " in domains " + string.Join(",", domains) : "")}");
        var faces = new FaceCache(cfg.ImageSize);
        faces.Preload(samples, o.Threads);
        var validator = string.IsNullOrEmpty(o.Val) ? null
            : Validator.Load(o.Val, o.Root, grammar, tok, faces, cfg.MaxSeq - cfg.VisualTokens, o.ValSamples, o.Seed, o.Threads, log);
        int maxLen = o.MaxNew; // completion tokens incl. EOS never exceed the generation budget
        run.WriteConfig(Stage, o, cfg.Name, o.Seed, new Dictionary<string, string>
        {
            ["init"] = initDir, ["data"] = Path.GetFullPath(o.Data), ["train_samples"] = samples.Count.ToString(CultureInfo.InvariantCulture),
        }, log);
        log.LogInformation("grpo: {N} prompts ({P} x {G} completions per step), loss {Loss}, scale {Scale}, eps {Lo}/{Hi}, beta {Beta}, mu {Mu}, T {T}",
            samples.Count, o.Prompts, o.Group, Grpo.aggregationText(agg), Grpo.scaleText(scale), o.EpsLow, o.EpsHigh, o.Kl, o.Iterations, o.Temperature);

        using var session = new TrainingSession(o, Stage, log, run, model, tok, dev, new Dictionary<string, string> { ["init"] = initDir });
        if (session.Step >= o.Steps && Directory.Exists(run.FinalDir))
        {
            log.LogInformation("{Dir}: already trained for {Step} steps; nothing to do", run.Dir, session.Step);
            return new GrpoResult(run.Dir, run.FinalDir, session.Step, true, double.NaN, double.NaN, double.NaN, session.BestMetric,
                session.BestMetricName, session.BestStep, 0, samples.Count, clock.Elapsed.TotalSeconds);
        }

        session.Start();
        double firstReward = double.NaN, windowReward = 0, lastReward = double.NaN, zeroStdSum = 0;
        int windowSteps = 0, stepsRun = 0;
        while (session.Step < o.Steps)
        {
            if (o.Cancel.IsCancellationRequested) { log.LogWarning("grpo: stopped at step {Step}; writing last/", session.Step); break; }
            double lr = session.BeginStep();
            var rng = StepSeed.Rng(o.Seed, session.Step, StepSeed.Batch);
            var chosen = Sampling.Choose(rng, samples.Count, o.Prompts).Select(i => samples[i]).ToList();
            var ro = Sample(model, tok, grammar, rcfg, scale, o, chosen, faces, dev, StepSeed.Derive(o.Seed, session.Step, StepSeed.Generation));
            var groups = Enumerable.Range(0, chosen.Count).Select(p => ro.Rewards.Skip(p * o.Group).Take(o.Group).Select(r => r.Total).ToArray()).ToArray();
            double zeroStd = Grpo.zeroStdFraction(groups);

            var updateClock = System.Diagnostics.Stopwatch.StartNew();
            double loss = 0, norm = 0, clip = 0, clipLow = 0, clipHigh = 0, kl = 0;
            bool signal = o.Kl > 0 || o.AlwaysUpdate || ro.Advantages.Any(a => a != 0);
            if (signal)
            {
                using var scope = torch.NewDisposeScope();
                var old = o.Iterations > 1 ? LogProbs(model, tok, ro, o.MicroBatch, dev) : null;
                var refLp = reference != null ? LogProbs(reference, tok, ro, o.MicroBatch, dev) : null;
                for (int it = 0; it < o.Iterations; it++)
                {
                    var (l, c, cl, ch, k, ok) = Update(model, tok, ro, old, refLp, agg, maxLen, o, dev);
                    if (!ok) { session.SkipUpdate(l); loss = l; break; }
                    var applied = session.ApplyUpdate(l);
                    loss = l; norm = applied.GradNorm; clip = c; clipLow = cl; clipHigh = ch; kl = k;
                }
            }
            else session.ApplyUpdate(0.0);
            double updateSeconds = updateClock.Elapsed.TotalSeconds;
            session.EndStep();
            stepsRun++;
            session.SamplesSeen += ro.Texts.Length;
            session.TokensSeen += ro.Sequences.Sum(s => (long)s.Length);
            double rewardMean = ro.Rewards.Average(r => r.Total);
            zeroStdSum += zeroStd;
            if (double.IsNaN(firstReward)) firstReward = rewardMean;
            windowReward += rewardMean; windowSteps++;

            bool last = session.Step >= o.Steps;
            bool logNow = session.Due(o.LogEvery) || last;
            var extra = new Dictionary<string, object?>
            {
                ["reward_mean"] = rewardMean,
                ["reward_std"] = Std(ro.Rewards.Select(r => r.Total)),
                ["reward_format"] = ro.Rewards.Average(r => r.Format),
                ["reward_class"] = ro.Rewards.Average(r => r.Classification),
                ["zero_std_fraction"] = zeroStd,
                ["completion_length"] = ro.Lengths.Average(),
                ["ended_fraction"] = ro.Ended.Average(e => e ? 1.0 : 0.0),
                ["clip_fraction"] = clip, ["clip_low"] = clipLow, ["clip_high"] = clipHigh,
                ["advantage_abs_mean"] = ro.Advantages.Average(Math.Abs),
                ["time_rollout_s"] = ro.GenerateSeconds, ["time_reward_s"] = ro.RewardSeconds, ["time_update_s"] = updateSeconds,
            };
            if (o.Kl > 0) extra["kl"] = kl;
            if (logNow && o.LogSamples > 0)
            {
                var shown = Enumerable.Range(0, Math.Min(o.LogSamples, ro.Texts.Length)).Select(i => i * o.Group % ro.Texts.Length).Distinct().ToList();
                extra["samples"] = shown.Select(i => $"[{chosen[i / o.Group].Id} | {string.Join(" > ", chosen[i / o.Group].Label)} | reward {ro.Rewards[i].Total:F2}] {ro.Texts[i]}").ToArray();
                foreach (var i in shown)
                    log.LogInformation("grpo sample (reward {R:F2}, truth {Truth}): {Text}", ro.Rewards[i].Total, TaxonomyModule.leaf(ListModule.OfSeq(chosen[i / o.Group].Label)), ro.Texts[i]);
                lastReward = windowReward / windowSteps;
                windowReward = 0; windowSteps = 0;
            }
            else if (logNow) { lastReward = windowReward / windowSteps; windowReward = 0; windowSteps = 0; }
            session.Report(loss, lr, norm, ro.Texts.Length, extra, logNow);
            if (validator != null && (session.Due(o.EvalEvery) || last))
                session.ReportValidation(validator.Run(model, tok, dev, o.ValBatch, o.MaxNew));
            if (session.Due(o.SaveEvery) && !last) session.Save(RunFolder.Last, withOptimizer: true);
        }
        bool completed = session.Step >= o.Steps;
        session.Finish(completed);
        reference?.Dispose();
        log.LogInformation("grpo: {State} at step {Step}; run folder {Dir}", completed ? "finished" : "stopped", session.Step, run.Dir);
        return new GrpoResult(run.Dir, completed ? run.FinalDir : run.LastDir, session.Step, completed, firstReward,
            windowSteps > 0 ? windowReward / windowSteps : lastReward, stepsRun > 0 ? zeroStdSum / stepsRun : double.NaN,
            session.BestMetric, session.BestMetricName, session.BestStep, session.SkippedSteps, samples.Count, clock.Elapsed.TotalSeconds);
    }

    private static double Std(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        if (a.Length < 2) return 0;
        double m = a.Average();
        return Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / (a.Length - 1));
    }

    /// <summary>Generates G completions per prompt with the current policy and scores them.</summary>
    private static Rollout Sample(PaFasModel model, Tokenizer tok, Grammar grammar, RewardConfig rcfg, AdvantageScale scale,
        GrpoOptions o, List<SampleRecord> chosen, FaceCache faces, Device dev, int seed)
    {
        var groupFaces = new List<FaceTensors>();
        var prompts = new List<int[]>();
        foreach (var s in chosen)
        {
            var f = faces.Get(s);
            var p = Prompt.Encode(tok, f);
            for (int g = 0; g < o.Group; g++) { groupFaces.Add(f); prompts.Add(p); }
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Generation gen;
        using (var vb = VisionBatch.From(groupFaces, dev))
            gen = Generator.Generate(model, tok, vb, prompts, new GenerationOptions(o.MaxNew, o.Temperature, o.TopP, seed));
        double generateSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        // The generator stops at EOS, at MaxNewTokens or when the visual prefix + longest prompt fill MaxSeq.
        var cfg = model.Config;
        int budget = Math.Min(o.MaxNew, cfg.MaxSeq - cfg.VisualTokens - prompts.Max(p => p.Length));
        int n = prompts.Count;
        var rewards = new RewardBreakdown[n];
        var seqs = new List<int[]>(n);
        var ended = new bool[n];
        var lengths = new int[n];
        for (int i = 0; i < n; i++)
        {
            var truth = ListModule.OfSeq(chosen[i / o.Group].Label);
            rewards[i] = Rewards.score(grammar, rcfg, truth, gen.Texts[i]);
            var c = gen.Completions[i];
            ended[i] = c.Length < budget;
            var seq = new int[prompts[i].Length + c.Length + (ended[i] ? 1 : 0)];
            prompts[i].CopyTo(seq, 0);
            c.CopyTo(seq, prompts[i].Length);
            if (ended[i]) seq[^1] = tok.Eos;
            seqs.Add(seq);
            lengths[i] = c.Length;
        }
        var byGroup = Enumerable.Range(0, chosen.Count).Select(p => rewards.Skip(p * o.Group).Take(o.Group).Select(r => r.Total).ToArray()).ToArray();
        var adv = Grpo.advantages(scale, o.AdvEps, byGroup).SelectMany(a => a).ToArray();
        return new Rollout(groupFaces, seqs, prompts.Select(p => p.Length).ToList(), adv, rewards, gen.Texts, lengths, ended,
            generateSeconds, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Tokens [n,T], attention [n,T] and the completion mask [n,T-1] (aligned with
    /// <see cref="Sequences.TokenLogProbs"/>: entry t is 1 when token t+1 is a completion token) of a slice of the rollout.</summary>
    private static (Tensor Tokens, Tensor Attention, Tensor Mask) Batch(Rollout ro, int start, int count, int pad, Device dev)
    {
        var items = Enumerable.Range(start, count).Select(i => new TokenizedChain(ro.Sequences[i], ro.PromptLengths[i], "", ro.Faces[i])).ToList();
        var b = SftBatch.Build(items, pad, dev);
        var mask = b.Labels.narrow(1, 0, b.Labels.shape[1] - 1).ne(SftBatch.Ignore);
        b.Labels.Dispose();
        return (b.Tokens, b.Attention, mask);
    }

    /// <summary>Log-probabilities of the completion tokens under a model, no gradient, one [n,T] tensor per micro-batch.</summary>
    private static List<Tensor> LogProbs(PaFasModel m, Tokenizer tok, Rollout ro, int micro, Device dev)
    {
        var result = new List<Tensor>();
        using var nograd = torch.no_grad();
        for (int s = 0; s < ro.Sequences.Count; s += micro)
        {
            int c = Math.Min(micro, ro.Sequences.Count - s);
            using var inner = torch.NewDisposeScope();
            var (tokens, att, _) = Batch(ro, s, c, tok.Pad, dev);
            using var vb = VisionBatch.From(ro.Faces.GetRange(s, c), dev);
            var lp = Sequences.TokenLogProbs(m.Logits(vb, tokens, att), tokens);
            result.Add(lp.MoveToOuterDisposeScope());
        }
        return result;
    }

    /// <summary>One optimisation pass over the rollout (gradients accumulated over micro-batches, normalised over
    /// the whole step). Returns the loss, clip fractions, KL and whether every micro-batch loss was finite.</summary>
    private static (double Loss, double Clip, double ClipLow, double ClipHigh, double Kl, bool Ok) Update(PaFasModel model, Tokenizer tok,
        Rollout ro, List<Tensor>? old, List<Tensor>? refLp, LossAggregation agg, int maxLen, GrpoOptions o, Device dev)
    {
        int n = ro.Sequences.Count;
        long totalTokens = ro.Sequences.Select((s, i) => (long)(s.Length - ro.PromptLengths[i])).Sum();
        double loss = 0, clip = 0, low = 0, high = 0, kl = 0;
        for (int s = 0, k = 0; s < n; s += o.MicroBatch, k++)
        {
            int c = Math.Min(o.MicroBatch, n - s);
            using var scope = torch.NewDisposeScope();
            var (tokens, att, mask) = Batch(ro, s, c, tok.Pad, dev);
            using var vb = VisionBatch.From(ro.Faces.GetRange(s, c), dev);
            var lp = Sequences.TokenLogProbs(model.Logits(vb, tokens, att), tokens);
            var adv = torch.tensor(ro.Advantages[s..(s + c)], ScalarType.Float32, dev);
            var oldLp = old != null ? old[k] : lp.detach();
            var outp = GrpoLoss.Compute(lp, oldLp, adv, mask, agg, maxLen, o.EpsLow, o.EpsHigh, o.Kl, refLp?[k],
                completions: n, globalTokens: totalTokens, batchTokens: totalTokens);
            double v = outp.Loss.to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(v)) return (v, 0, 0, 0, 0, false);
            outp.Loss.backward();
            double share = (double)c / n;
            loss += v; clip += outp.ClipFraction * share; low += outp.LowClipFraction * share; high += outp.HighClipFraction * share; kl += outp.Kl * share;
        }
        return (loss, clip, low, high, kl, true);
    }
}
