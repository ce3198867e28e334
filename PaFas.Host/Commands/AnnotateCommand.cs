using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas annotate</c>: per-modality cue annotations computed from the images (training-free image
/// statistics), written as <c>{"id","cues"}</c> JSON lines for <c>pafas augment --annotations</c>. The thresholds are
/// the synthetic world's, or (<c>--calibrate domain|pooled</c>) learned from the manifest's labels per domain;
/// <c>--report</c> compares with ground-truth cues where the manifest has them and prints cue rates per class;
/// <c>--sheet</c> draws a few annotated faces per class into a PNG for a person to check.</summary>
public static class AnnotateCommand
{
    public static int Run(AnnotateOptions a, ILogger log)
    {
        OutputGuard.File("--out", a.Out, GuardedInput.File("--data", a.Data));
        if (a.Sheet != "") OutputGuard.File("--sheet", a.Sheet, GuardedInput.File("--data", a.Data));
        // Every image is checked first (exists, sound PNG/JPEG, slot rules in the headers): with --skip-bad a line whose
        // image is missing or corrupt is skipped and listed, as inspect does; without it the first one fails at once.
        var load = Manifest.LoadWithReport(a.Data, new ManifestOptions { Root = a.Root, SkipBad = a.SkipBad, CheckFiles = true });
        foreach (var s in load.Skipped) log.LogWarning("annotate: skipped {Line}", s);
        var samples = load.Samples;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var x = Annotator.FeaturesOf(samples, threads: a.Threads);
        Calibration? cal = null;
        if (a.Calibrate != "none")
        {
            cal = CueCalibration.Fit(samples, x, a.MinPerClass, a.Calibrate == "pooled", a.Data);
            var text = cal.ToText();
            Console.WriteLine(text);
            AtomicFile.WriteAllText(Path.ChangeExtension(a.Out, ".calibration.txt"), text);
            AtomicFile.WriteAllText(Path.ChangeExtension(a.Out, ".calibration.json"), cal.ToJson() + "\n");
            foreach (var f in cal.Fits.Where(f => f.Note.StartsWith("weak", StringComparison.Ordinal)))
                log.LogWarning("annotate: domain {Domain}: {Decision} ({Cue}) separates its classes poorly (balanced accuracy {B:F3}): check its cue on the contact sheet",
                    f.Domain, f.Decision, f.Cue, f.BalancedAccuracy);
        }
        else if (a.Thresholds == "" && samples.Any(s => !SyntheticWorld.DefaultDomains.Any(d => d.Name == s.Domain)))
            log.LogWarning("annotate: the thresholds are the synthetic world's; on another sensor pass --calibrate domain (learned from the labels)");
        IReadOnlyDictionary<string, CueThresholds>? perDomain = cal?.PerDomain;
        if (a.Thresholds != "")
        {
            perDomain = Calibration.LoadThresholds(a.Thresholds);
            var missing = samples.Select(s => s.Domain).Distinct().Where(d => !perDomain.ContainsKey(d) && !perDomain.ContainsKey("all")).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{a.Thresholds}: no thresholds for domain{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(d => d == "" ? "(none)" : d))} " +
                    $"of {a.Data} (it has: {string.Join(", ", perDomain.Keys)})");
        }
        CueThresholds? For(SampleRecord s) => perDomain == null ? null : perDomain.TryGetValue(s.Domain, out var t) ? t : perDomain["all"];
        var ann = samples.Select((s, i) => (s.Id, Annotator.Decide(x[i], For(s)))).ToList();
        Annotator.WriteJsonl(a.Out, ann);
        log.LogInformation("annotate: {N} samples in {S:F1} s -> {Out}", ann.Count, sw.Elapsed.TotalSeconds, a.Out);
        var predicted = ann.ToDictionary(p => p.Id, p => p.Item2);
        if (a.Report)
        {
            var truth = samples.Where(s => s.Cues != null).ToList();
            var text = (truth.Count > 0 ? AnnotationReports.Agreement(truth, predicted).ToText() + "\n" : "no ground-truth cues in the manifest: cue rates only\n\n")
                + AnnotationReports.CueRates(samples, predicted);
            Console.WriteLine(text);
            AtomicFile.WriteAllText(Path.ChangeExtension(a.Out, ".report.txt"), text);
        }
        if (a.Sheet != "")
        {
            var rows = ContactSheet.Pick(samples, 2).Select(i => (samples[i], ImageLoader.Load(samples[i], 64), predicted[samples[i].Id])).ToList();
            AtomicFile.WriteAllBytes(a.Sheet, ContactSheet.Render(rows));
            log.LogInformation("annotate: contact sheet of {N} faces -> {Sheet}", rows.Count, a.Sheet);
        }
        Console.WriteLine(a.Out);
        return 0;
    }
}
