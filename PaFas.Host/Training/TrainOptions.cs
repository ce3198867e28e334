using System.Text.Json.Serialization;
using PaFas.Host.Cli;

namespace PaFas.Host.Training;

/// <summary>The knobs shared by <c>pafas sft</c> and <c>pafas grpo</c> (see <see cref="CommonOptions"/> for how a
/// knob is declared). Defaults that differ between the two stages are set in their constructors.</summary>
public abstract record TrainOptions : CommonOptions
{
    [Flag("out", "run folder (config.json, metrics.jsonl, last/ best/ final/, plots)"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Train;

    [Flag("root", "folder that relative image paths are resolved against (default: the data file's folder)")]
    public string Root { get; init; } = "";

    [Flag("steps", "optimiser steps in all (a resumed run continues up to this count)"), AtLeast(1)]
    public int Steps { get; init; } = 500;

    [Flag("lr", "peak learning rate (AdamW)"), Positive]
    public double Lr { get; init; } = 1e-3;

    [Flag("warmup", "linear warm-up steps", DefaultText = "sft: min(50, steps / 10); pretrain: min(30, steps / 10); grpo: 0"), AtLeast(0)]
    public int? Warmup { get; init; }

    [Flag("schedule", "learning rate after the warm-up")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;

    [Flag("min-lr-fraction", "floor of the cosine / linear decay as a fraction of --lr"), Range(0, 1)]
    public double MinLrFraction { get; init; } = 0.1;

    [Flag("weight-decay", "AdamW weight decay"), NonNegative]
    public double WeightDecay { get; init; } = 0.01;

    [Flag("beta1", "AdamW beta1"), Range(0, 1, maxInclusive: false)]
    public double Beta1 { get; init; } = 0.9;

    [Flag("beta2", "AdamW beta2"), Range(0, 1, maxInclusive: false)]
    public double Beta2 { get; init; } = 0.999;

    [Flag("clip-grad", "clip gradients to this global L2 norm; 0 = off"), NonNegative]
    public double ClipGrad { get; init; } = 1.0;

    [Flag("eval-every", "validate (and keep best/) every K steps; 0 = only at the end"), AtLeast(0)]
    public int EvalEvery { get; init; } = 100;

    [Flag("save-every", "write last/ every K steps; 0 = only at the end"), AtLeast(0)]
    public int SaveEvery { get; init; } = 100;

    [Flag("log-every", "a metrics.jsonl line and a log message every K steps"), AtLeast(1)]
    public int LogEvery { get; init; } = 10;

    [Flag("resume", "continue from <out>/last (optimizer, RNG state and step)")]
    public bool Resume { get; init; }

    [Flag("force", "delete the run already in <out> and start over")]
    public bool Force { get; init; }

    [Flag("max-bad-steps", "stop with an error after this many non-finite losses in a row"), AtLeast(1)]
    public int MaxBadSteps { get; init; } = 5;

    [Flag("no-tensorboard", "do not write TensorBoard event files under tb/")]
    public bool NoTensorBoard { get; init; }

    [Flag("max-new", "maximum generated tokens (validation generation; GRPO sampling)"), AtLeast(1)]
    public int MaxNew { get; init; } = 256;

    [Flag("val-samples", "validation samples taken from a validation manifest; 0 = all"), AtLeast(0)]
    public int ValSamples { get; init; } = 256;

    [Flag("val-batch", "batch size of validation generation and loss"), AtLeast(1)]
    public int ValBatch { get; init; } = 32;

    /// <summary>Cancelling (Ctrl-C) writes last/ and returns with <c>Completed = false</c>.</summary>
    [JsonIgnore] public CancellationToken Cancel { get; init; }
    /// <summary>Progress reports after each step (the CLI draws a bar with the ETA from these).</summary>
    [JsonIgnore] public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>The warm-up in steps: <see cref="Warmup"/>, or when not given <see cref="DefaultWarmup"/>.</summary>
    [JsonIgnore] public int WarmupSteps => Warmup ?? DefaultWarmup(Steps);

    /// <summary>The warm-up when <c>--warmup</c> is not given.</summary>
    protected virtual int DefaultWarmup(int steps) => 0;

    public override IEnumerable<string> Rules()
    {
        if (WarmupSteps > Steps) yield return $"--warmup ({WarmupSteps}) must not exceed --steps ({Steps})";
        if (Resume && Force) yield return "--resume and --force exclude each other";
    }
}

/// <summary>One progress report (after every optimiser step).</summary>
public sealed record TrainingProgress(string Stage, int Step, int Steps, double Loss, double Lr, double SamplesPerSecond,
    TimeSpan Elapsed, TimeSpan Eta);
