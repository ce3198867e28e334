using PaFas.Host.Model;
using System.Numerics;
using G = PaFas.Host.Data.SyntheticWorld.Geometry;

namespace PaFas.Host.Data;

/// <summary>The annotator's image statistics (named), computed on the canonical face layout (face centred,
/// <see cref="SyntheticWorld.Geometry"/>): depth validity, quadratic-fit curvature, eye-socket and eye-hole
/// residuals; IR face/background reflectance ratio, pupil highlights, eye-region darkening; RGB periodic
/// spectral peaks for halftone and moire, saturated glare, a dark ring for mask edges, darkened lenses, fine
/// skin texture. <see cref="Annotator.Decide"/> turns them into cues with fixed or calibrated thresholds.</summary>
public static class CueFeatures
{
    /// <summary>Statistics of a face (only those of the modalities it has).</summary>
    public static IReadOnlyDictionary<string, double> Compute(FaceTensors f)
    {
        var d = new Dictionary<string, double>();
        int S = f.Size;
        if (f.Depth != null) DepthFeatures(f.Depth, S, d);
        if (f.Ir != null) IrFeatures(f.Ir, S, d);
        if (f.Rgb != null) RgbFeatures(f.Rgb, S, d);
        return d;
    }

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
}
