using PaFas.Host.Model;
using PaFas.Core;
using static PaFas.Host.Data.SyntheticWorld;

namespace PaFas.Host.Data;

/// <summary>One face of the foreign renderer: RGB (channel-first floats), depth as the sensor's integer codes
/// (0 = no reading), IR floats, and the cues the renderer physically put in.</summary>
public sealed record ForeignFace(string Id, ForeignSensor Sensor, string Leaf, IReadOnlyList<string> Label, int Size,
    float[] Rgb, int[] DepthCodes, float[] Ir, IReadOnlyList<string> Cues)
{
    /// <summary>The face as the image loader would decode it from the written PNGs (depth codes / max code).</summary>
    public FaceTensors ToTensors() => new(Size, Rgb, DepthCodes.Select(c => (float)c / Sensor.Depth.MaxCode).ToArray(), Ir);
}

/// <summary>A second renderer of multimodal faces, independent of the synthetic world's: a scene in millimetres
/// (a superellipse head with a height field of dome, nose, brows, cheeks, eye sockets and mouth; a print, screen
/// or mask held in front of the camera), lit by a directional light for colour and by a co-located IR illuminator
/// with inverse-square fall-off and per-material NIR reflectance, then seen through a <see cref="ForeignSensor"/>:
/// its crop, colour cast, blur and noise, depth encoding (8/16-bit, near = bright or dark, raw millimetres),
/// flying pixels at depth edges, IR gain, offset and clipping. Used to test the annotator on sensors it was not
/// written for. Deterministic per seed.</summary>
public static class ForeignRenderer
{
    private const double EyeU = 0.39, EyeV = -0.17; // eye centres in head units (the crop aligns the eyes)

    public static ForeignFace Render(ForeignSensor s, string leaf, int size, int seed, string id)
    {
        var t = GrammarStore.Default.Taxonomy;
        if (!TaxonomyModule.isLeaf(t, leaf)) throw new ArgumentException($"'{leaf}' is not a leaf of the taxonomy");
        var r = new Random(seed);
        double Uni(double lo, double hi) => lo + (hi - lo) * r.NextDouble();
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
        int S = size, n = S * S;
        double at64 = S / 64.0;
        double cx = 0.5 + s.CropShiftX + Uni(-0.005, 0.005), cy = 0.5 + s.CropShiftY + Uni(-0.005, 0.005);
        double a = 0.285 * s.FaceScale * Uni(0.98, 1.02), b = 0.40 * s.FaceScale;
        double mmPerPx = 150.0 / (2 * a * S); // a head is about 150 mm wide
        double d0 = s.FaceDistanceMm + Uni(-40, 40), wall = s.WallDistanceMm + Uni(-50, 50);
        var cues = new List<string>();

        bool print = leaf is Flat or Wrapped or Cutout, mask = leaf is Rigid or Silicone or PaperMask;
        bool invalidScreen = leaf == Replay && r.NextDouble() < s.InvalidScreenProb;
        bool texture = (leaf is Live or Glasses && r.NextDouble() < s.SkinTextureProb) || (leaf == Silicone && r.NextDouble() < 0.6 * s.SkinTextureProb);
        bool glare = leaf == Replay && r.NextDouble() < s.GlareProb;
        bool seam = mask && r.NextDouble() < s.SeamProb;
        double tiltU = Uni(-8, 8), tiltV = Uni(-8, 8), tone = Uni(0.85, 1.1);

        double U(int x) => ((x + 0.5) / S - cx) / a;
        double V(int y) => ((y + 0.5) / S - cy) / b;
        double Outline(double u, double v) => Math.Pow(Math.Abs(u), 2.4) + Math.Pow(Math.Abs(v), 2.2);
        double G2(double du, double dv, double su, double sv) => Math.Exp(-(du * du / (2 * su * su) + dv * dv / (2 * sv * sv)));
        double Pair(Func<double, double> f) => f(-EyeU) + f(EyeU);
        // the head's height field (mm toward the camera); sockets scaled for smooth masks
        double Head(double u, double v, double detail)
        {
            double o = Outline(u, v);
            if (o >= 1) return 0;
            return 60 * Math.Sqrt(1 - o) + 24 * G2(u, v - 0.08, 0.09, 0.2)
                + detail * (-11 * Pair(e => G2(u - e, v - EyeV, 0.1, 0.1)) + 4 * Pair(e => G2(u - e, v + 0.33, 0.15, 0.05)) - 3 * G2(u, v - 0.55, 0.15, 0.04))
                + 5 * Pair(e => G2(u - 1.15 * e, v - 0.2, 0.15, 0.15));
        }
        bool InSheet(double u, double v) => leaf == Replay ? Math.Abs(u) < 1.35 && Math.Abs(v) < 1.4 : Math.Abs(u) < 1.3 && Math.Abs(v) < 1.3;
        double EyeDist(int x, int y) => Math.Min(Dist(x, y, cx - EyeU * a, cy + EyeV * b), Dist(x, y, cx + EyeU * a, cy + EyeV * b));
        double Dist(int x, int y, double ex, double ey) => Math.Sqrt(Math.Pow((x + 0.5) / S - ex, 2) + Math.Pow((y + 0.5) / S - ey, 2));
        bool Hole(int x, int y) => leaf == Cutout && EyeDist(x, y) < 0.06;
        bool Lens(int x, int y) => leaf == Glasses && Math.Abs((x + 0.5) / S - cx) is var dx && dx > 0.035 && dx < 0.195 && Math.Abs((y + 0.5) / S - (cy + EyeV * b)) < 0.05;

        // ---------------- scene: distance (mm), surface height for shading, material
        var z = new double[n]; var h = new double[n]; var mat = new char[n]; // w wall, s skin, p paper, d display, r resin, k silicone
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                int k = y * S + x;
                double u = U(x), v = V(y), o = Outline(u, v);
                z[k] = wall - 60 * ((double)y / S - 0.5); mat[k] = 'w';
                if (print || leaf == Replay)
                {
                    if (!InSheet(u, v)) continue;
                    h[k] = leaf == Wrapped ? 32 * Math.Sqrt(Math.Max(0, 1 - u * u / (1.35 * 1.35))) : tiltU * u + tiltV * v;
                    z[k] = d0 - 30 - h[k]; mat[k] = leaf == Replay ? 'd' : 'p';
                    if (Hole(x, y)) { z[k] = d0 + 15; mat[k] = 's'; }
                }
                else if (o < 1)
                {
                    h[k] = leaf switch
                    {
                        PaperMask => 30 * Math.Sqrt(Math.Max(0, 1 - u * u / (1.1 * 1.1))),
                        Rigid => Head(u, v, 0.12),
                        _ => Head(u, v, 1),
                    };
                    z[k] = d0 - h[k];
                    mat[k] = leaf switch { Rigid => 'r', Silicone => 'k', PaperMask => 'p', _ => 's' };
                }
            }
        // surface normals (from the height field) for the shading of colour and IR
        var nz = new double[n]; var nx = new double[n]; var ny = new double[n];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                int k = y * S + x;
                double gx = (z[y * S + Math.Min(x + 1, S - 1)] - z[y * S + Math.Max(x - 1, 0)]) / (2 * mmPerPx);
                double gy = (z[Math.Min(y + 1, S - 1) * S + x] - z[Math.Max(y - 1, 0) * S + x]) / (2 * mmPerPx);
                if (Math.Abs(gx) > 3 || Math.Abs(gy) > 3) { gx = 0; gy = 0; } // occlusion edges
                double len = Math.Sqrt(gx * gx + gy * gy + 1);
                nx[k] = gx / len; ny[k] = gy / len; nz[k] = 1 / len;
            }

        // ---------------- depth: noise, optics blur, flying pixels at edges, screen speculars, encoding
        var dz = z.Select(v => (float)(v + s.DepthNoiseMm * Gauss())).ToArray();
        BlurPlane(dz, S, s.DepthBlur * at64);
        var mm = dz.Select(v => (double)v).ToArray();
        for (int y = 1; y < S - 1; y++)
            for (int x = 1; x < S - 1; x++)
                if (Math.Abs(z[y * S + x + 1] - z[y * S + x - 1]) > 150 && r.NextDouble() < 0.5) mm[y * S + x] = double.NaN;
        if (invalidScreen)
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    if (mat[y * S + x] == 'd' && r.NextDouble() < 0.92) mm[y * S + x] = double.NaN;
        var codes = mm.Select(s.Depth.Encode).ToArray();
        cues.Add(leaf switch
        {
            Live or Glasses or Silicone => "depth:relief",
            Rigid => "depth:smooth",
            Wrapped or PaperMask => "depth:curved",
            Replay when invalidScreen => "depth:invalid",
            _ => "depth:flat",
        });
        if (leaf == Cutout) cues.Add("depth:holes");

        // ---------------- IR: co-located illuminator, inverse-square fall-off, NIR reflectance
        var ir = new float[n];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                int k = y * S + x;
                double rho = mat[k] switch { 'w' => 0.35, 's' => 0.5, 'p' => 0.8, 'd' => 0.03, 'r' => 0.2, _ => 0.26 };
                if (mat[k] == 's' && leaf == Live && EyeDist(x, y) < 0.022) rho = 1.4; // bright pupil reflex
                if (Lens(x, y)) rho = 0.05;                                          // NIR-absorbing lenses
                double fall = s.FaceDistanceMm * s.FaceDistanceMm / (z[k] * z[k]);
                ir[k] = (float)(s.IrGain * rho * Math.Max(0.2, nz[k]) * fall + s.IrOffset);
            }
        BlurPlane(ir, S, s.IrBlur * at64);
        for (int k = 0; k < n; k++) ir[k] = (float)Math.Clamp(ir[k] + s.IrNoise * Gauss(), 0, 1);
        cues.AddRange(leaf switch
        {
            Live => new[] { "ir:skin", "ir:pupil" },
            Glasses => new[] { "ir:skin", "ir:eyeanomaly" },
            Cutout => new[] { "ir:paper", "ir:skin" },
            Flat or Wrapped or PaperMask => new[] { "ir:paper", "ir:nopupil" },
            Replay => new[] { "ir:dark", "ir:nopupil" },
            _ => new[] { "ir:material", "ir:nopupil" },
        });

        // ---------------- colour
        var rgb = ForeignColour.Render(s, leaf, S, r, new ForeignColour.Scene(cx, cy, a, b, EyeU, EyeV, tone, texture, glare, seam, mat, nx, ny, nz, U, V, Outline, Hole, Lens));
        if (texture) cues.Add("rgb:natural");
        if (print || leaf == PaperMask) cues.Add("rgb:halftone");
        if (leaf == Replay) cues.Add("rgb:moire");
        if (glare) cues.Add("rgb:glare");
        if (seam) cues.Add("rgb:edges");
        if (leaf == Glasses) cues.Add("rgb:glasses");

        var compat = TaxonomyModule.compatible(t, leaf);
        var ordered = ModalityModule.all.SelectMany(m => cues.Where(c => c.StartsWith(ModalityModule.key(m) + ":", StringComparison.Ordinal))).ToList();
        foreach (var c in ordered)
            if (!compat.Contains(CueModule.tryParse(c)!.Value)) throw new InvalidOperationException($"foreign renderer bug: cue {c} is not compatible with {leaf}");
        return new ForeignFace(id, s, leaf, TaxonomyModule.labelOf(t, leaf).ToArray(), S, rgb, codes, ir, ordered);
    }
}
