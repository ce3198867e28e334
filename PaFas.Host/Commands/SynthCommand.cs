using Microsoft.Extensions.Logging;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas synth</c>: write the synthetic multimodal face world.</summary>
public static class SynthCommand
{
    public static int Run(SynthOptions o, ILogger log)
    {
        OutputGuard.Folder("--out", o.Out, null);
        var r = SyntheticWorld.Generate(o);
        log.LogInformation("synth: {N} samples in {S:F1} s ({Rate:F0}/s) -> {Manifest}", r.Samples, r.Seconds, r.Samples / Math.Max(1e-9, r.Seconds), r.ManifestPath);
        Console.WriteLine(r.ManifestPath);
        return 0;
    }
}
