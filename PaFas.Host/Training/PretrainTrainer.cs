using System.Globalization;
using Microsoft.Extensions.Logging;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;

namespace PaFas.Host.Training;

/// <summary>What <see cref="PretrainTrainer.Run"/> did; <paramref name="Probe"/> is the last held-out perception score.</summary>
public sealed record PretrainResult(string RunDir, string Checkpoint, int Step, bool Completed, double FirstLoss, double LastLoss,
    PerceptionScore? Probe, double Seconds);

/// <summary>Perception pretraining: before any FAS supervision, the model learns to describe faces of an unlimited
/// stream (<see cref="PerceptionStream"/>) with the templates' start and observation sentences
/// (<see cref="PerceptionTasks"/>). Loss, optimiser, checkpoints (last/, final/), resume and determinism are those of
/// SFT. The probe on the four protocol domains is logged, never used to pick a checkpoint (no best/): the
/// result is final/.</summary>
public static class PretrainTrainer
{
    public const string Stage = "pretrain";

    public static PretrainResult Run(PretrainOptions o, ILogger log)
    {
        var (dev, run, clock) = TrainingSession.Begin(o, log);
        var grammar = GrammarStore.Default;
        var (model, tok) = TrainingSession.CreateOrRestore(run, () => SftTrainer.FromPreset(o.ModelSize, o.ImageSize, o.Seed, grammar), dev, log);
        var cfg = model.Config;
        var stream = new PerceptionStream(o.Ranges, o.Seed, cfg.ImageSize);
        int textBudget = cfg.MaxSeq - cfg.VisualTokens;
        var probe = o.ProbePerDomain > 0 ? PerceptionProbe.FromWorld(o.ProbeSeed, o.ProbePerDomain, cfg.ImageSize, o.Threads) : null;
        log.LogInformation("pretrain: model {Preset} ({Params:N0} parameters, image {Size}px) on {Device}; {Batch} stream faces a step, describe share {Share}; probe {Probe} faces",
            cfg.Name, model.ParameterCount, cfg.ImageSize, dev, o.Batch, o.DescribeShare, probe?.Count ?? 0);
        var extra = new Dictionary<string, string>
        {
            ["model"] = cfg.Name, ["parameters"] = model.ParameterCount.ToString(CultureInfo.InvariantCulture),
            ["stream"] = "randomized sensors: " + string.Join("; ", o.Ranges.Named().Select(r => $"{r.Name} {r.Range}")),
            ["live_share"] = o.Ranges.LiveShare.ToString(CultureInfo.InvariantCulture),
        };
        run.WriteConfig(Stage, o, cfg.Name, o.Seed, extra, log);
        using var session = new TrainingSession(o, Stage, log, run, model, tok, dev, new Dictionary<string, string> { ["objective"] = "perception pretraining" });
        PerceptionScore? last = null;
        if (session.Step >= o.Steps && Directory.Exists(run.FinalDir))
        {
            log.LogInformation("{Dir}: already pretrained for {Step} steps; nothing to do", run.Dir, session.Step);
            return new PretrainResult(run.Dir, run.FinalDir, session.Step, true, double.NaN, double.NaN, null, clock.Elapsed.TotalSeconds);
        }
        PerceptionScore Probe()
        {
            var s = probe!.Run(model, tok, grammar, dev, o.ValBatch);
            model.train();
            session.Metrics.Append(Stage, session.Step, s.Values());
            log.LogInformation("pretrain step {Step} perception (held-out C, P, S, W faces): {Summary}", session.Step, s.Summary());
            return s;
        }
        if (probe != null && session.Step == 0) last = Probe();

        model.train();
        session.Start();
        double firstLoss = double.NaN, lastLoss = double.NaN, windowLoss = 0;
        int windowSteps = 0;
        // the next step's faces are rendered on another core while this step trains
        Task<StreamFace[]> Render(int step) => Task.Run(() => stream.Range((long)step * o.Batch, o.Batch, Math.Max(1, o.Threads)));
        var next = Render(session.Step);
        while (session.Step < o.Steps)
        {
            if (o.Cancel.IsCancellationRequested) { log.LogWarning("pretrain: stopped at step {Step}; writing last/", session.Step); break; }
            double lr = session.BeginStep();
            var faces = next.Result;
            if (session.Step + 1 < o.Steps) next = Render(session.Step + 1);
            var seqs = faces.Select(f => PerceptionTasks.ForStream(grammar, tok, f, o.Seed, o.DescribeShare, textBudget)).ToList();
            var chosen = seqs.Select(s => s.Chain).ToList();
            var (loss, bad) = SftLoss.Backward(model, tok, dev, chosen, o.Batch);
            double norm = double.NaN;
            if (bad) session.SkipUpdate(loss);
            else norm = session.ApplyUpdate(loss).GradNorm;
            session.EndStep();
            session.SamplesSeen += chosen.Count;
            session.TokensSeen += chosen.Sum(c => (long)c.Tokens.Length);
            if (double.IsFinite(loss) && double.IsFinite(norm)) { windowLoss += loss; windowSteps++; }
            bool end = session.Step >= o.Steps;
            bool logNow = session.Due(o.LogEvery) || end;
            double shown = windowSteps > 0 ? windowLoss / windowSteps : double.NaN;
            session.Report(logNow ? shown : loss, lr, norm, chosen.Count, new Dictionary<string, object?>
            {
                ["describe_share"] = seqs.Count(s => s.Task == PerceptionTasks.Describe) / (double)seqs.Count,
                ["target_tokens"] = chosen.Average(c => (double)c.CompletionLength),
                ["render_px"] = faces.Average(f => (double)f.RenderSize),
            }, logNow);
            if (logNow)
            {
                if (double.IsNaN(firstLoss)) firstLoss = shown;
                lastLoss = shown;
                windowLoss = 0; windowSteps = 0;
            }
            if (probe != null && (session.Due(o.EvalEvery) || end)) last = Probe();
            if (session.Due(o.SaveEvery) && !end) session.Save(RunFolder.Last, withOptimizer: true);
        }
        bool completed = session.Step >= o.Steps;
        if (probe != null && last == null && completed) last = Probe();   // a resumed run that had no step left to train
        session.Finish(completed);
        log.LogInformation("pretrain: {State} at step {Step}; run folder {Dir}", completed ? "finished" : "stopped", session.Step, run.Dir);
        return new PretrainResult(run.Dir, completed ? run.FinalDir : run.LastDir, session.Step, completed, firstLoss, lastLoss, last, clock.Elapsed.TotalSeconds);
    }
}
