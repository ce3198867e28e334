using Microsoft.Extensions.Logging;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas synth</c>: write the synthetic multimodal face world, or (<c>--renderer foreign</c>) faces of
/// other sensors from an independent renderer (<see cref="ForeignRenderer"/>).</summary>
public static class SynthCommand
{
    public static int Run(SynthOptions o, ILogger log)
    {
        OutputGuard.Folder("--out", o.Out, null);
        SynthResult r;
        if (o.Renderer == "foreign")
        {
            var sensors = o.Sensors.Count == 0 ? ForeignSensors.All : o.Sensors.Select(ForeignSensors.ByName).ToList();
            r = ForeignSensors.Generate(o.Out, sensors, o.PerDomain, o.Size, o.Seed, o.Threads, o.LiveFraction);
            foreach (var s in sensors) log.LogInformation("  sensor {Name}: {Desc}; depth {Depth}", s.Name, s.Description, s.Depth);
        }
        else
            r = SyntheticWorld.Generate(o);
        log.LogInformation("synth: {N} samples in {S:F1} s ({Rate:F0}/s) -> {Manifest}", r.Samples, r.Seconds, r.Samples / Math.Max(1e-9, r.Seconds), r.ManifestPath);
        Console.WriteLine(r.ManifestPath);
        return 0;
    }
}
