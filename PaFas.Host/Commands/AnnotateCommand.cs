using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas annotate</c>: per-modality cue annotations computed from the images (training-free image
/// statistics), written as <c>{"id","cues"}</c> JSON lines for <c>pafas augment --annotations</c>; <c>--report</c>
/// compares them with the manifest's ground-truth cues (the synthetic world has them).</summary>
public static class AnnotateCommand
{
    public static int Run(AnnotateArgs a, ILogger log)
    {
        var load = Manifest.LoadWithReport(a.Data, new ManifestOptions { Root = a.Root, SkipBad = a.SkipBad });
        foreach (var s in load.Skipped) log.LogWarning("annotate: skipped {Line}", s);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ann = Annotator.AnnotateSamples(load.Samples, threads: a.Common.Threads);
        Annotator.WriteJsonl(a.Out, ann);
        log.LogInformation("annotate: {N} samples in {S:F1} s -> {Out}", ann.Count, sw.Elapsed.TotalSeconds, a.Out);
        if (a.Report)
        {
            var truth = load.Samples.Where(s => s.Cues != null).ToList();
            if (truth.Count == 0) log.LogWarning("annotate --report: the manifest has no ground-truth cues to compare with");
            else
            {
                var rep = AnnotationReports.Agreement(truth, ann.ToDictionary(x => x.Id, x => x.Cues));
                var text = rep.ToText();
                Console.WriteLine(text);
                AtomicFile.WriteAllText(Path.ChangeExtension(a.Out, ".agreement.txt"), text);
            }
        }
        Console.WriteLine(a.Out);
        return 0;
    }
}
