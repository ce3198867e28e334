using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

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

    public static GrpoResult Run(GrpoOptions o, ILogger log)
    {
        var (dev, run, clock) = TrainingSession.Begin(o, log);
        var grammar = GrammarStore.Default;
        var agg = o.Loss;
        var scale = o.Scale;
        var rcfg = o.RewardConfig;

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
        var episodes = new EpisodeSettings(o.Group, new GenerationOptions(o.MaxNew, o.Temperature, o.TopP), rcfg, scale, o.AdvEps);
        // dr_grpo's maxLen: completion tokens incl. EOS never exceed the generation budget
        var policy = new PolicyLossSettings(agg, o.MaxNew, o.EpsLow, o.EpsHigh, o.Kl, o.MicroBatch);
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
            var decoding = new GenerationOptions(o.MaxNew, o.Temperature, o.TopP, StepSeed.Derive(o.Seed, session.Step, StepSeed.Generation));
            var batch = GrpoEpisodes.Sample(model, tok, grammar, episodes with { Decoding = decoding }, chosen, faces);
            var eps = batch.Episodes;

            var updateClock = System.Diagnostics.Stopwatch.StartNew();
            double loss = 0, norm = 0, clip = 0, clipLow = 0, clipHigh = 0, kl = 0;
            if (o.Kl > 0 || o.AlwaysUpdate || batch.HasSignal)
            {
                using var scope = torch.NewDisposeScope();
                var old = o.Iterations > 1 ? GrpoUpdate.LogProbs(model, tok, eps, o.MicroBatch, dev) : null;
                var refLp = reference != null ? GrpoUpdate.LogProbs(reference, tok, eps, o.MicroBatch, dev) : null;
                for (int it = 0; it < o.Iterations; it++)
                {
                    var pass = GrpoUpdate.Pass(model, tok, eps, old, refLp, policy, dev);
                    loss = pass.Loss;
                    if (!pass.Ok) { session.SkipUpdate(pass.Loss); break; }
                    norm = session.ApplyUpdate(pass.Loss).GradNorm;
                    clip = pass.Clip; clipLow = pass.ClipLow; clipHigh = pass.ClipHigh; kl = pass.Kl;
                }
            }
            else session.ApplyUpdate(0.0);
            double updateSeconds = updateClock.Elapsed.TotalSeconds;
            session.EndStep();
            stepsRun++;
            session.SamplesSeen += eps.Count;
            session.TokensSeen += eps.Sum(e => (long)e.Sequence.Length);
            double rewardMean = eps.Average(e => e.Reward.Total);
            zeroStdSum += batch.ZeroStdFraction;
            if (double.IsNaN(firstReward)) firstReward = rewardMean;
            windowReward += rewardMean; windowSteps++;

            bool last = session.Step >= o.Steps;
            bool logNow = session.Due(o.LogEvery) || last;
            var extra = new Dictionary<string, object?>
            {
                ["reward_mean"] = rewardMean,
                ["reward_std"] = batch.RewardStd,
                ["reward_format"] = eps.Average(e => e.Reward.Format),
                ["reward_class"] = eps.Average(e => e.Reward.Classification),
                ["reward_conclusion"] = eps.Average(e => e.Reward.Conclusion),
                ["reward_consistency"] = eps.Average(e => e.Reward.Consistency),
                ["reward_coherence"] = eps.Average(e => e.Reward.Coherence),
                ["zero_std_fraction"] = batch.ZeroStdFraction,
                ["completion_length"] = eps.Average(e => e.Rollout.Completion.Length),
                ["ended_fraction"] = eps.Average(e => e.Rollout.Ended ? 1.0 : 0.0),
                ["clip_fraction"] = clip, ["clip_low"] = clipLow, ["clip_high"] = clipHigh,
                ["advantage_abs_mean"] = eps.Average(e => Math.Abs(e.Advantage)),
                ["time_rollout_s"] = batch.GenerateSeconds, ["time_reward_s"] = batch.RewardSeconds, ["time_update_s"] = updateSeconds,
            };
            if (o.Kl > 0) extra["kl"] = kl;
            if (logNow && o.LogSamples > 0)
            {
                // the first completion of the first LogSamples groups (cycling when there are fewer groups)
                var shown = Enumerable.Range(0, Math.Min(o.LogSamples, eps.Count)).Select(i => i * o.Group % eps.Count).Distinct().Select(i => eps[i]).ToList();
                extra["samples"] = shown.Select(e => $"[{e.Sample.Id} | {string.Join(" > ", e.Sample.Label)} | reward {e.Reward.Total:F2}] {e.Rollout.Text}").ToArray();
                foreach (var e in shown)
                    log.LogInformation("grpo sample (reward {R:F2}, truth {Truth}): {Text}", e.Reward.Total, TaxonomyModule.leaf(ListModule.OfSeq(e.Sample.Label)), e.Rollout.Text);
                lastReward = windowReward / windowSteps;
                windowReward = 0; windowSteps = 0;
            }
            else if (logNow) { lastReward = windowReward / windowSteps; windowReward = 0; windowSteps = 0; }
            session.Report(loss, lr, norm, eps.Count, extra, logNow);
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
}
