using System.Text;

namespace PaFas.Host.Data;

/// <summary>Per-cue agreement of predicted with ground-truth cues.</summary>
public sealed record CueAgreement(string Cue, int Support, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>Agreement of one class (leaf): samples, the share whose predicted cue set equals the truth, and the
/// mean Jaccard overlap of the two sets.</summary>
public sealed record ClassAgreement(string Class, int Samples, double ExactSetRate, double MeanJaccard);

/// <summary>Agreement report: per cue, per class, the exact-set rate, and the number of samples compared.</summary>
public sealed record AgreementReport(IReadOnlyList<CueAgreement> PerCue, double ExactSetRate, int Samples, IReadOnlyList<ClassAgreement> PerClass)
{
    /// <summary>Mean F1 over the cues present in the ground truth.</summary>
    public double MacroF1 => PerCue.Any(c => c.Support > 0) ? PerCue.Where(c => c.Support > 0).Average(c => c.F1) : 0;

    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"samples {Samples}  exact-set rate {ExactSetRate:F3}  macro F1 {MacroF1:F3}");
        sb.AppendLine($"{"cue",-16} {"support",7} {"prec",6} {"recall",6} {"F1",6}");
        foreach (var c in PerCue) sb.AppendLine($"{c.Cue,-16} {c.Support,7} {c.Precision,6:F3} {c.Recall,6:F3} {c.F1,6:F3}");
        if (PerClass.Count > 0)
        {
            sb.AppendLine($"{"class",-28} {"samples",7} {"exact",6} {"jaccard",7}");
            foreach (var c in PerClass) sb.AppendLine($"{c.Class,-28} {c.Samples,7} {c.ExactSetRate,6:F3} {c.MeanJaccard,7:F3}");
        }
        return sb.ToString();
    }
}

/// <summary>Reports on annotations: agreement with ground-truth cues (per cue and per class), and, where no
/// truth is known, the rate of each cue per class next to what the class should show.</summary>
public static class AnnotationReports
{
    /// <summary>The class of a sample for reports: its leaf, or "Real Face" / "Spoof Face (unknown attack)".</summary>
    public static string ClassOf(SampleRecord s) =>
        s.IsLive ? SyntheticWorld.Live : s.Attack != "" && CueCalibration.Leaves.Contains(s.Attack) ? s.Attack : s.Label.Count > 1 ? s.Label[^1] : "Spoof Face (unknown attack)";

    /// <summary>Agreement of predicted cues with the samples' ground-truth cues (samples without cues are
    /// skipped; a cue counts only in the modalities the sample has).</summary>
    public static AgreementReport Agreement(IReadOnlyList<SampleRecord> truth, IReadOnlyDictionary<string, IReadOnlyList<string>> predicted)
    {
        var stats = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // support, tp, fp, fn
        int[] Of(string c) => stats.TryGetValue(c, out var a) ? a : stats[c] = new int[4];
        var perClass = new SortedDictionary<string, (int N, int Exact, double Jaccard)>(StringComparer.Ordinal);
        int n = 0, exact = 0;
        foreach (var s in truth)
        {
            if (s.Cues == null || !predicted.TryGetValue(s.Id, out var pred)) continue;
            n++;
            var t = s.Cues.ToHashSet(StringComparer.Ordinal);
            var p = pred.ToHashSet(StringComparer.Ordinal);
            bool same = t.SetEquals(p);
            if (same) exact++;
            foreach (var c in t) { Of(c)[0]++; if (p.Contains(c)) Of(c)[1]++; else Of(c)[3]++; }
            foreach (var c in p) if (!t.Contains(c)) Of(c)[2]++;
            int union = t.Union(p).Count();
            var k = ClassOf(s);
            var cur = perClass.GetValueOrDefault(k);
            perClass[k] = (cur.N + 1, cur.Exact + (same ? 1 : 0), cur.Jaccard + (union == 0 ? 1 : (double)t.Intersect(p).Count() / union));
        }
        var per = stats.Select(kv => new CueAgreement(kv.Key, kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3])).ToList();
        var classes = perClass.Select(kv => new ClassAgreement(kv.Key, kv.Value.N, (double)kv.Value.Exact / kv.Value.N, kv.Value.Jaccard / kv.Value.N)).ToList();
        return new AgreementReport(per, n == 0 ? 0 : (double)exact / n, n, classes);
    }

    /// <summary>Per class: how many samples, and the share showing each cue, with the cues the class should
    /// show (<see cref="CueCalibration.Expected"/>) marked '+' and those it should not show marked '-'
    /// (a '-' cue with a high rate, or a '+' cue with a low one, is a sign the annotation is off).</summary>
    public static string CueRates(IReadOnlyList<SampleRecord> samples, IReadOnlyDictionary<string, IReadOnlyList<string>> predicted)
    {
        var sb = new StringBuilder();
        sb.AppendLine("cue rates per class (+ the class should show it, - it should not; a rate >= 50% is shown with a star when it is '-', a rate < 50% when it is '+')");
        foreach (var g in samples.Where(s => predicted.ContainsKey(s.Id)).GroupBy(ClassOf).OrderBy(g => g.Key == SyntheticWorld.Live ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            int n = g.Count();
            var counts = g.SelectMany(s => predicted[s.Id]).GroupBy(c => c).ToDictionary(c => c.Key, c => c.Count());
            var expected = CueCalibration.Expected(g.Key);
            var cues = counts.Keys.Union(expected.Should).OrderBy(c => c.StartsWith("rgb") ? 0 : c.StartsWith("depth") ? 1 : 2).ThenBy(c => c, StringComparer.Ordinal);
            var parts = cues.Select(c =>
            {
                double r = (double)counts.GetValueOrDefault(c) / n;
                char mark = expected.Should.Contains(c) ? '+' : expected.ShouldNot.Contains(c) ? '-' : ' ';
                bool odd = mark == '+' && r < 0.5 || mark == '-' && r >= 0.5;
                return $"{mark}{c} {100 * r:F0}%{(odd ? "*" : "")}";
            });
            sb.AppendLine($"  {g.Key,-28} n={n,-5} {string.Join("  ", parts)}");
        }
        return sb.ToString();
    }
}
