using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas synth</c>: write the synthetic multimodal face world.</summary>
public static class SynthCommand
{
    public static int Run(SynthArgs a, ILogger log)
    {
        OutputGuard.Folder("--out", a.Out, null);
        var r = SyntheticWorld.Generate(new SynthOptions
        {
            OutDir = a.Out, PerDomain = a.PerDomain, Size = a.Size, Seed = a.Common.Seed,
            Domains = a.Domains.ToArray(), Threads = a.Common.Threads,
        });
        log.LogInformation("synth: {N} samples in {S:F1} s ({Rate:F0}/s) -> {Manifest}", r.Samples, r.Seconds, r.Samples / Math.Max(1e-9, r.Seconds), r.ManifestPath);
        Console.WriteLine(r.ManifestPath);
        return 0;
    }
}
