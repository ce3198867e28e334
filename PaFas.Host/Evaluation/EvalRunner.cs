using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using PaFas.Core;
using PaFas.Host.Augmentation;
using PaFas.Host.Data;
using PaFas.Host.Inference;
using PaFas.Host.IO;
using PaFas.Host.Model;

namespace PaFas.Host.Evaluation;

/// <summary>One generated completion of a sample, judged (<see cref="Judge.completion"/>), with the truth it is
/// measured against.</summary>
public sealed record Generated(SampleRecord Sample, string Completion, double LiveScore, Judgement Judgement, SampleTruth Truth);

/// <summary>One evaluated sample: its completion measured against the truth and the live-score verdict.</summary>
public sealed record EvalRow(SampleRecord Sample, string Completion, double LiveScore, Diagnosis Diagnosis)
{
    /// <summary>The written answer as read by the judge; empty when it did not parse.</summary>
    public IReadOnlyList<string> Answer => Diagnosis.Judgement.Answer?.Value.ToArray() ?? Array.Empty<string>();
}

/// <summary>What <see cref="EvalRunner.Run"/> produced.</summary>
public sealed record EvalResult(string OutDir, FasReport Report, ReasoningSummary Quality, IReadOnlyList<EvalRow> Test);

/// <summary>Runs a trained model on a test set (greedy chains + live scores), takes the threshold from a
/// validation set, and writes report.md, metrics.json, roc.png, scores.png, samples.md and predictions.jsonl.</summary>
public static class EvalRunner
{
    public static EvalResult Run(EvalOptions o, ILogger log)
    {
        var grammar = GrammarStore.Default;
        o.Validate();
        var drop = o.Drop.ToArray();
        // Both splits are read and their files checked (headers, slot rules) before the model is loaded, so that
        // a bad line or an empty split fails at once, not after the test set has been scored.
        var manifestOptions = new ManifestOptions { Root = o.Root, CheckFiles = true };
        var test = Filter(Manifest.Load(o.Data, manifestOptions), o.Domains, o.Data, "test");
        var val = string.IsNullOrEmpty(o.Val) ? null : Filter(Manifest.Load(o.Val, manifestOptions), o.ValDomains, o.Val, "validation");
        ClassCheck.RequireBoth(test, o.Data, "test");
        if (val != null) ClassCheck.RequireBoth(val, o.Val, "validation");
        var dir = CheckpointFolder.Resolve(o.Model);
        using var model = LoadedModel.Load(dir, TorchRuntime.ResolveDevice(o.Device));
        log.LogInformation("eval: {Model} on {N} test samples from {Data}{Drop}", dir, test.Count, o.Data,
            drop.Length > 0 ? " with " + string.Join("+", drop.Select(ModalityModule.key)) + " missing" : "");
        var testRows = Score(model, grammar, test, drop, o, log, "test");
        List<Generated>? valRows = null;
        if (val != null)
        {
            log.LogInformation("eval: {N} validation samples from {Val} (threshold = their EER threshold)", val.Count, o.Val);
            valRows = Score(model, grammar, val, drop, o, log, "val");
        }
        var report = Metrics.report(valRows == null ? null : FSharpOption<Scored[]>.Some(ToScored(valRows)), ToScored(testRows));
        if (report.IsError)
            throw new InvalidDataException($"{(report.ErrorValue.StartsWith("validation") ? o.Val : o.Data)}: cannot compute metrics: {report.ErrorValue}");
        var rows = Assess(grammar, testRows, report.ResultValue.Threshold);
        var quality = DiagnosisModule.summarize(rows.Select(r => r.Diagnosis));
        Directory.CreateDirectory(o.Out);
        ReportWriter.Write(o.Out, o, dir, report.ResultValue, quality, rows);
        AtomicFile.WriteAllText(Path.Combine(o.Out, "threshold.json"),
            JsonSerializer.Serialize(new { threshold = report.ResultValue.Threshold, from_validation = report.ResultValue.ThresholdFromValidation }));
        return new EvalResult(o.Out, report.ResultValue, quality, rows);
    }

    /// <summary>Measures judged completions against their truth and the live-score verdict at the threshold.</summary>
    public static List<EvalRow> Assess(Grammar g, IEnumerable<Generated> rows, double threshold) =>
        rows.Select(r => new EvalRow(r.Sample, r.Completion, r.LiveScore,
            DiagnosisModule.assess(g, r.Truth, r.LiveScore >= threshold, r.Judgement))).ToList();

    /// <summary>The truth a sample's completion is measured against, for the modalities the model was shown.</summary>
    public static SampleTruth TruthOf(SampleRecord s, FaceTensors shown)
    {
        var cues = s.Cues == null ? null
            : FSharpOption<FSharpSet<Cue>>.Some(SetModule.OfSeq(s.Cues.Select(CueModule.tryParse).Where(c => c != null).Select(c => c!.Value)));
        return new SampleTruth(SampleLabelModule.names(s.Truth), cues, shown.Availability);
    }

    /// <summary>The samples of the given domains (all when none is given); an empty result is an error naming the
    /// file, the domains asked for and the domains the file has.</summary>
    public static List<SampleRecord> Filter(IReadOnlyList<SampleRecord> all, IReadOnlyList<string> domains, string file, string what)
    {
        var set = domains.Select(d => d.Trim()).Where(d => d != "").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = all.Where(s => set.Count == 0 || set.Contains(s.Domain)).ToList();
        if (kept.Count == 0)
        {
            var present = all.Select(s => s.Domain == "" ? "(none)" : s.Domain).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal);
            throw new InvalidDataException($"{file}: the {what} split is empty: no sample has domain {string.Join(" or ", set)} " +
                $"(the file's domains: {string.Join(", ", present)})");
        }
        return kept;
    }

    public static Scored[] ToScored(IEnumerable<EvalRow> rows) =>
        ToScored(rows.Select(r => (r.Sample, r.LiveScore)));

    public static Scored[] ToScored(IEnumerable<Generated> rows) =>
        ToScored(rows.Select(r => (r.Sample, r.LiveScore)));

    private static Scored[] ToScored(IEnumerable<(SampleRecord Sample, double LiveScore)> rows) =>
        rows.Select(r => new Scored(r.LiveScore, r.Sample.IsLive, r.Sample.IsLive ? "" : AttackOf(r.Sample), r.Sample.Domain)).ToArray();

    private static string AttackOf(SampleRecord s) =>
        s.Label.Count > 1 ? s.Label[^1] : string.IsNullOrEmpty(s.Attack) ? "Unknown Attack" : s.Attack;

    private static List<Generated> Score(LoadedModel model, Grammar g, List<SampleRecord> samples, Modality[] drop,
        EvalOptions o, ILogger log, string what)
    {
        var rows = new List<Generated>(samples.Count);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int start = 0; start < samples.Count; start += o.Batch)
        {
            var chunk = samples.Skip(start).Take(o.Batch).ToList();
            var faces = chunk.Select(s =>
            {
                var f = ImageLoader.Load(s, model.Config.ImageSize);
                if (drop.Length == 0) return f;
                if (AvailabilityModule.drop(drop, f.Availability).IsError)
                    throw new InvalidDataException($"{s.Source}: nothing left after dropping {string.Join("+", drop.Select(ModalityModule.key))}");
                return f.Drop(drop);
            }).ToList();
            var raw = model.Run(faces, o.MaxNew);
            for (int i = 0; i < chunk.Count; i++)
            {
                var s = chunk[i];
                rows.Add(new Generated(s, raw[i].Text, raw[i].LiveScore, Judge.completion(g, raw[i].Text), TruthOf(s, faces[i])));
            }
            log.LogInformation("eval {What}: {Done}/{Total} samples ({Rate:F1}/s)", what, rows.Count, samples.Count,
                rows.Count / Math.Max(1e-9, sw.Elapsed.TotalSeconds));
        }
        return rows;
    }
}
