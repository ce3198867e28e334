using System.Text.Json.Serialization;
using PaFas.Host.Cli;

namespace PaFas.Host.Training;

/// <summary>Options of <c>pafas sft</c>: supervised fine-tuning on the chains of <c>pafas augment</c>.</summary>
/// <remarks>Default learning rate 1e-3 (the rate of every measured run: the demo pipeline and scripts/experiments.sh;
/// the paper's 1e-6 is for fully fine-tuning a pre-trained 3B model, while this model starts from random weights
/// and has well under 100M parameters).</remarks>
public sealed record SftOptions : TrainOptions
{
    public SftOptions()
    {
        Out = DefaultPaths.Sft;
        Steps = 1000;
        Schedule = ScheduleKind.Cosine;
    }

    [Flag("recipe", "apply a recipe's sft section of data/recipes.json (explicit options win)"), Recipe("sft"), Lowercase]
    public string Recipe { get; init; } = Recipes.None;

    [Flag("chains", "training chains JSONL from pafas augment"), NotEmpty]
    public string Chains { get; init; } = DefaultPaths.Chains;

    [Flag("val", "validation data: chains JSONL (loss) or a labelled manifest (accuracy, live-score AUC); \"\" = --val-fraction")]
    public string Val { get; init; } = "";

    [Flag("val-fraction", "without --val: fraction of the samples held out for the validation loss; 0 = no validation"), Range(0, 1, maxInclusive: false)]
    public double ValFraction { get; init; }

    [Flag("model-size", "model size preset of data/models.json for a fresh run"), ModelSize, Lowercase]
    public string ModelSize { get; init; } = "small";

    [Flag("init", "start from this checkpoint, run folder or pretrained pack (e.g. data/pretrained/small) instead of fresh weights (\"\" = fresh)")]
    public string Init { get; init; } = "";

    [Flag("batch", "chains per micro-batch"), AtLeast(1)]
    public int Batch { get; init; } = 16;

    [Flag("grad-accum", "micro-batches per optimiser step (effective batch = batch x grad-accum)"), AtLeast(1)]
    public int GradAccum { get; init; } = 1;

    [Flag("image-size", "image side of a fresh model; 0 = the model size's"), AtLeast(0)]
    public int ImageSize { get; init; }

    /// <summary>Test hook: steps (1-based) whose loss is replaced by NaN.</summary>
    [JsonIgnore] public Func<int, bool>? InjectNaN { get; init; }

    /// <summary>min(50, steps / 10): a tenth of a short run, 50 steps of a long one.</summary>
    protected override int DefaultWarmup(int steps) => Math.Min(50, steps / 10);
}
