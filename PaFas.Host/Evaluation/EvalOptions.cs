using PaFas.Core;
using PaFas.Host.Cli;

namespace PaFas.Host.Evaluation;

/// <summary>Options of <c>pafas eval</c>: greedy chains + live scores on a test set, threshold from a validation
/// set, report.</summary>
public sealed record EvalOptions : CommonOptions
{
    [Flag("model", "run or checkpoint folder to evaluate"), NotEmpty]
    public string Model { get; init; } = DefaultPaths.Model;

    [Flag("data", "test manifest"), NotEmpty]
    public string Data { get; init; } = DefaultPaths.Manifest;

    [Flag("val", "validation manifest: the decision threshold is its EER threshold (\"\" = set on test, and the report says so)")]
    public string Val { get; init; } = "";

    [Flag("root", "folder that relative image paths are resolved against (default: the manifest's folder)")]
    public string Root { get; init; } = "";

    [Flag("out", "report folder"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Eval;

    [Flag("drop", "modalities missing at test (Protocol 2)", Value = "none|depth|ir|depth,ir")]
    public IReadOnlyList<Modality> Drop { get; init; } = Array.Empty<Modality>();

    [Flag("domains", "comma-separated test domains to keep (default: all)")]
    public IReadOnlyList<string> Domains { get; init; } = Array.Empty<string>();

    [Flag("val-domains", "comma-separated validation domains to keep (default: all)")]
    public IReadOnlyList<string> ValDomains { get; init; } = Array.Empty<string>();

    [Flag("protocol", "a protocol of the core (p1-W, p2-W-ir, p3-PS, CPS->W) that sets the domains and drop not given")]
    public Protocol? Protocol { get; init; }

    [Flag("batch", "faces per forward pass"), AtLeast(1)]
    public int Batch { get; init; } = 32;

    [Flag("max-new", "maximum completion tokens"), AtLeast(1)]
    public int MaxNew { get; init; } = 256;

    [Flag("chains-per-attack", "sample chains written to samples.md per attack"), AtLeast(0)]
    public int ChainsPerAttack { get; init; } = 2;

    /// <summary>These options with <see cref="Protocol"/> applied: its targets as the test domains, its sources as
    /// the validation domains and its drop, each where not given explicitly.</summary>
    public EvalOptions WithProtocol() => Protocol is not { } p ? this : this with
    {
        Domains = Domains.Count > 0 ? Domains : p.Targets.ToArray(),
        ValDomains = ValDomains.Count > 0 ? ValDomains : p.Sources.ToArray(),
        Drop = Drop.Count > 0 ? Drop : p.Drop.ToArray(),
    };
}
