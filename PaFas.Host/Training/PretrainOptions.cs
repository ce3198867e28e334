using System.Text.Json.Serialization;
using PaFas.Host.Cli;
using PaFas.Host.Data;

namespace PaFas.Host.Training;

/// <summary>Options of <c>pafas pretrain</c>: perception pretraining on the randomized-sensor stream (no FAS labels).
/// The optimiser, schedule, checkpoint and resume knobs are those of <see cref="TrainOptions"/>.</summary>
public sealed record PretrainOptions : TrainOptions
{
    public PretrainOptions()
    {
        Out = "runs/pretrain";
        Steps = 600;
        Lr = 1e-3;
        Schedule = ScheduleKind.Cosine;
    }

    [Flag("model-size", "model size preset of data/models.json"), ModelSize, Lowercase]
    public string ModelSize { get; init; } = "small";

    [Flag("image-size", "image side of the model; 0 = the model size's"), AtLeast(0)]
    public int ImageSize { get; init; }

    [Flag("batch", "stream faces per optimiser step (one sequence each)"), AtLeast(1)]
    public int Batch { get; init; } = 32;

    [Flag("describe-share", "share of the describe task (the rest: describe one named modality)"), Range(0, 1)]
    public double DescribeShare { get; init; } = 0.5;

    [Flag("probe-per-domain", "held-out probe faces per protocol domain C, P, S, W; 0 = none"), AtLeast(0)]
    public int ProbePerDomain { get; init; } = 24;

    [Flag("probe-seed", "seed of the probe's faces (rendered with the four domains' own settings)")]
    public int ProbeSeed { get; init; } = 7;

    [Flag("pack", "after training, write final/ as a pretrained pack (float16 parts + pack.json) into this new folder; \"\" = no pack")]
    public string Pack { get; init; } = "";

    /// <summary>The stream's sensor ranges.</summary>
    [JsonIgnore] public SensorRanges Ranges { get; init; } = SensorRanges.Default;

    /// <summary>min(30, steps / 10).</summary>
    protected override int DefaultWarmup(int steps) => Math.Min(30, steps / 10);
}
