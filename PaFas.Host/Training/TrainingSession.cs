using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using PaFas.Host.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>Training stopped because the loss was not finite for too many steps in a row.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>Counts consecutive non-finite steps: a bad step is skipped with a warning; after
/// <see cref="Limit"/> in a row training stops with <see cref="TrainingDivergedException"/>.</summary>
public sealed class BadStepGuard(int limit, string stage, ILogger log)
{
    public int Limit { get; } = limit;
    public int InARow { get; private set; }
    public int Total { get; private set; }

    /// <summary>True when the values are finite (the step may be applied); false to skip it.</summary>
    public bool Check(int step, double loss, double gradNorm)
    {
        if (double.IsFinite(loss) && double.IsFinite(gradNorm)) { InARow = 0; return true; }
        InARow++;
        Total++;
        log.LogWarning("{Stage} step {Step}: non-finite {What} ({Loss}, grad norm {Norm}); step skipped ({InARow} in a row, limit {Limit})",
            stage, step, double.IsFinite(loss) ? "gradient" : "loss", loss, gradNorm, InARow, Limit);
        if (InARow >= Limit)
            throw new TrainingDivergedException(
                $"{stage}: {InARow} steps in a row had a non-finite loss or gradient (last at step {step}); training stopped. " +
                "last/ holds the last good checkpoint; lower --lr, raise --warmup or check the data, then --resume.");
        return false;
    }
}

/// <summary>The parts every trainer shares: model + tokenizer (fresh or restored), AdamW with the schedule,
/// clipping, the bad-step guard, metrics, checkpoints last/ best/ final/, progress and ETA.</summary>
internal sealed class TrainingSession : IDisposable
{
    private readonly TrainOptions _o;
    private readonly ILogger _log;
    private readonly ScheduleKind _schedule;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly double _elapsedBefore;
    private readonly int _startStep;
    private readonly BadStepGuard _guard;

    public TrainingSession(TrainOptions o, string stage, ILogger log, RunFolder run, PaFasModel model, Tokenizer tok, Device dev,
        IReadOnlyDictionary<string, string>? metaExtra = null)
    {
        _o = o; _log = log; Stage = stage; Run = run; Model = model; Tokenizer = tok; Device = dev;
        MetaExtra = metaExtra ?? new Dictionary<string, string>();
        _schedule = o.Schedule;
        _guard = new BadStepGuard(o.MaxBadSteps, stage, log);
        Optimizer = torch.optim.AdamW(model.parameters(), o.Lr, o.Beta1, o.Beta2, 1e-8, o.WeightDecay);
        var st = run.ResumeState;
        if (st != null)
        {
            Step = st.Step; BestMetric = st.BestMetric; BestStep = st.BestStep; BestMetricName = st.BestMetricName;
            SamplesSeen = st.SamplesSeen; TokensSeen = st.TokensSeen; _elapsedBefore = st.ElapsedSeconds;
            RestoreOptimizer(st);
        }
        _startStep = Step;
        Metrics = new MetricsLog(run.MetricsPath, Step, !o.NoTensorBoard ? Path.Combine(run.Dir, RunFolder.TensorBoardDir) : null, log);
    }

    public string Stage { get; }
    public RunFolder Run { get; }
    public PaFasModel Model { get; }
    public Tokenizer Tokenizer { get; }
    public Device Device { get; }
    public AdamW Optimizer { get; }
    public MetricsLog Metrics { get; }
    public IReadOnlyDictionary<string, string> MetaExtra { get; }
    /// <summary>Optimiser steps done.</summary>
    public int Step { get; private set; }
    public double? BestMetric { get; private set; }
    public int BestStep { get; private set; }
    public string BestMetricName { get; private set; } = "";
    public long SamplesSeen { get; set; }
    public long TokensSeen { get; set; }
    public int SkippedSteps => _guard.Total;
    public double ElapsedSeconds => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    /// <summary>The opening of every training stage: validates the options, sets libtorch's threads, resolves the
    /// device, opens the run folder (fresh, forced or resumed) and starts the stage's clock.</summary>
    public static (Device Dev, RunFolder Run, Stopwatch Clock) Begin(TrainOptions o, ILogger log)
    {
        o.Validate();
        TorchRuntime.SetThreads(o.Threads);
        var dev = TorchRuntime.ResolveDevice(o.Device);
        var run = RunFolder.Open(o.Out, o.Resume, o.Force, log);
        return (dev, run, Stopwatch.StartNew());
    }

    /// <summary>Builds the model of a fresh run from a preset (weights seeded from the run seed) or restores last/
    /// of a resumed run.</summary>
    public static (PaFasModel Model, Tokenizer Tok) CreateOrRestore(RunFolder run, Func<(PaFasModel, Tokenizer)> fresh, Device dev, ILogger log)
    {
        if (run.IsResuming)
        {
            var (m, t, meta) = Checkpoint.Load(run.LastDir, dev);
            log.LogInformation("resuming {Dir} at step {Step} (checkpoint stage {Stage})", run.Dir, run.ResumeState!.Step, meta.Stage);
            return (m, t);
        }
        var (model, tok) = fresh();
        model.to(dev);
        return (model, tok);
    }

    private void RestoreOptimizer(TrainerState st)
    {
        var f = Path.Combine(Run.LastDir, RunFolder.OptimizerFile);
        if (!st.HasOptimizerState || !File.Exists(f))
        {
            _log.LogWarning("{Dir}: no optimizer state in last/; AdamW restarts with empty moments (the run will not match an uninterrupted one)", Run.Dir);
            return;
        }
        try { Optimizer.load_state_dict(f); }
        catch (Exception e)
        {
            _log.LogWarning("{File}: optimizer state could not be restored ({Error}); AdamW restarts with empty moments", f, e.Message);
        }
    }

    /// <summary>Sets the learning rate of the coming step and seeds libtorch's generator for it; returns the rate.</summary>
    public double BeginStep()
    {
        torch.manual_seed(StepSeed.Derive(_o.Seed, Step, StepSeed.Torch));
        double lr = LrSchedule.At(_schedule, _o.Lr, Step, _o.Steps, _o.WarmupSteps, _o.MinLrFraction);
        foreach (var g in Optimizer.ParamGroups) g.LearningRate = lr;
        return lr;
    }

    /// <summary>After backward: clips, checks for non-finite values, applies or skips the update and zeroes the
    /// gradients (the step counter does not move: see <see cref="EndStep"/>). Returns whether the update was
    /// applied and the gradient norm before clipping.</summary>
    public (bool Applied, double GradNorm) ApplyUpdate(double loss)
    {
        double norm = torch.nn.utils.clip_grad_norm_(Model.parameters(), _o.ClipGrad > 0 ? _o.ClipGrad : 1e30);
        bool ok = _guard.Check(Step + 1, loss, norm);
        if (ok) Optimizer.step();
        Optimizer.zero_grad();
        return (ok, norm);
    }

    /// <summary>Records an update that never reached backward (non-finite loss): warns, and counts toward the limit.</summary>
    public void SkipUpdate(double loss)
    {
        _guard.Check(Step + 1, loss, double.NaN);
        Optimizer.zero_grad();
    }

    /// <summary>Advances the step counter (a skipped step still counts, so the schedule and seeds move on).</summary>
    public void EndStep() => Step++;

    public bool Due(int every) => every > 0 && Step % every == 0;

    /// <summary>Logs a step (ILogger line with ETA + metrics.jsonl + progress report).</summary>
    public void Report(double loss, double lr, double gradNorm, int samples, IReadOnlyDictionary<string, object?> extra, bool log)
    {
        double secs = _clock.Elapsed.TotalSeconds;
        int done = Math.Max(1, Step - _startStep);
        double perStep = secs / done;
        var eta = TimeSpan.FromSeconds(perStep * Math.Max(0, _o.Steps - Step));
        double sps = SamplesSeen > 0 && secs > 0 ? samples * done / secs : 0;
        _o.Progress?.Report(new TrainingProgress(Stage, Step, _o.Steps, loss, lr, sps, TimeSpan.FromSeconds(ElapsedSeconds), eta));
        if (!log) return;
        var values = new Dictionary<string, object?>
        {
            ["loss"] = loss, ["lr"] = lr, ["grad_norm"] = gradNorm, ["samples_per_s"] = sps,
            ["tokens_per_s"] = secs > 0 ? (TokensSeen - _tokensAtStart) / secs : 0.0,
            ["elapsed_s"] = ElapsedSeconds, ["skipped_steps"] = (double)_guard.Total,
        };
        foreach (var (k, v) in extra) values[k] = v;
        Metrics.Append(Stage, Step, values);
        _log.LogInformation("{Stage} step {Step}/{Steps} loss {Loss:F4} lr {Lr:G3} |g| {Norm:F3} {Sps:F1} samples/s{Extra} ETA {Eta}",
            Stage, Step, _o.Steps, loss, lr, gradNorm, sps, Summary(extra), FormatEta(eta));
    }

    private long _tokensAtStart = -1;
    /// <summary>Call once before the loop (token rate counts only this process's tokens).</summary>
    public void Start() { _tokensAtStart = TokensSeen; _clock.Restart(); }

    private static string Summary(IReadOnlyDictionary<string, object?> extra)
    {
        var parts = extra.Where(kv => kv.Value is double).Take(6)
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $" {kv.Key} {(double)kv.Value!:G4}"));
        return string.Concat(parts);
    }

    public static string FormatEta(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";

    /// <summary>Logs validation values; when the metric (higher is better) improves, writes best/.</summary>
    public void ReportValidation(ValidationResult v)
    {
        var values = v.Values.ToDictionary(kv => kv.Key, kv => kv.Value);
        values["val_metric"] = v.Metric;
        Metrics.Append(Stage, Step, values);
        bool improved = double.IsFinite(v.Metric) && (BestMetric == null || v.Metric > BestMetric.Value);
        _log.LogInformation("{Stage} step {Step} validation: {Name} {Metric:F4}{Best} {Summary}", Stage, Step, v.MetricName, v.Metric,
            improved ? " (best so far)" : $" (best {BestMetric:F4} at step {BestStep})", Summary(v.Values));
        if (!improved) return;
        BestMetric = v.Metric; BestStep = Step; BestMetricName = v.MetricName;
        Save(RunFolder.Best, withOptimizer: false);
    }

    /// <summary>Writes a checkpoint folder (last/ with the optimiser state).</summary>
    public string Save(string name, bool withOptimizer)
    {
        var state = new TrainerState
        {
            Stage = Stage, Step = Step, Seed = _o.Seed, BestMetric = BestMetric, BestStep = BestStep, BestMetricName = BestMetricName,
            SamplesSeen = SamplesSeen, TokensSeen = TokensSeen, ElapsedSeconds = ElapsedSeconds,
        };
        var meta = new CheckpointMeta(Stage, Step, DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            new Dictionary<string, string>(MetaExtra) { ["seed"] = _o.Seed.ToString(CultureInfo.InvariantCulture), ["name"] = name });
        return Run.SaveCheckpoint(name, dir => Checkpoint.Save(dir, Model, Tokenizer, meta), state,
            withOptimizer ? f => Optimizer.save_state_dict(f) : null);
    }

    /// <summary>End of the run: last/ (always), final/ when all steps are done, plots.</summary>
    public void Finish(bool completed)
    {
        Save(RunFolder.Last, withOptimizer: true);
        if (completed) Save(RunFolder.Final, withOptimizer: false);
        try { Plots.WriteAll(Run.Dir); }
        catch (Exception e) { _log.LogWarning("plots not written: {Error}", e.Message); }
    }

    public void Dispose()
    {
        Metrics.Dispose();
        Optimizer.Dispose();
    }
}
