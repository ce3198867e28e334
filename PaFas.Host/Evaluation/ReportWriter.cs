using System.Globalization;
using System.Text;
using System.Text.Json;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Evaluation;

/// <summary>Writes an evaluation's files: report.md (tables), metrics.json (every number), roc.png, scores.png
/// (ScottPlot), and for model evaluations samples.md (chains per attack) and predictions.jsonl (one row a sample).</summary>
public static class ReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The files of a model evaluation (<c>pafas eval</c>).</summary>
    public static void Write(string outDir, EvalOptions o, string checkpoint, FasReport r, ReasoningSummary q, IReadOnlyList<EvalRow> rows)
    {
        Directory.CreateDirectory(outDir);
        var scored = EvalRunner.ToScored(rows);
        var title = $"PA-FAS evaluation: {Path.GetFileName(o.Data)}" + (o.Drop.Count == 0 ? "" : $" (missing at test: {DropText(o)})");
        var md = new StringBuilder();
        md.Append("# ").Append(title).Append("\n\n");
        md.Append($"- model: `{checkpoint}`\n- test: `{o.Data}`" + (o.Domains.Count > 0 ? $" (domains {string.Join(",", o.Domains)})" : "") + "\n");
        md.Append(string.IsNullOrEmpty(o.Val) ? "- validation: none (threshold set on the test set itself: optimistic)\n" : $"- validation: `{o.Val}`" + (o.ValDomains.Count > 0 ? $" (domains {string.Join(",", o.ValDomains)})" : "") + "\n");
        md.Append("- score: live score = P('Real Face') / (P('Real Face') + P('Spoof Face')) at the first answer label; live iff score >= threshold\n\n");
        AppendMetrics(md, r);
        md.Append('\n');
        ReasoningReport.AppendMarkdown(md, q);
        md.Append("\nFiles: `metrics.json`, `roc.png`, `scores.png`, `samples.md`, `predictions.jsonl`.\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.md"), md.ToString());

        var json = MetricsJson(r);
        json["reasoning"] = ReasoningReport.Json(q);
        json["model"] = checkpoint;
        json["test"] = o.Data;
        json["validation"] = o.Val;
        json["drop"] = DropText(o);
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true, IncludeFields = true }));
        Plots(outDir, scored, r, title);
        AtomicFile.WriteAllText(Path.Combine(outDir, "samples.md"), Samples(rows, o.ChainsPerAttack));
        var pj = new StringBuilder();
        foreach (var row in rows)
            pj.Append(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["id"] = row.Sample.Id,
                ["domain"] = row.Sample.Domain,
                ["true_label"] = row.Sample.Label,
                ["answer"] = row.Answer,
                ["live_score"] = row.LiveScore,
                ["predicted_live"] = row.Diagnosis.ScoreLive,
                ["completion"] = row.Completion,
            }.Concat(ReasoningReport.SampleFields(GrammarStore.Default, row.Diagnosis)).ToDictionary())).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(outDir, "predictions.jsonl"), pj.ToString());
    }

    /// <summary>The files of a score-only evaluation (<c>pafas metrics</c>): report.md, metrics.json, roc.png, scores.png.</summary>
    public static void WriteScores(string outDir, string title, string source, FasReport r, Scored[] test)
    {
        Directory.CreateDirectory(outDir);
        var md = new StringBuilder($"# {title}\n\n- scores: `{source}`\n- live iff score >= threshold\n\n");
        AppendMetrics(md, r);
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.md"), md.ToString());
        var json = MetricsJson(r);
        json["scores"] = source;
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true, IncludeFields = true }));
        Plots(outDir, test, r, title);
    }

    /// <summary>The report's headline and tables as Markdown.</summary>
    public static void AppendMetrics(StringBuilder md, FasReport r)
    {
        md.Append("## Metrics (ISO/IEC 30107-3; bona fide = live = positive)\n\n");
        md.Append($"Threshold {F(r.Threshold)} ({(r.ThresholdFromValidation ? "EER threshold of the validation set" : "EER threshold of the test set itself")})");
        if (r.ValEer is { } ve) md.Append($"; validation EER {P(ve.Value)}");
        md.Append($". Test set: {r.Lives} live, {r.Spoofs} spoof.\n\n");
        md.Append("| HTER | AUC | ACER | APCER (max) | BPCER | EER | FAR | FRR |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        md.Append($"| {P(r.Hter)} | {P(r.Auc)} | {P(r.Acer)} | {P(r.Apcer)} | {P(r.Bpcer)} | {P(r.Eer)} | {P(r.Far)} | {P(r.Frr)} |\n\n");
        md.Append("| FPR | TPR |\n|---:|---:|\n");
        foreach (var t in r.TprAtFpr)
            md.Append($"| {t.Item1.ToString("0.####", Inv)} | {(t.Item2 is { } v ? P(v.Value) : "n/a (too few attacks)")} |\n");
        md.Append("\n### Per attack\n\n| attack | samples | APCER | mean live score |\n|---|---:|---:|---:|\n");
        foreach (var a in r.PerAttack)
            md.Append($"| {a.Attack} | {a.Count} | {P(a.Apcer)} | {F(a.MeanScore)} |\n");
        md.Append("\n### Per domain\n\n| domain | live | spoof | AUC | HTER | APCER | BPCER | ACER |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var d in r.PerDomain)
            md.Append($"| {(d.Domain == "" ? "(none)" : d.Domain)} | {d.Lives} | {d.Spoofs} | {O(d.Auc)} | {O(d.Hter)} | {O(d.Apcer)} | {O(d.Bpcer)} | {O(d.Acer)} |\n");
        if (!r.Warnings.IsEmpty)
        {
            md.Append("\nWarnings:\n");
            foreach (var w in r.Warnings) md.Append("- ").Append(w).Append('\n');
        }
    }

    private static Dictionary<string, object?> MetricsJson(FasReport r) => new()
    {
        ["threshold"] = r.Threshold,
        ["threshold_from_validation"] = r.ThresholdFromValidation,
        ["val_eer"] = r.ValEer?.Value,
        ["lives"] = r.Lives,
        ["spoofs"] = r.Spoofs,
        ["hter"] = r.Hter,
        ["auc"] = r.Auc,
        ["acer"] = r.Acer,
        ["apcer_max"] = r.Apcer,
        ["bpcer"] = r.Bpcer,
        ["eer"] = r.Eer,
        ["eer_threshold"] = r.EerThreshold,
        ["far"] = r.Far,
        ["frr"] = r.Frr,
        ["apcer_per_attack"] = r.PerAttack.ToDictionary(a => a.Attack, a => (object)new { apcer = a.Apcer, count = a.Count, mean_score = a.MeanScore }),
        ["tpr_at_fpr"] = r.TprAtFpr.ToDictionary(t => t.Item1.ToString("0.####", Inv), t => t.Item2?.Value),
        ["per_domain"] = r.PerDomain.ToDictionary(d => d.Domain, d => (object)new
        {
            lives = d.Lives, spoofs = d.Spoofs, auc = d.Auc?.Value, hter = d.Hter?.Value,
            apcer = d.Apcer?.Value, bpcer = d.Bpcer?.Value, acer = d.Acer?.Value,
        }),
        ["warnings"] = r.Warnings.ToArray(),
    };

    /// <summary>roc.png (ROC with the operating point) and scores.png (live-score histograms of lives and spoofs).</summary>
    public static void Plots(string outDir, Scored[] test, FasReport r, string title)
    {
        var roc = Metrics.rocPoints(test);
        var plt = new ScottPlot.Plot();
        var curve = plt.Add.Scatter(roc.Select(p => p.Fpr).ToArray(), roc.Select(p => p.Tpr).ToArray());
        curve.LegendText = $"ROC (AUC {r.Auc:F3})";
        curve.MarkerSize = 0;
        var chance = plt.Add.Line(0, 0, 1, 1);
        chance.LegendText = "chance";
        chance.LinePattern = ScottPlot.LinePattern.Dashed;
        var op = plt.Add.Marker(r.Far, 1 - r.Frr);
        op.LegendText = $"threshold {r.Threshold:F3}";
        op.MarkerSize = 10;
        plt.Title(title.Length > 70 ? title[..70] : title);
        plt.XLabel("false positive rate (spoofs accepted)");
        plt.YLabel("true positive rate (lives accepted)");
        plt.Axes.SetLimits(0, 1, 0, 1.02);
        plt.ShowLegend(ScottPlot.Alignment.LowerRight);
        SavePng(plt, Path.Combine(outDir, "roc.png"));

        var h = new ScottPlot.Plot();
        const int bins = 20;
        double lo = Math.Min(0, test.Min(s => s.Score)), hi = Math.Max(1, test.Max(s => s.Score));
        double w = (hi - lo) / bins;
        double[] Counts(bool live)
        {
            var c = new double[bins];
            foreach (var s in test.Where(s => s.IsLive == live))
                c[Math.Clamp((int)((s.Score - lo) / w), 0, bins - 1)]++;
            return c;
        }
        var centers = Enumerable.Range(0, bins).Select(i => lo + (i + 0.5) * w).ToArray();
        foreach (var (live, name) in new[] { (true, "live"), (false, "spoof") })
        {
            var bars = h.Add.Bars(centers, Counts(live));
            bars.LegendText = name;
            foreach (var b in bars.Bars) { b.Size = w * 0.9; b.FillColor = live ? ScottPlot.Colors.SteelBlue.WithAlpha(0.6) : ScottPlot.Colors.OrangeRed.WithAlpha(0.6); }
        }
        var vl = h.Add.VerticalLine(r.Threshold);
        vl.LegendText = "threshold";
        h.Title("live-score histogram");
        h.XLabel("live score");
        h.YLabel("samples");
        h.ShowLegend(ScottPlot.Alignment.UpperCenter);
        SavePng(h, Path.Combine(outDir, "scores.png"));
    }

    private static void SavePng(ScottPlot.Plot p, string path)
    {
        var tmp = path + ".tmp.png";
        p.SavePng(tmp, 640, 480);
        File.Move(tmp, path, overwrite: true);
    }

    private static string Samples(IReadOnlyList<EvalRow> rows, int perAttack)
    {
        var sb = new StringBuilder("# Sample chains\n\nUp to " + perAttack + " generated chains per true class (first ones in test order).\n");
        foreach (var g in rows.GroupBy(r => r.Sample.Label.Count > 0 ? r.Sample.Label[^1] : "?").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.Append("\n## ").Append(g.Key).Append('\n');
            foreach (var row in g.Take(perAttack))
            {
                sb.Append($"\n`{row.Sample.Id}` (domain {row.Sample.Domain}), live score {row.LiveScore:F3}, answer: {(row.Answer.Count == 0 ? "(unparsed)" : string.Join(" > ", row.Answer))}; {ReasoningReport.AgreementText(row.Diagnosis.Agreement)}\n\n");
                sb.Append("> ").Append(row.Completion.Replace("\n", " ")).Append('\n');
            }
        }
        return sb.ToString();
    }

    private static string P(double x) => double.IsNaN(x) ? "n/a" : (100 * x).ToString("0.00", Inv) + "%";
    private static string O(Microsoft.FSharp.Core.FSharpOption<double>? x) => x == null ? "n/a" : P(x.Value);
    private static string F(double x) => x.ToString("0.0000", Inv);

    /// <summary>The dropped modalities as <c>--drop</c> writes them ("none", "depth", "ir", "depth,ir").</summary>
    private static string DropText(EvalOptions o) => PaFas.Host.Cli.Values.Show(typeof(IReadOnlyList<Modality>), o.Drop);
}
