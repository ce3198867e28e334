namespace PaFas.Host.Training;

/// <summary>PNG plots of a run folder's metrics.jsonl (ScottPlot 5): loss.png for every stage, reasoning.png (the
/// validation's reasoning measures) where validation generated, reward.png and zero_std.png for GRPO.</summary>
public static class Plots
{
    /// <summary>One line of a plot: the metric key in metrics.jsonl and its legend text.</summary>
    public sealed record Series(string Key, string Legend);

    /// <summary>Writes the plots of a run folder; returns the files written (a plot without data is skipped).</summary>
    public static IReadOnlyList<string> WriteAll(string runDir)
    {
        var rows = MetricsLog.Read(Path.Combine(runDir, RunFolder.MetricsFile));
        var written = new List<string>();
        void Add(string? f) { if (f != null) written.Add(f); }
        Add(Line(rows, Path.Combine(runDir, "loss.png"), "Training loss", "loss",
            new Series("loss", "train loss"), new Series("val_loss", "validation loss")));
        Add(Line(rows, Path.Combine(runDir, "reward.png"), "GRPO reward", "mean reward",
            new Series("reward_mean", "total"), new Series("reward_format", "format"), new Series("reward_class", "classification"),
            new Series("val_accuracy", "validation accuracy")));
        Add(Line(rows, Path.Combine(runDir, "reasoning.png"), "Validation: truth -> chain -> answer -> score", "rate",
            new Series("val_conclusion_live_spoof_accuracy", "conclusion live/spoof = truth"), new Series("val_binary_accuracy", "answer live/spoof = truth"),
            new Series("val_conclusion_leaf_accuracy", "conclusion = true leaf"), new Series("val_accuracy", "answer = true label"),
            new Series("val_consistency", "conclusion = answer"), new Series("val_answer_score_agreement", "answer = score verdict"),
            new Series("val_self_contradiction_rate", "self-contradicting"), new Series("val_faithfulness", "faithfulness")));
        Add(Line(rows, Path.Combine(runDir, "zero_std.png"), "Zero-std groups (all rewards equal: no advantage)", "fraction",
            new Series("zero_std_fraction", "zero-std fraction")));
        return written;
    }

    /// <summary>A line plot of the given metrics against "step"; returns the path, or null when none of the
    /// series has a finite value.</summary>
    public static string? Line(IReadOnlyList<Dictionary<string, double>> rows, string path, string title, string yLabel,
        params Series[] series)
    {
        var plot = new ScottPlot.Plot();
        int drawn = 0;
        foreach (var s in series)
        {
            var pts = rows.Where(r => r.ContainsKey("step") && r.TryGetValue(s.Key, out var v) && double.IsFinite(v))
                .Select(r => (X: r["step"], Y: r[s.Key])).OrderBy(p => p.X).ToArray();
            if (pts.Length == 0) continue;
            var sc = plot.Add.Scatter(pts.Select(p => p.X).ToArray(), pts.Select(p => p.Y).ToArray());
            sc.LegendText = s.Legend;
            sc.MarkerSize = pts.Length > 40 ? 0 : 4;
            drawn++;
        }
        if (drawn == 0) return null;
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(yLabel);
        if (drawn > 1) plot.ShowLegend();
        plot.SavePng(path, 800, 500);
        return path;
    }
}
