using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;

namespace PaFas.Host.Commands;

/// <summary><c>pafas inspect</c>: what a manifest holds (counts by domain, class, attack and modality), with file
/// checks and a report of skipped lines. Exit code 1 when any line is bad (with --skip-bad: after listing them all).</summary>
public static class InspectCommand
{
    public static int Run(InspectOptions a, ILogger log)
    {
        if (a.Out != "" && Path.GetFullPath(a.Out) == Path.GetFullPath(a.Data))
            throw new ArgumentException($"--out {a.Out} is the manifest being read (--data); give another file");
        var load = Manifest.LoadWithReport(a.Data, new ManifestOptions
        {
            Root = a.Root, SkipBad = a.SkipBad, CheckFiles = !a.NoCheckFiles,
            Domain = a.Domain, DomainPattern = a.DomainPattern, Attack = a.Attack, AttackPattern = a.AttackPattern,
        });
        var s = a.Limit > 0 ? load.Samples.Take(a.Limit).ToList() : load.Samples.ToList();
        Console.WriteLine($"{a.Data}: {s.Count} samples ({s.Count(x => x.IsLive)} live, {s.Count(x => !x.IsLive)} spoof)");
        void Table(string title, IEnumerable<string> keys)
        {
            Console.WriteLine($"\n{title}:");
            foreach (var g in keys.GroupBy(k => k).OrderBy(g => g.Key, StringComparer.Ordinal))
                Console.WriteLine($"  {(g.Key == "" ? "(none)" : g.Key),-32} {g.Count(),7}");
        }
        Table("by domain", s.Select(x => x.Domain));
        Table("by class (leaf)", s.Select(x => x.Label.Count > 0 ? x.Label[^1] : "?"));
        Table("by modalities present", s.Select(x => string.Join("+", ModalityModule.all.Where(m => x.PathOf(m) != null).Select(ModalityModule.key))));
        Table("by domain and class", s.Select(x => $"{x.Domain} {(x.IsLive ? "live" : "spoof")}"));
        int annotated = s.Count(x => x.Cues != null);
        Console.WriteLine($"\ncue annotations: {annotated}/{s.Count} samples");
        if (a.Out != "")
        {
            Manifest.WriteJsonl(a.Out, s);
            Console.WriteLine($"\nwrote {s.Count} samples as JSONL -> {a.Out}");
        }
        if (load.Skipped.Count > 0)
        {
            Console.WriteLine($"\nskipped {load.Skipped.Count} lines:");
            foreach (var k in load.Skipped.Take(50)) Console.WriteLine("  " + k);
            if (load.Skipped.Count > 50) Console.WriteLine($"  ... and {load.Skipped.Count - 50} more");
            log.LogError("inspect: {N} bad lines in {Data}", load.Skipped.Count, a.Data);
            return 1;
        }
        return 0;
    }
}
