using System.Text.Json.Serialization;
using PaFas.Core;
using PaFas.Host.Cli;

namespace PaFas.Host.Training;

/// <summary>Options of <c>pafas grpo</c>: reinforcement learning from an SFT checkpoint.</summary>
/// <remarks>Clip range [1 - 0.2, 1 + 0.28] (DAPO's clip-higher), 4 prompts per step: the values of every measured
/// GRPO experiment (scripts/experiments.sh, docs/results.md). Learning rate 1e-5, two orders below the SFT rate
/// (the paper's 1e-6 is for a pre-trained 3B model).</remarks>
public sealed record GrpoOptions : TrainOptions
{
    public GrpoOptions()
    {
        Out = DefaultPaths.Model;
        Lr = 1e-5;
        WeightDecay = 0.0;
        EvalEvery = 50;
        SaveEvery = 50;
        LogEvery = 1;
    }

    [Flag("recipe", "apply a recipe's grpo section of data/recipes.json (explicit options win)"), Recipe("grpo"), Lowercase]
    public string Recipe { get; init; } = Recipes.None;

    [Flag("init", "SFT run folder (its final/, best/ or last/) or checkpoint folder to start from"), NotEmpty]
    public string Init { get; init; } = DefaultPaths.Sft;

    [Flag("data", "labelled manifest of the training prompts (source-domain samples)"), NotEmpty]
    public string Data { get; init; } = DefaultPaths.Manifest;

    [Flag("domains", "comma-separated domains of --data to keep (default: all)")]
    public IReadOnlyList<string> Domains { get; init; } = Array.Empty<string>();

    [Flag("val", "validation manifest or chain file (mean reward, best checkpoint); \"\" = none")]
    public string Val { get; init; } = "";

    [Flag("prompts", "P: prompts (samples) per step"), AtLeast(1)]
    public int Prompts { get; init; } = 4;

    [Flag("group", "G: completions sampled per prompt (advantages are relative to the group)"), AtLeast(2)]
    public int Group { get; init; } = 8;

    [Flag("temperature", "sampling temperature"), Positive]
    public double Temperature { get; init; } = 1.0;

    [Flag("top-p", "nucleus sampling mass"), Range(0, 1, minInclusive: false)]
    public double TopP { get; init; } = 1.0;

    [Flag("iterations", "mu: optimisation passes over each step's completions (1 = on-policy)"), AtLeast(1)]
    public int Iterations { get; init; } = 1;

    [Flag("eps-low", "lower clip epsilon of the ratio"), Range(0, 1, maxInclusive: false)]
    public double EpsLow { get; init; } = 0.2;

    [Flag("eps-high", "upper clip epsilon of the ratio"), NonNegative]
    public double EpsHigh { get; init; } = 0.28;

    [Flag("loss", "loss aggregation (the core's definitions)")]
    public LossAggregation Loss { get; init; } = LossAggregation.GrpoAgg;

    [Flag("scale", "advantage scaling")]
    public AdvantageScale Scale { get; init; } = AdvantageScale.GroupScale;

    [Flag("adv-eps", "added to the std of the rewards when scaling the advantages"), NonNegative]
    public double AdvEps { get; init; } = 1e-4;

    [Flag("kl", "beta: KL coefficient to the frozen initial model (k3); 0 = off, no reference model (the paper)"), NonNegative]
    public double Kl { get; init; }

    [Flag("format-weight", "weight of the format reward"), NonNegative]
    public double FormatWeight { get; init; } = 1.0;

    [Flag("class-weight", "weight of the classification reward"), NonNegative]
    public double ClassWeight { get; init; } = 1.0;

    [Flag("conclusion-weight", "weight of a reward on the chain's conclusion (its last standing forward step) scored against the truth like the answer; 0 = off (the paper)"), NonNegative]
    public double ConclusionWeight { get; init; }

    [Flag("consistency-weight", "weight of a reward of 1 when the chain's conclusion is the answer's leaf; 0 = off (the paper)"), NonNegative]
    public double ConsistencyWeight { get; init; }

    [Flag("coherence-weight", "weight of a reward of 1 when the completion is well-formed and its chain cites no cue with its opposite and has no ill-formed clause; 0 = off (the paper)"), NonNegative]
    public double CoherenceWeight { get; init; }

    [Flag("reward-mode", "classification reward")]
    public ClassMode RewardMode { get; init; } = ClassMode.ExactLeaf;

    [Flag("micro-batch", "completions per forward/backward pass of the update (memory bound)"), AtLeast(1)]
    public int MicroBatch { get; init; } = 16;

    [Flag("log-samples", "sample completions written to the log and metrics.jsonl at each logged step"), AtLeast(0)]
    public int LogSamples { get; init; } = 2;

    /// <summary>Benchmarks: run the update pass even when every advantage is zero (the gradient is then zero, the
    /// cost that of a real update), so that a fresh model's step can be timed.</summary>
    [JsonIgnore] public bool AlwaysUpdate { get; init; }

    /// <summary>The reward of a completion: format + classification (+ conclusion + consistency) with these weights and mode.</summary>
    [JsonIgnore] public RewardConfig RewardConfig => new(FormatWeight, ClassWeight, RewardMode, ConclusionWeight, ConsistencyWeight, CoherenceWeight);
}
