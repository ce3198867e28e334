using PaFas.Core;
using PaFas.Host.Cli;

namespace PaFas.Host.Pipeline;

/// <summary>Options of <c>pafas pipeline</c>: synth -> annotate -> split -> augment -> SFT -> GRPO -> eval on the
/// held-out domain. Each stage runs with its command's default options, the recipe's section for that command
/// (data/recipes.json) and the overrides below; <see cref="PipelineRunner.Plan"/> shows the result.</summary>
public sealed record PipelineOptions : CommonOptions
{
    [Flag("recipe", "recipe of data/recipes.json: demo (the default, minutes on a CPU) | demo-paper (the paper's method at the demo's scale) | paper (the paper's settings)"), Recipe("pipeline"), Lowercase]
    public string Recipe { get; init; } = "demo";

    [Flag("out", "output folder"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Pipeline;

    [Flag("holdout", "held-out test domain (Protocol 1); the others are the sources"), NotEmpty]
    public string Holdout { get; init; } = "W";

    [Flag("sft-steps", "override the recipe's SFT steps (its warm-up is cut to fit); 0 = the recipe's"), AtLeast(0)]
    public int SftSteps { get; init; }

    [Flag("grpo-steps", "override the recipe's GRPO steps; 0 = the recipe's"), AtLeast(0)]
    public int GrpoSteps { get; init; }

    [Flag("per-domain", "override the recipe's synthetic samples per domain; 0 = the recipe's"), AtLeast(0)]
    public int PerDomain { get; init; }

    [Flag("model-size", "override the recipe's model size (data/models.json); \"\" = the recipe's"), ModelSize(allowEmpty: true), Lowercase]
    public string ModelSize { get; init; } = "";

    [Flag("pretrained", "SFT's initial weights: a pretrained pack, checkpoint or run folder; \"\" = data/pretrained/<model size> when shipped")]
    public string Pretrained { get; init; } = "";

    [Flag("from-scratch", "SFT starts from fresh weights, not the pretrained backbone (the ablation of pretraining)")]
    public bool FromScratch { get; init; }

    /// <summary>The Protocol 1 protocol that holds out <see cref="Holdout"/> (null when none does).</summary>
    public Protocol? Protocol =>
        Protocols.protocol1.FirstOrDefault(p => p.Targets.Head.Equals(Holdout.Trim(), StringComparison.OrdinalIgnoreCase));

    public override IEnumerable<string> Rules()
    {
        if (Protocol == null)
            yield return $"--holdout must be one of {string.Join(", ", Protocols.protocol1.Select(p => p.Targets.Head))} (got '{Holdout}')";
        if (Pretrained != "" && FromScratch) yield return "--pretrained and --from-scratch exclude each other";
    }
}
