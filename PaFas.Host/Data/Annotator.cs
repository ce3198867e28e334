using System.Numerics;
using System.Text;
using System.Text.Json;
using PaFas.Host.IO;
using G = PaFas.Host.Data.SyntheticWorld.Geometry;

namespace PaFas.Host.Data;

/// <summary>Per-cue agreement of predicted with ground-truth cues.</summary>
public sealed record CueAgreement(string Cue, int Support, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>Agreement report: per cue, the exact-set rate, and the number of samples compared.</summary>
public sealed record AgreementReport(IReadOnlyList<CueAgreement> PerCue, double ExactSetRate, int Samples)
{
    /// <summary>Mean F1 over the cues present in the ground truth.</summary>
    public double MacroF1 => PerCue.Any(c => c.Support > 0) ? PerCue.Where(c => c.Support > 0).Average(c => c.F1) : 0;

    public string ToText()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"samples {Samples}  exact-set rate {ExactSetRate:F3}  macro F1 {MacroF1:F3}");
        sb.AppendLine($"{"cue",-16} {"support",7} {"prec",6} {"recall",6} {"F1",6}");
        foreach (var c in PerCue) sb.AppendLine($"{c.Cue,-16} {c.Support,7} {c.Precision,6:F3} {c.Recall,6:F3} {c.F1,6:F3}");
        return sb.ToString();
    }
}

/// <summary>A training-free cue annotator: hand-written image statistics per modality (depth validity,
/// quadratic-fit curvature, eye-socket and eye-hole residuals; IR face/background reflectance ratio, pupil
/// highlights, eye-region darkening; RGB periodic spectral peaks for halftone and moire, saturated glare,
/// a dark ring for mask edges, darkened lenses, fine skin texture). It reads the synthetic world's canonical
/// face layout (face centred, <see cref="SyntheticWorld.Geometry"/>); on real data its cues are heuristics.</summary>
public static class Annotator
{
    /// <summary>Statistics (named) computed from a face; the decision thresholds below apply to them.</summary>
    public static IReadOnlyDictionary<string, double> Features(FaceTensors f)
    {
        var d = new Dictionary<string, double>();
        int S = f.Size;
        if (f.Depth != null) DepthFeatures(f.Depth, S, d);
        if (f.Ir != null) IrFeatures(f.Ir, S, d);
        if (f.Rgb != null) RgbFeatures(f.Rgb, S, d);
        return d;
    }

    /// <summary>The cues ("modality:key") found in a face.</summary>
    public static IReadOnlyList<string> Annotate(FaceTensors f) => Decide(Features(f));

    /// <summary>Thresholds on the features -> cues.</summary>
    public static IReadOnlyList<string> Decide(IReadOnlyDictionary<string, double> x)
    {
        var cues = new List<string>();
        if (x.ContainsKey("depth.valid"))
        {
            if (x["depth.valid"] < 0.5) cues.Add("depth:invalid");
            else
            {
                double cu = x["depth.curv_u"], cv = x["depth.curv_v"];
                if (cv < 0.035 && cu < 0.035)
                {
                    cues.Add("depth:flat");
                    if (x["depth.eye_residual"] < -0.035) cues.Add("depth:holes");
                }
                else if (cv < 0.035) cues.Add("depth:curved");
                else cues.Add(x["depth.eye_residual"] < -0.022 ? "depth:relief" : "depth:smooth");
            }
        }
        if (x.ContainsKey("ir.ratio"))
        {
            double r = x["ir.ratio"];
            string cls = r < 1.3 ? "dark" : r < 3.55 ? "material" : r < 6.7 ? "skin" : "paper";
            bool pupil = cls == "skin" && x["ir.pupil"] > 0.3;
            switch (cls)
            {
                case "dark": cues.Add("ir:dark"); break;
                case "material": cues.Add("ir:material"); break;
                case "paper": cues.Add("ir:paper"); break;
            }
            bool holesSkin = cls == "paper" && x["ir.eye_ratio"] < 0.78;
            if (cls == "skin" || holesSkin) cues.Add("ir:skin");
            if (pupil) cues.Add("ir:pupil");
            else if (cls != "skin" && !holesSkin) cues.Add("ir:nopupil");
            if (cls == "skin" && !pupil && x["ir.eye_ratio"] < 0.6) cues.Add("ir:eyeanomaly");
        }
        if (x.ContainsKey("rgb.halftone"))
        {
            bool halftone = x["rgb.halftone"] > Thresholds.Halftone, moire = x["rgb.moire"] > Thresholds.Moire;
            if (!halftone && !moire && x["rgb.texture"] > Thresholds.Texture) cues.Add("rgb:natural");
            if (halftone) cues.Add("rgb:halftone");
            if (moire) cues.Add("rgb:moire");
            if (x["rgb.glare"] > 0.01) cues.Add("rgb:glare");
            if (x["rgb.edge_ring"] > Thresholds.EdgeRing) cues.Add("rgb:edges");
            if (x["rgb.eye_ratio"] < 0.6) cues.Add("rgb:glasses");
        }
        return SortCues(cues);
    }

    /// <summary>Tunable RGB thresholds (set from the separability measurements, see the tests).</summary>
    public static class Thresholds
    {
        public static double Halftone = 30, Moire = 26, Texture = 0.03, EdgeRing = 0.2;
    }

    private static IReadOnlyList<string> SortCues(IEnumerable<string> cues) =>
        cues.OrderBy(c => c.StartsWith("rgb") ? 0 : c.StartsWith("depth") ? 1 : 2).ThenBy(c => c, StringComparer.Ordinal).ToList();

    // ------------------------------------------------------------- geometry helpers

    private static double Uf(int x, int S) => ((x + 0.5) / S - 0.5) / G.Rx;
    private static double Vf(int y, int S) => ((y + 0.5) / S - 0.5) / G.Ry;

    private static IEnumerable<int> Disc(int S, double fx, double fy, double r)
    {
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double dx = (x + 0.5) / S - fx, dy = (y + 0.5) / S - fy;
                if (dx * dx + dy * dy < r * r) yield return y * S + x;
            }
    }

    private static (double X, double Y)[] Eyes => new[] { (0.5 - G.EyeU * G.Rx, 0.5 + G.EyeV * G.Ry), (0.5 + G.EyeU * G.Rx, 0.5 + G.EyeV * G.Ry) };

    private static bool NearEyes(int x, int y, int S, double r) =>
        Eyes.Any(e => Math.Pow((x + 0.5) / S - e.X, 2) + Math.Pow((y + 0.5) / S - e.Y, 2) < r * r);

    private static double Median(List<double> v)
    {
        if (v.Count == 0) return 0;
        v.Sort();
        return v.Count % 2 == 1 ? v[v.Count / 2] : 0.5 * (v[v.Count / 2 - 1] + v[v.Count / 2]);
    }

    // ------------------------------------------------------------- depth

    private static void DepthFeatures(float[] z, int S, Dictionary<string, double> d)
    {
        int inside = 0, valid = 0;
        var rows = new List<double[]>(); var ys = new List<double>();
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double u = Uf(x, S), v = Vf(y, S);
                if (u * u + v * v >= 0.85 * 0.85) continue;
                inside++;
                if (z[y * S + x] <= 0) continue;
                valid++;
                if (NearEyes(x, y, S, G.HoleR + 0.03)) continue;
                rows.Add(new[] { 1, u, v, u * u, v * v, u * v }); ys.Add(z[y * S + x]);
            }
        d["depth.valid"] = inside == 0 ? 0 : (double)valid / inside;
        if (ys.Count < 12) { d["depth.valid"] = 0; return; }
        var beta = LeastSquares(rows, ys);
        d["depth.curv_u"] = -2 * beta[3];
        d["depth.curv_v"] = -2 * beta[4];
        double res = 0; int nres = 0;
        foreach (var (ex, ey) in Eyes)
            foreach (var k in Disc(S, ex, ey, 0.04))
            {
                if (z[k] <= 0) continue;
                double u = Uf(k % S, S), v = Vf(k / S, S);
                double pred = beta[0] + beta[1] * u + beta[2] * v + beta[3] * u * u + beta[4] * v * v + beta[5] * u * v;
                res += z[k] - pred; nres++;
            }
        d["depth.eye_residual"] = nres == 0 ? 0 : res / nres;
    }

    /// <summary>Ordinary least squares via normal equations (6 unknowns).</summary>
    private static double[] LeastSquares(List<double[]> xs, List<double> ys)
    {
        int p = xs[0].Length;
        var a = new double[p, p + 1];
        for (int i = 0; i < xs.Count; i++)
            for (int r = 0; r < p; r++)
            {
                for (int c = 0; c < p; c++) a[r, c] += xs[i][r] * xs[i][c];
                a[r, p] += xs[i][r] * ys[i];
            }
        for (int r = 0; r < p; r++) a[r, r] += 1e-9;
        for (int c = 0; c < p; c++)
        {
            int piv = c;
            for (int r = c + 1; r < p; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[piv, c])) piv = r;
            for (int k = 0; k <= p; k++) (a[c, k], a[piv, k]) = (a[piv, k], a[c, k]);
            for (int r = 0; r < p; r++)
            {
                if (r == c || a[c, c] == 0) continue;
                double m = a[r, c] / a[c, c];
                for (int k = c; k <= p; k++) a[r, k] -= m * a[c, k];
            }
        }
        var b = new double[p];
        for (int r = 0; r < p; r++) b[r] = a[r, r] == 0 ? 0 : a[r, p] / a[r, r];
        return b;
    }

    // ------------------------------------------------------------- IR

    private static void IrFeatures(float[] ir, int S, Dictionary<string, double> d)
    {
        var bg = new List<double>(); var face = new List<double>();
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double fx = (x + 0.5) / S;
                if (fx < 0.06 || fx > 0.94) bg.Add(ir[y * S + x]);
                double u = Uf(x, S), v = Vf(y, S);
                if (u * u + v * v < 0.6 * 0.6 && !NearEyes(x, y, S, 0.1)) face.Add(ir[y * S + x]);
            }
        double b = Median(bg), f = Median(face);
        d["ir.ratio"] = f / Math.Max(b, 0.01);
        var sm = Box3(ir, S);
        double pupil = 0, eye = 0;
        foreach (var (ex, ey) in Eyes)
        {
            double mx = 0, sum = 0; int n = 0;
            foreach (var k in Disc(S, ex, ey, 0.05)) { mx = Math.Max(mx, sm[k]); sum += ir[k]; n++; }
            pupil += (mx - f) / Math.Max(f, 0.01) / 2;
            eye += n == 0 ? 0 : sum / n / 2;
        }
        d["ir.pupil"] = pupil;
        d["ir.eye_ratio"] = eye / Math.Max(f, 0.01);
    }

    private static float[] Box3(float[] p, int S)
    {
        var o = new float[p.Length];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                float s = 0; int n = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int xx = x + dx, yy = y + dy;
                        if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
                        s += p[yy * S + xx]; n++;
                    }
                o[y * S + x] = s / n;
            }
        return o;
    }

    // ------------------------------------------------------------- RGB

    private static void RgbFeatures(float[] rgb, int S, Dictionary<string, double> d)
    {
        int n = S * S;
        var Y = new float[n];
        for (int k = 0; k < n; k++) Y[k] = 0.299f * rgb[k] + 0.587f * rgb[n + k] + 0.114f * rgb[2 * n + k];
        double scale = S / 64.0;
        // spectral peaks: high-passed luminance, Hann window, each band's strongest bin against its
        // neighbourhood (smooth spectra of face features give ~1, a periodic pattern a spike)
        var low = (float[])Y.Clone();
        SyntheticWorld.BlurPlane(low, S, 3 * scale);
        int N = S;
        var crop = new double[N * N];
        for (int y = 0; y < N; y++)
            for (int x = 0; x < N; x++)
            {
                double w = (0.5 - 0.5 * Math.Cos(2 * Math.PI * (x + 0.5) / N)) * (0.5 - 0.5 * Math.Cos(2 * Math.PI * (y + 0.5) / N));
                crop[y * N + x] = (Y[y * S + x] - low[y * S + x]) * w;
            }
        var pw = Power2D(crop, N);
        d["rgb.moire"] = PeakRatio(pw, N, 0.05 / scale, 0.135 / scale);
        d["rgb.halftone"] = PeakRatio(pw, N, 0.18 / scale, 0.30 / scale);
        // fine texture: median band-pass (DoG 1 px - 3 px) magnitude on cheeks and forehead (eyes, brows and
        // mouth excluded); sensor noise is mostly removed by the 1 px blur
        var b1 = (float[])Y.Clone(); SyntheticWorld.BlurPlane(b1, S, 1.0 * scale);
        var tex = new List<double>();
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double u = Uf(x, S), v = Vf(y, S);
                if (u * u + v * v < 0.7 * 0.7 && !NearEyes(x, y, S, 0.12) && !(v > 0.35)) tex.Add(Math.Abs(b1[y * S + x] - low[y * S + x]));
            }
        double level = Median(tex.Count > 0 ? new List<double>(Disc(S, 0.5, 0.5, 0.15).Select(k => (double)Y[k])) : new List<double>());
        d["rgb.texture"] = Median(tex) / Math.Max(level, 0.05);
        // glare: saturated smooth patches in the face box
        var sm = Box3(Y, S);
        int sat = 0, box = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double u = Uf(x, S), v = Vf(y, S);
                if (Math.Abs(u) > 1 || Math.Abs(v) > 1) continue;
                box++;
                if (sm[y * S + x] > 0.985) sat++;
            }
        d["rgb.glare"] = box == 0 ? 0 : (double)sat / box;
        // mask edges: a dark ring inside the face outline
        double best = double.NegativeInfinity;
        for (double rho = 0.8; rho <= 0.96; rho += 0.04)
        {
            double ring = RingMean(Y, S, rho, 0.04), inner = RingMean(Y, S, rho - 0.14, 0.05);
            best = Math.Max(best, (inner - ring) / Math.Max(inner, 0.02));
        }
        d["rgb.edge_ring"] = best;
        // glasses: eye windows much darker than the cheeks
        double eye = 0, cheek = 0;
        foreach (var (ex, ey) in Eyes)
        {
            eye += Disc(S, ex, ey, 0.05).Average(k => (double)Y[k]) / 2;
            cheek += Disc(S, ex, 0.5 + 0.3 * G.Ry, 0.05).Average(k => (double)Y[k]) / 2;
        }
        d["rgb.eye_ratio"] = eye / Math.Max(cheek, 0.02);
    }

    private static double RingMean(float[] Y, int S, double rho, double half)
    {
        double s = 0; int n = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double u = Uf(x, S), v = Vf(y, S), r = Math.Sqrt(u * u + v * v);
                if (Math.Abs(r - rho) < half) { s += Y[y * S + x]; n++; }
            }
        return n == 0 ? 0 : s / n;
    }

    private static double[] Power2D(double[] a, int N)
    {
        var tw = new Complex[N];
        for (int k = 0; k < N; k++) tw[k] = Complex.FromPolarCoordinates(1, -2 * Math.PI * k / N);
        var rowsF = new Complex[N * N];
        for (int y = 0; y < N; y++)
            for (int kx = 0; kx < N; kx++)
            {
                Complex s = 0;
                for (int x = 0; x < N; x++) s += a[y * N + x] * tw[kx * x % N];
                rowsF[y * N + kx] = s;
            }
        var p = new double[N * N];
        for (int kx = 0; kx < N; kx++)
            for (int ky = 0; ky < N; ky++)
            {
                Complex s = 0;
                for (int y = 0; y < N; y++) s += rowsF[y * N + kx] * tw[ky * y % N];
                p[ky * N + kx] = s.Real * s.Real + s.Imaginary * s.Imaginary;
            }
        return p;
    }

    /// <summary>Largest ratio, over the bins of a radial frequency band (cycles/pixel), of a bin's power to the
    /// mean power of the ring of bins 3 away from it.</summary>
    private static double PeakRatio(double[] p, int N, double lo, double hi)
    {
        double best = 0;
        for (int ky = 0; ky < N; ky++)
            for (int kx = 0; kx < N; kx++)
            {
                double fx = (kx <= N / 2 ? kx : kx - N) / (double)N, fy = (ky <= N / 2 ? ky : ky - N) / (double)N;
                double r = Math.Sqrt(fx * fx + fy * fy);
                if (r < lo || r > hi) continue;
                double ring = 0; int n = 0;
                for (int dy = -3; dy <= 3; dy++)
                    for (int dx = -3; dx <= 3; dx++)
                    {
                        if (Math.Max(Math.Abs(dx), Math.Abs(dy)) != 3) continue;
                        ring += p[((ky + dy + N) % N) * N + (kx + dx + N) % N]; n++;
                    }
                best = Math.Max(best, p[ky * N + kx] / Math.Max(ring / n, 1e-12));
            }
        return best;
    }

    // ------------------------------------------------------------- manifests, files, agreement

    /// <summary>Annotates every sample (decoded at its native size or at <paramref name="size"/>), in parallel.
    /// Errors name the sample's source.</summary>
    public static IReadOnlyList<(string Id, IReadOnlyList<string> Cues)> AnnotateSamples(IReadOnlyList<SampleRecord> samples, int size = 64, int threads = 0)
    {
        var faces = ImageLoader.LoadBatch(samples, size, threads);
        var outp = new (string, IReadOnlyList<string>)[samples.Count];
        Parallel.For(0, samples.Count, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount },
            i => outp[i] = (samples[i].Id, Annotate(faces[i])));
        return outp;
    }

    /// <summary>Writes <c>{"id", "cues"}</c> lines (the format <c>pafas augment --annotations</c> reads).</summary>
    public static void WriteJsonl(string path, IEnumerable<(string Id, IReadOnlyList<string> Cues)> annotations)
    {
        var sb = new StringBuilder();
        foreach (var (id, cues) in annotations)
            sb.Append(JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = id, ["cues"] = cues })).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Agreement of predicted cues with the samples' ground-truth cues (samples without cues are
    /// skipped; a cue counts only in the modalities the sample has).</summary>
    public static AgreementReport Agreement(IReadOnlyList<SampleRecord> truth, IReadOnlyDictionary<string, IReadOnlyList<string>> predicted)
    {
        var stats = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // support, tp, fp, fn
        int[] Of(string c) => stats.TryGetValue(c, out var a) ? a : stats[c] = new int[4];
        int n = 0, exact = 0;
        foreach (var s in truth)
        {
            if (s.Cues == null || !predicted.TryGetValue(s.Id, out var pred)) continue;
            n++;
            var t = s.Cues.ToHashSet(StringComparer.Ordinal);
            var p = pred.ToHashSet(StringComparer.Ordinal);
            if (t.SetEquals(p)) exact++;
            foreach (var c in t) { Of(c)[0]++; if (p.Contains(c)) Of(c)[1]++; else Of(c)[3]++; }
            foreach (var c in p) if (!t.Contains(c)) Of(c)[2]++;
        }
        var per = stats.Select(kv => new CueAgreement(kv.Key, kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3])).ToList();
        return new AgreementReport(per, n == 0 ? 0 : (double)exact / n, n);
    }
}
