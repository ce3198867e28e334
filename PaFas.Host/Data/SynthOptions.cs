using PaFas.Host.Cli;

namespace PaFas.Host.Data;

/// <summary>Options of <c>pafas synth</c>: the synthetic multimodal face world, or (<c>--renderer foreign</c>) an
/// independent renderer of other sensors.</summary>
public sealed record SynthOptions : CommonOptions
{
    [Flag("out", "output folder for the PNGs and manifest.jsonl"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Synth;

    [Flag("per-domain", "samples per domain (per sensor with --renderer foreign)"), AtLeast(1)]
    public int PerDomain { get; init; } = 150;

    [Flag("size", "image width and height in pixels"), AtLeast(16)]
    public int Size { get; init; } = 64;

    [Flag("domains", "comma-separated domain names of the world", DefaultText = "all: C,P,S,W")]
    public IReadOnlyList<string> Domains { get; init; } = Array.Empty<string>();

    [Flag("live-fraction", "fraction of live samples per domain"), Range(0, 1)]
    public double LiveFraction { get; init; } = 0.4;

    [Flag("renderer", "world (the synthetic world) | foreign (an independent renderer of other sensors)", Value = "world|foreign"), OneOf("world", "foreign"), Lowercase]
    public string Renderer { get; init; } = "world";

    [Flag("sensor", "foreign sensors, comma-separated: kinect16, realsense8, orbbec8, tof16 (only with --renderer foreign)",
        DefaultText = "all"), Lowercase]
    public IReadOnlyList<string> Sensors { get; init; } = Array.Empty<string>();

    public override IEnumerable<string> Rules()
    {
        if (Renderer == "foreign" && Domains.Count > 0)
            yield return "--domains names the synthetic world's domains; the foreign renderer takes --sensor";
        if (Renderer != "foreign" && Sensors.Count > 0) yield return "--sensor needs --renderer foreign";
        var known = ForeignSensors.All.Select(s => s.Name).ToArray();
        foreach (var s in Sensors.Where(s => !known.Contains(s)))
            yield return $"--sensor must be one of {string.Join(" | ", known)} (got '{s}')";
    }
}
