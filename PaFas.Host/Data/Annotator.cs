using PaFas.Host.Model;
using System.Text;
using System.Text.Json;
using PaFas.Host.IO;

namespace PaFas.Host.Data;

/// <summary>One decision on one statistic: the cue (or branch) holds when the statistic is above
/// (<see cref="Above"/>) or below the threshold. An infinite threshold makes it always or never hold.</summary>
public sealed record Cut(string Statistic, double Threshold, bool Above)
{
    public bool Holds(IReadOnlyDictionary<string, double> x) => x.TryGetValue(Statistic, out var v) && (Above ? v > Threshold : v < Threshold);

    /// <summary>A cut that never holds (a cue switched off).</summary>
    public static Cut Never(string statistic) => new(statistic, double.PositiveInfinity, true);

    /// <summary>A cut that always holds (when the statistic exists).</summary>
    public static Cut Always(string statistic) => new(statistic, double.NegativeInfinity, true);

    public override string ToString() =>
        double.IsPositiveInfinity(Threshold) && Above ? "never" : double.IsNegativeInfinity(Threshold) && Above ? "always"
        : $"{Statistic} {(Above ? ">" : "<")} {Threshold:G4}";
}

/// <summary>The IR reflectance classes (face / background ratio) in increasing order of ratio and the bounds
/// between consecutive classes (one fewer). The world's order is dark, material, skin, paper; a calibrated
/// sensor may order them differently or lack some.</summary>
public sealed record IrBands(IReadOnlyList<string> Names, IReadOnlyList<double> Bounds)
{
    public string ClassOf(double ratio)
    {
        int k = 0;
        while (k < Bounds.Count && ratio >= Bounds[k]) k++;
        return Names[k];
    }

    public override string ToString() =>
        string.Concat(Names.Select((n, i) => i < Bounds.Count ? $"{n} < {Bounds[i]:G4} <= " : n));
}

/// <summary>Every threshold the annotator's decisions use. The defaults were set on the synthetic world's
/// sensors; <see cref="CueCalibration"/> learns them per domain from labelled samples.</summary>
public sealed record CueThresholds
{
    /// <summary>Fraction of face pixels with a depth reading (0 = no reading, in every encoding) below which the
    /// depth is invalid; not calibrated.</summary>
    public double DepthValidBelow { get; init; } = 0.5;
    /// <summary>Face-shaped (dome) against flat or cylindrical: vertical curvature of the depth fit.</summary>
    public Cut Dome { get; init; } = new("depth.curv_v", 0.035, true);
    /// <summary>Not dome: cylindrical (curved) against flat: horizontal curvature.</summary>
    public Cut Curved { get; init; } = new("depth.curv_u", 0.035, true);
    /// <summary>Dome: eye sockets (relief) against a smooth shape.</summary>
    public Cut Relief { get; init; } = new("depth.eye_residual", -0.022, false);
    /// <summary>Flat: holes at the eyes.</summary>
    public Cut Holes { get; init; } = new("depth.eye_residual", -0.035, false);
    public IrBands Ir { get; init; } = new(new[] { "dark", "material", "skin", "paper" }, new[] { 1.3, 3.55, 6.7 });
    /// <summary>Skin: a bright pupil reflex.</summary>
    public Cut Pupil { get; init; } = new("ir.pupil", 0.3, true);
    /// <summary>Paper: skin seen through eye holes (cut-outs).</summary>
    public Cut HoleSkin { get; init; } = new("ir.eye_ratio", 0.78, false);
    /// <summary>Skin without pupil: darkened eye region (glasses).</summary>
    public Cut EyeAnomaly { get; init; } = new("ir.eye_ratio", 0.6, false);
    public Cut Halftone { get; init; } = new("rgb.halftone", 30, true);
    public Cut Moire { get; init; } = new("rgb.moire", 26, true);
    public Cut Texture { get; init; } = new("rgb.texture", 0.03, true);
    public Cut Glare { get; init; } = new("rgb.glare", 0.01, true);
    public Cut Edges { get; init; } = new("rgb.edge_ring", 0.2, true);
    public Cut Glasses { get; init; } = new("rgb.eye_ratio", 0.6, false);

    /// <summary>The synthetic world's thresholds (the annotator's defaults).</summary>
    public static readonly CueThresholds World = new();
}

/// <summary>A training-free cue annotator: the image statistics of <see cref="CueFeatures"/> and thresholds on
/// them (<see cref="CueThresholds"/>: the synthetic world's by default, or calibrated per domain by
/// <see cref="CueCalibration"/>). It reads the canonical face layout (face centred); on real data its cues are
/// heuristics to check (<c>annotate --report</c>, <c>--sheet</c>).</summary>
public static class Annotator
{
    /// <summary>The statistics of a face (see <see cref="CueFeatures"/>).</summary>
    public static IReadOnlyDictionary<string, double> Features(FaceTensors f) => CueFeatures.Compute(f);

    /// <summary>The cues ("modality:key") found in a face with the world's thresholds.</summary>
    public static IReadOnlyList<string> Annotate(FaceTensors f) => Decide(Features(f));

    /// <summary>Thresholds on the features -> cues (the world's thresholds unless given).</summary>
    public static IReadOnlyList<string> Decide(IReadOnlyDictionary<string, double> x, CueThresholds? t = null)
    {
        t ??= CueThresholds.World;
        var cues = new List<string>();
        if (x.TryGetValue("depth.valid", out var valid))
        {
            if (valid < t.DepthValidBelow) cues.Add("depth:invalid");
            else if (t.Dome.Holds(x)) cues.Add(t.Relief.Holds(x) ? "depth:relief" : "depth:smooth");
            else if (t.Curved.Holds(x)) cues.Add("depth:curved");
            else
            {
                cues.Add("depth:flat");
                if (t.Holes.Holds(x)) cues.Add("depth:holes");
            }
        }
        if (x.TryGetValue("ir.ratio", out var ratio))
        {
            string cls = t.Ir.ClassOf(ratio);
            bool skin = cls == "skin";
            bool pupil = skin && t.Pupil.Holds(x);
            if (cls is "dark" or "material" or "paper") cues.Add("ir:" + cls);
            bool holesSkin = cls == "paper" && t.HoleSkin.Holds(x);
            if (skin || holesSkin) cues.Add("ir:skin");
            if (pupil) cues.Add("ir:pupil");
            else if (!skin && !holesSkin) cues.Add("ir:nopupil");
            if (skin && !pupil && t.EyeAnomaly.Holds(x)) cues.Add("ir:eyeanomaly");
        }
        if (x.ContainsKey("rgb.halftone"))
        {
            bool halftone = t.Halftone.Holds(x), moire = t.Moire.Holds(x);
            if (!halftone && !moire && t.Texture.Holds(x)) cues.Add("rgb:natural");
            if (halftone) cues.Add("rgb:halftone");
            if (moire) cues.Add("rgb:moire");
            if (t.Glare.Holds(x)) cues.Add("rgb:glare");
            if (t.Edges.Holds(x)) cues.Add("rgb:edges");
            if (t.Glasses.Holds(x)) cues.Add("rgb:glasses");
        }
        return SortCues(cues);
    }

    private static IReadOnlyList<string> SortCues(IEnumerable<string> cues) =>
        cues.OrderBy(c => c.StartsWith("rgb") ? 0 : c.StartsWith("depth") ? 1 : 2).ThenBy(c => c, StringComparer.Ordinal).ToList();

    /// <summary>The statistics of every sample (decoded at <paramref name="size"/>), in parallel, in order, a
    /// chunk of faces in memory at a time. Errors name the sample's source.</summary>
    public static IReadOnlyDictionary<string, double>[] FeaturesOf(IReadOnlyList<SampleRecord> samples, int size = 64, int threads = 0)
    {
        const int chunk = 1024;
        var outp = new IReadOnlyDictionary<string, double>[samples.Count];
        for (int start = 0; start < samples.Count; start += chunk)
        {
            var part = samples.Skip(start).Take(chunk).ToList();
            FeaturesOf(ImageLoader.LoadBatch(part, size, threads), threads).CopyTo(outp, start);
        }
        return outp;
    }

    /// <summary>The statistics of decoded faces, in parallel, in order.</summary>
    public static IReadOnlyDictionary<string, double>[] FeaturesOf(IReadOnlyList<FaceTensors> faces, int threads = 0)
    {
        var outp = new IReadOnlyDictionary<string, double>[faces.Count];
        Parallel.For(0, faces.Count, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount },
            i => outp[i] = CueFeatures.Compute(faces[i]));
        return outp;
    }

    /// <summary>Annotates every sample with the world's thresholds (decoded at <paramref name="size"/>), in
    /// parallel. Errors name the sample's source.</summary>
    public static IReadOnlyList<(string Id, IReadOnlyList<string> Cues)> AnnotateSamples(IReadOnlyList<SampleRecord> samples, int size = 64, int threads = 0)
    {
        var x = FeaturesOf(samples, size, threads);
        return samples.Select((s, i) => (s.Id, Decide(x[i]))).ToList();
    }

    /// <summary>Writes <c>{"id", "cues"}</c> lines (the format <c>pafas augment --annotations</c> reads).</summary>
    public static void WriteJsonl(string path, IEnumerable<(string Id, IReadOnlyList<string> Cues)> annotations)
    {
        var sb = new StringBuilder();
        foreach (var (id, cues) in annotations)
            sb.Append(JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = id, ["cues"] = cues })).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
