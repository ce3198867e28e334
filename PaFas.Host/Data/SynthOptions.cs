using PaFas.Host.Cli;

namespace PaFas.Host.Data;

/// <summary>Options of <c>pafas synth</c>: the synthetic multimodal face world.</summary>
public sealed record SynthOptions : CommonOptions
{
    [Flag("out", "output folder for the PNGs and manifest.jsonl"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Synth;

    [Flag("per-domain", "samples per domain"), AtLeast(1)]
    public int PerDomain { get; init; } = 150;

    [Flag("size", "image width and height in pixels"), AtLeast(16)]
    public int Size { get; init; } = 64;

    [Flag("domains", "comma-separated domain names of the world", DefaultText = "all: C,P,S,W")]
    public IReadOnlyList<string> Domains { get; init; } = Array.Empty<string>();

    [Flag("live-fraction", "fraction of live samples per domain"), Range(0, 1)]
    public double LiveFraction { get; init; } = 0.4;
}
