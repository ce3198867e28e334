using System.Text;
using System.Text.Json;
using PaFas.Core;
using static PaFas.Host.Data.SyntheticWorld;

namespace PaFas.Host.Data;

/// <summary>One learned decision: where a statistic separates the classes that should show a cue from those
/// that should not, in one domain, and how well (balanced accuracy of the cut on those samples).</summary>
public sealed record CutFit(string Domain, string Decision, string Cue, string Cut, double BalancedAccuracy, int Positives, int Negatives, string Note);

/// <summary>The thresholds learned per domain and the report of every decision.</summary>
public sealed record Calibration(IReadOnlyDictionary<string, CueThresholds> PerDomain, IReadOnlyList<CutFit> Fits, int MinPerClass)
{
    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"calibration (per domain; a decision is learned from the classes that should show its cue (+) and those that should not (-), at least {MinPerClass} of each)");
        sb.AppendLine($"{"domain",-10} {"decision",-16} {"cue",-16} {"cut",-34} {"bal.acc",7} {"n+",5} {"n-",5}  note");
        foreach (var f in Fits)
            sb.AppendLine($"{f.Domain,-10} {f.Decision,-16} {f.Cue,-16} {f.Cut,-34} {(f.Positives > 0 && f.Negatives > 0 ? f.BalancedAccuracy.ToString("F3") : "-"),7} {f.Positives,5} {f.Negatives,5}  {f.Note}");
        return sb.ToString();
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string ToJson() => JsonSerializer.Serialize(new
    {
        min_per_class = MinPerClass,
        domains = PerDomain.ToDictionary(kv => kv.Key, kv => kv.Value),
        fits = Fits,
    }, Json);

    /// <summary>The thresholds per domain of a calibration file written by <c>annotate --calibrate</c> (to annotate
    /// more faces of the same sensors, labelled or not).</summary>
    public static IReadOnlyDictionary<string, CueThresholds> LoadThresholds(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: calibration file not found", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (!doc.RootElement.TryGetProperty("domains", out var d) || d.ValueKind != JsonValueKind.Object)
                throw new JsonException("no 'domains' object");
            var outp = new Dictionary<string, CueThresholds>(StringComparer.Ordinal);
            foreach (var kv in d.EnumerateObject())
            {
                var t = kv.Value.Deserialize<CueThresholds>(Json) ?? throw new JsonException($"domain '{kv.Name}' is null");
                if (t.Ir == null || t.Ir.Names.Count != t.Ir.Bounds.Count + 1 || t.Ir.Names.Count == 0)
                    throw new JsonException($"domain '{kv.Name}': IR bands need one more name than bounds");
                outp[kv.Name] = t;
            }
            return outp;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a calibration file written by annotate --calibrate ({e.Message})");
        }
    }
}

/// <summary>Calibrates the annotator's thresholds to a sensor from labelled samples: for each decision, the
/// classes (taxonomy leaves) that physically should show its cue and those that should not (a live face has
/// relief and skin reflectance, a flat print has flat depth and paper reflectance, ...); the cut on the
/// statistic, in either direction, that best separates them (largest TPR - FPR) is the calibrated threshold.
/// A decision whose positive classes are absent from a domain is switched off there; one whose negatives are
/// absent always holds; one with some but too few samples of either side is refused.</summary>
public static class CueCalibration
{
    /// <summary>The attack leaves and the live class the physical expectations are written for.</summary>
    public static readonly IReadOnlySet<string> Leaves = new HashSet<string>(AllAttacks.Append(Live), StringComparer.Ordinal);

    /// <summary>Balanced accuracy below which a learned cut is reported as weak.</summary>
    public const double WeakSeparation = 0.75;

    private static readonly string[] Domed = { Live, Glasses, Silicone, Rigid };
    private static string[] Except(params string[] xs) => Leaves.Where(l => !xs.Contains(l)).OrderBy(l => l, StringComparer.Ordinal).ToArray();

    /// <summary>A calibrated decision: its cut in <see cref="CueThresholds"/>, the positive and negative classes,
    /// and the side the positives must be on where physics fixes it (null for depth, whose encoding may put near
    /// at either end: a cut in the wrong direction there is the sensor's convention, elsewhere it is noise).</summary>
    private sealed record Rule(string Name, string Cue, Func<CueThresholds, Cut> Get, Func<CueThresholds, Cut, CueThresholds> Set, string[] Positive, string[] Negative, bool? Above = null);

    private static readonly Rule[] Rules =
    {
        new("depth dome", "depth:relief/smooth", t => t.Dome, (t, c) => t with { Dome = c }, Domed, new[] { Flat, Cutout, Wrapped, PaperMask }),
        new("depth curved", "depth:curved", t => t.Curved, (t, c) => t with { Curved = c }, new[] { Wrapped, PaperMask }, new[] { Flat, Cutout }),
        new("depth relief", "depth:relief", t => t.Relief, (t, c) => t with { Relief = c }, new[] { Live, Glasses, Silicone }, new[] { Rigid }),
        new("depth holes", "depth:holes", t => t.Holes, (t, c) => t with { Holes = c }, new[] { Cutout }, new[] { Flat }),
        // a cut-out shows the attacker's real eyes, which may reflect: neither side
        new("ir pupil", "ir:pupil", t => t.Pupil, (t, c) => t with { Pupil = c }, new[] { Live }, Except(Live, Cutout), true),
        new("ir hole skin", "ir:skin (holes)", t => t.HoleSkin, (t, c) => t with { HoleSkin = c }, new[] { Cutout }, new[] { Flat, Wrapped, PaperMask }, false),
        new("ir eye anomaly", "ir:eyeanomaly", t => t.EyeAnomaly, (t, c) => t with { EyeAnomaly = c }, new[] { Glasses }, new[] { Live }, false),
        new("rgb halftone", "rgb:halftone", t => t.Halftone, (t, c) => t with { Halftone = c }, new[] { Flat, Wrapped, Cutout, PaperMask }, new[] { Live, Glasses, Silicone, Rigid, Replay }, true),
        new("rgb moire", "rgb:moire", t => t.Moire, (t, c) => t with { Moire = c }, new[] { Replay }, Except(Replay), true),
        new("rgb texture", "rgb:natural", t => t.Texture, (t, c) => t with { Texture = c }, new[] { Live, Glasses, Silicone }, Except(Live, Glasses, Silicone), true),
        new("rgb glare", "rgb:glare", t => t.Glare, (t, c) => t with { Glare = c }, new[] { Replay }, Except(Replay), true),
        new("rgb edges", "rgb:edges", t => t.Edges, (t, c) => t with { Edges = c }, new[] { Rigid, Silicone, PaperMask }, Except(Rigid, Silicone, PaperMask), true),
        new("rgb glasses", "rgb:glasses", t => t.Glasses, (t, c) => t with { Glasses = c }, new[] { Glasses }, new[] { Live }, false),
    };

    /// <summary>The IR reflectance classes and the leaves that physically have them (cut-outs mix paper and skin).</summary>
    private static readonly (string Band, string[] Leaves)[] IrGroups =
    {
        ("dark", new[] { Replay }), ("material", new[] { Rigid, Silicone }), ("skin", new[] { Live, Glasses }), ("paper", new[] { Flat, Wrapped, PaperMask }),
    };

    /// <summary>The cues a class should show (what a person checks first).</summary>
    private static readonly Dictionary<string, string[]> Should = new(StringComparer.Ordinal)
    {
        [Live] = new[] { "depth:relief", "ir:skin", "ir:pupil" },
        [Glasses] = new[] { "depth:relief", "ir:skin", "rgb:glasses" },
        [Silicone] = new[] { "depth:relief", "ir:material", "ir:nopupil" },
        [Rigid] = new[] { "depth:smooth", "ir:material", "ir:nopupil" },
        [Flat] = new[] { "depth:flat", "ir:paper", "ir:nopupil" },
        [Wrapped] = new[] { "depth:curved", "ir:paper", "ir:nopupil" },
        [Cutout] = new[] { "depth:flat", "depth:holes", "ir:paper", "ir:skin" },
        [Replay] = new[] { "ir:dark", "ir:nopupil" },
        [PaperMask] = new[] { "depth:curved", "ir:paper", "ir:nopupil" },
    };

    /// <summary>The cues a class should show, and those it should not (the cues the templates mark incompatible
    /// with its leaf). Unknown classes: none of either.</summary>
    public static (IReadOnlySet<string> Should, IReadOnlySet<string> ShouldNot) Expected(string cls)
    {
        var should = new HashSet<string>(Should.GetValueOrDefault(cls) ?? Array.Empty<string>(), StringComparer.Ordinal);
        var not = new HashSet<string>(StringComparer.Ordinal);
        var g = GrammarStore.Default;
        if (Leaves.Contains(cls))
        {
            var compat = TaxonomyModule.compatible(g.Taxonomy, cls);
            foreach (var kv in g.Templates.Cues)
                if (!compat.Contains(kv.Key)) not.Add(kv.Key.ToString());
        }
        return (should, not);
    }

    /// <summary>Learns thresholds per domain (or, with <paramref name="pooled"/>, one set for all samples under the
    /// domain name "all") from the samples' labels and statistics. Throws <see cref="InvalidDataException"/>
    /// naming <paramref name="source"/>, the domain, the decision and the counts when a side has some but fewer than
    /// <paramref name="minPerClass"/> samples.</summary>
    public static Calibration Fit(IReadOnlyList<SampleRecord> samples, IReadOnlyList<IReadOnlyDictionary<string, double>> features,
        int minPerClass, bool pooled, string source)
    {
        if (minPerClass < 1) throw new ArgumentException("--min-per-class must be at least 1");
        var perDomain = new SortedDictionary<string, CueThresholds>(StringComparer.Ordinal);
        var fits = new List<CutFit>();
        var refusals = new List<string>();
        var groups = Enumerable.Range(0, samples.Count).GroupBy(i => pooled ? "all" : samples[i].Domain).OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var g in groups)
        {
            var t = CueThresholds.World;
            var idx = g.ToList();
            string dom = g.Key == "" ? "(none)" : g.Key;
            string Count(IEnumerable<string> classes, List<int> on) =>
                string.Join(", ", classes.Select(c => (c, n: on.Count(i => AnnotationReports.ClassOf(samples[i]) == c))).Where(x => x.n > 0).Select(x => $"{x.n} {x.c}"));
            List<(int I, double V)> Values(IEnumerable<string> classes, string stat)
            {
                var set = classes.ToHashSet(StringComparer.Ordinal);
                return idx.Where(i => set.Contains(AnnotationReports.ClassOf(samples[i])) && features[i].ContainsKey(stat)).Select(i => (i, features[i][stat])).ToList();
            }
            foreach (var r in Rules)
            {
                var stat = r.Get(t).Statistic;
                var pos = Values(r.Positive, stat); var neg = Values(r.Negative, stat);
                Cut cut; double bacc = 0; string note;
                if (pos.Count == 0) { cut = Cut.Never(stat); note = "off: no sample that should show it"; }
                else if (neg.Count == 0) { cut = Cut.Always(stat); note = "always: no sample that should not show it"; }
                else if (pos.Count < minPerClass || neg.Count < minPerClass)
                {
                    refusals.Add($"domain {dom}: {r.Name} ({r.Cue}) has {pos.Count} samples that should show it ({Count(r.Positive, pos.Select(p => p.I).ToList())}) " +
                                 $"and {neg.Count} that should not ({Count(r.Negative, neg.Select(p => p.I).ToList())})");
                    continue;
                }
                else { (cut, bacc) = BestCut(stat, pos.Select(p => p.V).ToList(), neg.Select(p => p.V).ToList(), r.Above); note = bacc < WeakSeparation ? "weak: the classes overlap on this statistic (unreliable, or only part of the class shows the cue)" : ""; }
                t = r.Set(t, cut);
                fits.Add(new CutFit(dom, r.Name, r.Cue, cut.ToString(), bacc, pos.Count, neg.Count, note));
            }
            t = t with { Ir = FitIr(idx, samples, features, minPerClass, dom, fits, refusals) ?? t.Ir };
            perDomain[g.Key] = t;
        }
        if (refusals.Count > 0)
            throw new InvalidDataException($"{source}: too few labelled samples to calibrate (at least {minPerClass} of each side are needed; " +
                "label more, lower --min-per-class, calibrate the domains together with --calibrate pooled, or drop the rare class): " + string.Join("; ", refusals));
        return new Calibration(perDomain, fits, minPerClass);
    }

    /// <summary>IR bands: the reflectance classes present, ordered by their median face/background ratio, with a
    /// learned bound between each neighbouring pair.</summary>
    private static IrBands? FitIr(List<int> idx, IReadOnlyList<SampleRecord> samples, IReadOnlyList<IReadOnlyDictionary<string, double>> features,
        int minPerClass, string dom, List<CutFit> fits, List<string> refusals)
    {
        var present = new List<(string Band, List<double> V)>();
        foreach (var (band, leaves) in IrGroups)
        {
            var v = idx.Where(i => leaves.Contains(AnnotationReports.ClassOf(samples[i])) && features[i].ContainsKey("ir.ratio")).Select(i => features[i]["ir.ratio"]).ToList();
            if (v.Count == 0) continue;
            if (v.Count < minPerClass) { refusals.Add($"domain {dom}: IR band '{band}' has only {v.Count} samples ({string.Join(", ", leaves)})"); continue; }
            present.Add((band, v));
        }
        if (present.Count == 0) return null;
        present = present.OrderBy(p => Median(p.V)).ToList();
        var bounds = new List<double>();
        for (int k = 0; k + 1 < present.Count; k++)
        {
            var (cut, bacc) = BestCut("ir.ratio", present[k + 1].V, present[k].V, above: true);
            bounds.Add(cut.Threshold);
            fits.Add(new CutFit(dom, "ir band", $"ir:{present[k].Band}|{present[k + 1].Band}", $"ir.ratio >= {cut.Threshold:G4}", bacc, present[k + 1].V.Count, present[k].V.Count,
                bacc < WeakSeparation ? "weak: these reflectance classes overlap on this sensor" : ""));
        }
        return new IrBands(present.Select(p => p.Band).ToArray(), bounds);
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }

    /// <summary>The cut with the largest TPR - FPR (positives on the cue's side), in the given direction or in
    /// either (<paramref name="above"/> null); among equally good cuts, the middle one of the run. Returns the cut
    /// and its balanced accuracy.</summary>
    public static (Cut Cut, double BalancedAccuracy) BestCut(string stat, IReadOnlyList<double> pos, IReadOnlyList<double> neg, bool? above)
    {
        var all = pos.Select(v => (V: v, P: true)).Concat(neg.Select(v => (V: v, P: false))).OrderBy(x => x.V).ToList();
        // candidate k: threshold between all[k-1] and all[k]; tp/fp = counts strictly above it
        int tpAbove = pos.Count, fpAbove = neg.Count;
        var cands = new List<(double T, double J)>();
        for (int k = 0; k <= all.Count; k++)
        {
            if (k > 0) { if (all[k - 1].P) tpAbove--; else fpAbove--; }
            if (k > 0 && k < all.Count && all[k].V == all[k - 1].V) continue;
            double t = k == 0 ? all[0].V - 1e-9 - Math.Abs(all[0].V) * 1e-6
                : k == all.Count ? all[^1].V + 1e-9 + Math.Abs(all[^1].V) * 1e-6
                : 0.5 * (all[k - 1].V + all[k].V);
            cands.Add((t, (double)tpAbove / pos.Count - (double)fpAbove / neg.Count));
        }
        double Score(double j) => above == true ? j : above == false ? -j : Math.Abs(j);
        double best = cands.Max(c => Score(c.J));
        var ties = cands.Select((c, i) => (c, i)).Where(x => Score(x.c.J) >= best - 1e-12).ToList();
        // the longest run of consecutive best candidates, and its middle
        int runStart = 0, runLen = 1, bestStart = 0, bestLen = 1;
        for (int k = 1; k < ties.Count; k++)
        {
            if (ties[k].i == ties[k - 1].i + 1 && Math.Sign(ties[k].c.J) == Math.Sign(ties[k - 1].c.J)) runLen++;
            else { runStart = k; runLen = 1; }
            if (runLen > bestLen) { bestLen = runLen; bestStart = runStart; }
        }
        var (T, J) = ties[bestStart + (bestLen - 1) / 2].c;
        bool up = above ?? J >= 0;
        return (new Cut(stat, T, up), 0.5 + 0.5 * (up ? J : -J));
    }
}
