using System.Text.Json.Serialization;

namespace PaFas.Host.Training;

/// <summary>Settings shared by <c>pafas sft</c> and <c>pafas grpo</c>. Init-only properties; every one has a default
/// except <see cref="Out"/>.</summary>
public abstract record TrainOptions
{
    /// <summary>The run folder (config.json, metrics.jsonl, last/ best/ final/, plots).</summary>
    public required string Out { get; init; }
    /// <summary>Optimiser steps in total (a resumed run continues up to this count).</summary>
    public int Steps { get; init; } = 500;
    /// <summary>Peak learning rate of AdamW.</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>Linear warm-up steps.</summary>
    public int Warmup { get; init; }
    /// <summary>constant | cosine | linear (after the warm-up).</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>Floor of the cosine/linear decay as a fraction of <see cref="Lr"/>.</summary>
    public double MinLrFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Gradient clipping by global L2 norm; 0 = off.</summary>
    public double ClipNorm { get; init; } = 1.0;
    /// <summary>Validation every K steps (and at the end); 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 100;
    /// <summary>last/ checkpoint every K steps (and at the end); 0 = only at the end.</summary>
    public int SaveEvery { get; init; } = 100;
    /// <summary>A metrics.jsonl line and a log message every K steps.</summary>
    public int LogEvery { get; init; } = 10;
    public int Seed { get; init; }
    /// <summary>cpu | cuda[:n].</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>libtorch intra-op threads (0 = libtorch's default). Same seed + same threads = same weights.</summary>
    public int Threads { get; init; }
    /// <summary>Continue from last/ of an existing run folder.</summary>
    public bool Resume { get; init; }
    /// <summary>Start over in a folder that already holds a run (its run files are deleted).</summary>
    public bool Force { get; init; }
    /// <summary>Folder that relative image paths are resolved against ("" = the data file's folder).</summary>
    public string Root { get; init; } = "";
    /// <summary>Training stops with an error after this many non-finite losses in a row.</summary>
    public int MaxBadSteps { get; init; } = 5;
    /// <summary>Also write TensorBoard event files under tb/.</summary>
    public bool TensorBoard { get; init; } = true;
    /// <summary>Maximum generated tokens (validation generation; GRPO sampling).</summary>
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>Validation samples taken from a validation manifest (0 = all).</summary>
    public int ValSamples { get; init; } = 256;
    /// <summary>Batch size of validation generation / loss.</summary>
    public int ValBatch { get; init; } = 32;

    /// <summary>Cancelling (Ctrl-C) writes last/ and returns with <c>Completed = false</c>.</summary>
    [JsonIgnore] public CancellationToken Cancel { get; init; }
    /// <summary>Progress reports after each step (the CLI draws a bar with the ETA from these).</summary>
    [JsonIgnore] public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option when a value is out of range.</summary>
    public virtual void Validate()
    {
        if (string.IsNullOrWhiteSpace(Out)) throw new ArgumentException("--out: a run folder is required");
        if (Steps < 1) throw new ArgumentException("--steps must be at least 1");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw new ArgumentException($"--lr must be positive, got {Lr}");
        if (Warmup < 0) throw new ArgumentException("--warmup must be >= 0");
        LrSchedule.Parse(Schedule);
        if (MinLrFraction < 0 || MinLrFraction > 1) throw new ArgumentException("--min-lr-fraction must be in [0, 1]");
        if (WeightDecay < 0) throw new ArgumentException("--weight-decay must be >= 0");
        if (ClipNorm < 0) throw new ArgumentException("--clip-norm must be >= 0 (0 = off)");
        if (EvalEvery < 0 || SaveEvery < 0) throw new ArgumentException("--eval-every and --save-every must be >= 0");
        if (LogEvery < 1) throw new ArgumentException("--log-every must be at least 1");
        if (MaxBadSteps < 1) throw new ArgumentException("--max-bad-steps must be at least 1");
        if (MaxNewTokens < 1) throw new ArgumentException("--max-new-tokens must be at least 1");
        if (ValBatch < 1) throw new ArgumentException("--val-batch must be at least 1");
        if (Resume && Force) throw new ArgumentException("--resume and --force exclude each other");
    }
}

/// <summary>One progress report (after every optimiser step).</summary>
public sealed record TrainingProgress(string Stage, int Step, int Steps, double Loss, double Lr, double SamplesPerSecond,
    TimeSpan Elapsed, TimeSpan Eta);
