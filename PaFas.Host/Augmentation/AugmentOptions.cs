using PaFas.Core;
using PaFas.Host.Cli;

namespace PaFas.Host.Augmentation;

/// <summary>What <c>pafas augment</c> writes for each labelled sample.</summary>
public enum AugmentMode
{
    /// <summary>PNRPS reasoning chains (with the chosen answer shuffle).</summary>
    Pnrps,
    /// <summary>The true answer only, never shuffled: the raw-label baseline of the paper's Table 1.</summary>
    Raw,
}

/// <summary>Options of <c>pafas augment</c>: manifest + cue annotations -> SFT chains.</summary>
public sealed record AugmentOptions : CommonOptions
{
    [Flag("data", "manifest: JSONL or list file"), NotEmpty]
    public string Data { get; init; } = DefaultPaths.Manifest;

    [Flag("annotations", "cue annotations JSONL (from pafas annotate or any model); \"\" = the manifest's cues")]
    public string Annotations { get; init; } = "";

    [Flag("root", "folder that relative image paths are resolved against (default: the manifest's folder)")]
    public string Root { get; init; } = "";

    [Flag("out", "output chains JSONL"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Chains;

    [Flag("paths", "N: PNRPS reasoning paths per sample (the paper's N = 50)"), AtLeast(1)]
    public int Paths { get; init; } = 50;

    [Flag("shuffle", "answer shuffle of the chains (pnrps mode)")]
    public ShuffleMode Shuffle { get; init; } = ShuffleMode.AnswerShuffle;

    [Flag("mode", "pnrps (reasoning chains) | raw (the true answer only, never shuffled: the baseline)")]
    public AugmentMode Mode { get; init; } = AugmentMode.Pnrps;

    [Flag("labelled", "labelled-sample budget, a seeded subset (the paper: about 800); 0 = all"), AtLeast(0)]
    public int Labelled { get; init; } = 800;

    [Flag("alpha", "PNRPS path length factor: at most alpha * (D - 1) steps")]
    public double Alpha { get; init; } = Pnrps.defaultConfig.Alpha;

    [Flag("domains", "comma-separated source domains to keep (default: all)")]
    public IReadOnlyList<string> Domains { get; init; } = Array.Empty<string>();

    /// <summary>The PNRPS settings: <see cref="Alpha"/> and <see cref="Paths"/> over the core's defaults.</summary>
    public PnrpsConfig PathSampling() => new(Alpha, Paths, PaFas.Core.Pnrps.defaultConfig.DetourProbability,
        PaFas.Core.Pnrps.defaultConfig.MaxObservationsPerNode, PaFas.Core.Pnrps.defaultConfig.MaxAttemptsFactor);

    /// <summary>alpha and N are checked by the core's one rule (<see cref="PaFas.Core.Pnrps.checkConfig"/>).</summary>
    public override IEnumerable<string> Rules()
    {
        if (PaFas.Core.Pnrps.checkConfig(PathSampling()) is { IsError: true } e) yield return $"--alpha / --paths: {e.ErrorValue}";
    }
}
