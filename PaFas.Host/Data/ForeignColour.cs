using static PaFas.Host.Data.SyntheticWorld;

namespace PaFas.Host.Data;

/// <summary>The colour image of the foreign renderer (<see cref="ForeignRenderer"/>): albedo of skin, brows, eyes
/// and lips, or of the photo a print or screen shows; Lambertian shading by a directional light on the physical
/// surface; CMY halftone rosettes on paper, a sub-pixel beat (moire) and specular glare on screens, a seam at a
/// mask's edge, tinted lenses; then the sensor's cast, exposure, blur and noise.</summary>
internal static class ForeignColour
{
    /// <summary>What the scene pass worked out (geometry, materials, normals, choices).</summary>
    internal sealed record Scene(double Cx, double Cy, double A, double B, double EyeU, double EyeV, double Tone,
        bool Texture, bool Glare, bool Seam, char[] Material, double[] Nx, double[] Ny, double[] Nz,
        Func<int, double> U, Func<int, double> V, Func<double, double, double> Outline, Func<int, int, bool> Hole, Func<int, int, bool> Lens);

    private static readonly double[] Light = Normalise(-0.35, -0.45, 0.82);

    private static double[] Normalise(double x, double y, double z)
    {
        double l = Math.Sqrt(x * x + y * y + z * z);
        return new[] { x / l, y / l, z / l };
    }

    public static float[] Render(ForeignSensor s, string leaf, int S, Random r, Scene c)
    {
        int n = S * S;
        double at64 = S / 64.0;
        var rgb = new float[3 * n];
        var wallC = new[] { 0.3 + 0.4 * r.NextDouble(), 0.3 + 0.4 * r.NextDouble(), 0.3 + 0.4 * r.NextDouble() };
        var skin = new[] { 0.82 * c.Tone, 0.62 * c.Tone, 0.52 * c.Tone };
        if (leaf == Silicone) skin = new[] { 0.86 * c.Tone, 0.6 * c.Tone, 0.56 * c.Tone };
        var pores = c.Texture ? Pores(r, S, 0.7 * at64) : null;
        double angle = r.NextDouble() * Math.PI / 2, beat = r.NextDouble() * Math.PI, phase = r.NextDouble() * 2 * Math.PI;
        double gx = c.Cx + 0.2 * (r.NextDouble() - 0.5), gy = c.Cy + 0.25 * (r.NextDouble() - 0.6);
        bool print = leaf is Flat or Wrapped or Cutout or PaperMask;
        double EyeDist(int x, int y) => Math.Min(Hyp((x + 0.5) / S - (c.Cx - c.EyeU * c.A), (y + 0.5) / S - (c.Cy + c.EyeV * c.B)),
            Hyp((x + 0.5) / S - (c.Cx + c.EyeU * c.A), (y + 0.5) / S - (c.Cy + c.EyeV * c.B)));
        // the face as a person's albedo (for a mask: its paint)
        double[] Albedo(int x, int y, double u, double v)
        {
            double ed = EyeDist(x, y);
            if (leaf == Rigid)
                return ed < 0.03 ? new[] { 0.25, 0.22, 0.2 } : Math.Abs(Math.Abs(u) - c.EyeU) < 0.17 && Math.Abs(v + 0.34) < 0.04 ? new[] { 0.55, 0.45, 0.4 }
                    : u * u / 0.06 + (v - 0.55) * (v - 0.55) / 0.004 < 1 ? new[] { 0.75, 0.5, 0.48 } : new[] { 0.86, 0.8, 0.72 };
            if (ed < 0.014) return new[] { 0.2, 0.15, 0.12 };
            if (ed < 0.03) return new[] { 0.85, 0.85, 0.82 };
            if (Math.Abs(Math.Abs(u) - c.EyeU) < 0.17 && Math.Abs(v + 0.34) < 0.04) return new[] { 0.3, 0.22, 0.18 };
            if (u * u / 0.06 + (v - 0.55) * (v - 0.55) / 0.004 < 1) return new[] { 0.7, 0.35, 0.35 };
            return skin;
        }
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                int k = y * S + x;
                double u = c.U(x), v = c.V(y), o = c.Outline(u, v);
                double lambert = 0.35 + 0.75 * Math.Max(0, c.Nz[k] * Light[2] - c.Nx[k] * Light[0] - c.Ny[k] * Light[1]);
                double[] col;
                char m = c.Material[k];
                if (m == 'w') col = wallC.Select(w => w * (0.85 + 0.3 * (y + 0.5) / S)).ToArray();
                else if (m is 'p' or 'd')
                {
                    // the photo: a face with lighting baked in, on a backdrop
                    double baked = 0.72 + 0.28 * Math.Sqrt(Math.Max(0, 1 - o)) + 0.1 * Math.Exp(-(u * u / 0.02 + (v - 0.1) * (v - 0.1) / 0.08));
                    col = o < 1 ? Albedo(x, y, u, v).Select(q => q * baked).ToArray() : m == 'd' ? new[] { 0.45, 0.5, 0.6 } : new[] { 0.62, 0.6, 0.56 };
                    if (m == 'p') col = col.Select(q => (0.82 * q + 0.12) * lambert / 0.95).ToArray();
                    else if (Math.Abs(u) > 1.28 || Math.Abs(v) > 1.33) col = new[] { 0.05, 0.05, 0.06 }; // bezel
                    else col = new[] { Math.Pow(col[0], 0.85) * 0.92, Math.Pow(col[1], 0.85) * 0.98, Math.Pow(col[2], 0.85) * 1.1 };
                }
                else col = Albedo(x, y, u, v).Select(q => q * lambert).ToArray();
                if (pores != null && m is 's' or 'k' && o < 1) col = col.Select(q => q * (1 + 0.13 * pores[k])).ToArray();
                if (c.Lens(x, y))
                {
                    bool frame = !c.Lens(x + (x < S / 2 ? 1 : -1), y) || Math.Abs((y + 0.5) / S - (c.Cy + c.EyeV * c.B)) > 0.042;
                    col = frame ? new[] { 0.06, 0.05, 0.05 } : new[] { col[0] * 0.3, col[1] * 0.3, col[2] * 0.3 + 0.05 };
                }
                if (c.Seam && o > 0.84 && o < 0.95) col = col.Select(q => q * 0.45).ToArray();
                if (print && m == 'p')
                    for (int ch = 0; ch < 3; ch++)
                    {
                        // one screen per ink (cyan, magenta, yellow) at its own angle: a rosette
                        double th = angle + ch * Math.PI / 6, p = s.HalftonePeriodPx * at64;
                        double xr = x * Math.Cos(th) + y * Math.Sin(th), yr = -x * Math.Sin(th) + y * Math.Cos(th);
                        col[ch] *= 1 - 0.42 * (0.5 + 0.5 * Math.Cos(2 * Math.PI * xr / p) * Math.Cos(2 * Math.PI * yr / p));
                    }
                if (m == 'd')
                {
                    double pm = s.MoirePeriodPx * at64;
                    double w = 0.14 * Math.Cos(2 * Math.PI * (x * Math.Cos(beat) + y * Math.Sin(beat)) / pm + phase)
                        + 0.06 * Math.Cos(2 * Math.PI * (x * Math.Cos(beat + 0.5) + y * Math.Sin(beat + 0.5)) / (1.3 * pm));
                    col = col.Select(q => q + w).ToArray();
                }
                for (int ch = 0; ch < 3; ch++) rgb[ch * n + k] = (float)col[ch];
            }
        if (leaf == Replay) for (int ch = 0; ch < 3; ch++) BlurPlane(rgb.AsSpan(ch * n, n), S, 0.5 * at64);
        if (c.Glare)
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                {
                    double g = 1.5 * Math.Exp(-(Math.Pow((x + 0.5) / S - gx, 2) / (2 * 0.05 * 0.05) + Math.Pow((y + 0.5) / S - gy, 2) / (2 * 0.07 * 0.07)));
                    for (int ch = 0; ch < 3; ch++) rgb[ch * n + y * S + x] += (float)g;
                }
        for (int ch = 0; ch < 3; ch++)
        {
            var plane = rgb.AsSpan(ch * n, n);
            for (int k = 0; k < n; k++) plane[k] = (float)Math.Min(1, plane[k] * s.Cast[ch] * s.Exposure);
            BlurPlane(plane, S, s.Blur * at64);
            for (int k = 0; k < n; k++)
                plane[k] = (float)Math.Clamp(plane[k] + s.Noise * Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()), 0, 1);
        }
        return rgb;
    }

    private static double Hyp(double dx, double dy) => Math.Sqrt(dx * dx + dy * dy);

    /// <summary>Fine skin texture: blurred white noise scaled to unit standard deviation.</summary>
    private static float[] Pores(Random r, int S, double sigma)
    {
        var f = new float[S * S];
        for (int k = 0; k < f.Length; k++) f[k] = (float)(r.NextDouble() - 0.5);
        BlurPlane(f, S, sigma);
        double sd = Math.Sqrt(f.Average(v => (double)v * v));
        for (int k = 0; k < f.Length; k++) f[k] = (float)(f[k] / Math.Max(sd, 1e-9));
        return f;
    }
}
