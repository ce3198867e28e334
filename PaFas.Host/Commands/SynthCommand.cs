using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;

namespace PaFas.Host.Commands;

/// <summary><c>pafas synth</c>: write the synthetic multimodal face world, or (<c>--renderer foreign</c>) faces of
/// other sensors from an independent renderer (<see cref="ForeignRenderer"/>).</summary>
public static class SynthCommand
{
    public static int Run(SynthArgs a, ILogger log)
    {
        SynthResult r;
        if (a.Renderer == "foreign")
        {
            var sensors = a.Sensors.IsEmpty ? ForeignSensors.All : a.Sensors.Select(ForeignSensors.ByName).ToList();
            r = ForeignSensors.Generate(a.Out, sensors, a.PerDomain, a.Size, a.Common.Seed, a.Common.Threads);
            foreach (var s in sensors) log.LogInformation("  sensor {Name}: {Desc}; depth {Depth}", s.Name, s.Description, s.Depth);
        }
        else
            r = SyntheticWorld.Generate(new SynthOptions
            {
                OutDir = a.Out, PerDomain = a.PerDomain, Size = a.Size, Seed = a.Common.Seed,
                Domains = a.Domains.ToArray(), Threads = a.Common.Threads,
            });
        log.LogInformation("synth: {N} samples in {S:F1} s ({Rate:F0}/s) -> {Manifest}", r.Samples, r.Seconds, r.Samples / Math.Max(1e-9, r.Seconds), r.ManifestPath);
        Console.WriteLine(r.ManifestPath);
        return 0;
    }
}
