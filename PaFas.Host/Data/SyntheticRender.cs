using PaFas.Core;

namespace PaFas.Host.Data;

/// <summary>The renderer of the synthetic world: one face of a leaf under a sensor domain, in RGB, depth and IR, with the
/// ground-truth cues it actually drew.</summary>
public static partial class SyntheticWorld
{
    private enum Shape { Face, SmoothFace, Cylinder, Plane }

    /// <summary>Renders one sample of a leaf in a domain (in memory).</summary>
    public static RenderedSample Render(DomainSpec d, string leaf, int size, int seed, string id)
    {
        var g = GrammarStore.Default;
        var t = g.Taxonomy;
        if (!TaxonomyModule.isLeaf(t, leaf)) throw new ArgumentException($"'{leaf}' is not a leaf of the taxonomy");
        var rng = new Rng(seed);
        int S = size, n = S * S;
        double px = 64.0 / S; // pixel-unit patterns are defined at 64 px
        double cx = 0.5 + rng.U(-d.Jitter, d.Jitter), cy = 0.5 + rng.U(-d.Jitter, d.Jitter);
        double sc = 1 + rng.U(-d.FaceScaleSpread, d.FaceScaleSpread);
        double rx = Geometry.Rx * sc * rng.U(0.97, 1.03), ry = Geometry.Ry * sc;
        bool hasDepth = !rng.P(d.MissingDepth), hasIr = !rng.P(d.MissingIr);
        if (!hasDepth && !hasIr) hasIr = true;
        var cues = new List<string>();
        void Cue(string c) { if (!cues.Contains(c)) cues.Add(c); }

        // what the presentation is made of
        bool isPrint = leaf is Flat or Wrapped or Cutout;
        bool isMask = leaf is Rigid or Silicone or PaperMask;
        bool realSkinFace = leaf is Live or Glasses;
        Shape shape = leaf switch
        {
            Live or Glasses or Silicone => Shape.Face,
            Rigid => Shape.SmoothFace,
            Wrapped or PaperMask => Shape.Cylinder,
            _ => Shape.Plane,
        };
        // the region the object covers, in face units
        bool InObject(double u, double v) => isPrint ? Math.Abs(u) < 1.25 && Math.Abs(v) < 1.3
            : leaf == Replay ? Math.Abs(u) < 1.3 && Math.Abs(v) < 1.3
            : u * u + v * v < 1;
        double tiltU = rng.U(-0.02, 0.02), tiltV = rng.U(-0.02, 0.02);
        double Height(double u, double v)
        {
            double r2 = u * u + v * v;
            switch (shape)
            {
                case Shape.Plane: return tiltU * u + tiltV * v;
                case Shape.Cylinder: return 0.2 * Math.Sqrt(Math.Max(0, 1 - u * u / (1.3 * 1.3)));
                default:
                    double dome = 0.15 * Math.Sqrt(Math.Max(0, 1 - r2));
                    double nose = 0.08 * Math.Exp(-(u * u / (2 * 0.12 * 0.12) + (v - 0.05) * (v - 0.05) / (2 * 0.18 * 0.18)));
                    if (shape == Shape.SmoothFace) return dome + nose;
                    double sock = 0;
                    for (int e = -1; e <= 1; e += 2)
                    {
                        double eu = e * Geometry.EyeU;
                        sock += Math.Exp(-((u - eu) * (u - eu) + (v - Geometry.EyeV) * (v - Geometry.EyeV)) / (2 * 0.1 * 0.1));
                    }
                    return dome + nose - 0.07 * sock;
            }
        }
        // In-plane head rotation (roll): a pixel's position in the upright face's frame, in image fractions. Without
        // roll it is the pixel centre itself, computed exactly as before roll existed.
        double roll = d.Roll > 0 ? rng.U(-d.Roll, d.Roll) : 0, cosR = Math.Cos(roll), sinR = Math.Sin(roll);
        double Px(int x, int y) => roll == 0 ? (x + 0.5) / S : cx + cosR * ((x + 0.5) / S - cx) + sinR * ((y + 0.5) / S - cy);
        double Py(int x, int y) => roll == 0 ? (y + 0.5) / S : cy - sinR * ((x + 0.5) / S - cx) + cosR * ((y + 0.5) / S - cy);
        double U(int x, int y) => (Px(x, y) - cx) / rx;
        double V(int x, int y) => (Py(x, y) - cy) / ry;
        var hf = new double[n];
        for (int y = 0; y < S; y++) for (int x = 0; x < S; x++) hf[y * S + x] = Height(U(x, y), V(x, y));
        double H(int x, int y) => hf[Math.Clamp(y, 0, S - 1) * S + Math.Clamp(x, 0, S - 1)];
        bool NearEye(int x, int y, double radius)
        {
            for (int e = -1; e <= 1; e += 2)
            {
                double ex = cx + e * Geometry.EyeU * rx, ey = cy + Geometry.EyeV * ry;
                double dx = Px(x, y) - ex, dy = Py(x, y) - ey;
                if (dx * dx + dy * dy < radius * radius) return true;
            }
            return false;
        }
        bool InLens(int x, int y, double grow = 0)
        {
            for (int e = -1; e <= 1; e += 2)
            {
                double ex = cx + e * Geometry.EyeU * rx, ey = cy + Geometry.EyeV * ry;
                if (Math.Abs(Px(x, y) - ex) < Geometry.LensW + grow && Math.Abs(Py(x, y) - ey) < Geometry.LensH + grow) return true;
            }
            return false;
        }

        // ---------------- depth
        float[]? depth = null;
        if (hasDepth)
        {
            depth = new float[n];
            bool invalid = leaf == Replay && rng.P(d.InvalidDepthProb);
            double wall = 0.2 + rng.U(-0.02, 0.02), baseLevel = 0.5 + rng.U(-0.04, 0.04);
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                {
                    double u = U(x, y), v = V(x, y), val = wall + 0.03 * ((double)y / S - 0.5);
                    if (InObject(u, v))
                    {
                        val = invalid ? 0 : baseLevel + d.DepthScale * hf[y * S + x];
                        if (leaf == Cutout && NearEye(x, y, Geometry.HoleR)) val = baseLevel - 0.09 * d.DepthScale;
                    }
                    depth[y * S + x] = (float)val;
                }
            int blobs = Poisson(rng, d.DepthHoleBlobs);
            for (int b = 0; b < blobs; b++)
            {
                double bx = rng.U(0, 1), by = rng.U(0, 1), br = rng.U(0.015, 0.035);
                FillDisc(depth, S, bx, by, br, 0);
            }
            for (int k = 0; k < n; k++)
            {
                if (depth[k] <= 0) continue;
                double v = Math.Clamp(depth[k] + d.DepthNoise * rng.N(), 0.01, 1);
                depth[k] = (float)(Math.Round(v * (d.DepthLevels - 1)) / (d.DepthLevels - 1));
            }
            switch (shape)
            {
                case Shape.Face: Cue("depth:relief"); break;
                case Shape.SmoothFace: Cue("depth:smooth"); break;
                case Shape.Cylinder: Cue("depth:curved"); break;
                default: Cue(invalid ? "depth:invalid" : "depth:flat"); break;
            }
            if (leaf == Cutout) Cue("depth:holes");
        }

        // ---------------- IR
        float[]? ir = null;
        if (hasIr)
        {
            ir = new float[n];
            double bg = 0.1 * rng.U(0.9, 1.15);
            var tex = SmoothNoise(rng, S, 1.0 / px);
            double pupil = 0.55 + 0.45 * d.PupilStrength;
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                {
                    double u = U(x, y), v = V(x, y), val = bg;
                    if (InObject(u, v))
                    {
                        double skin = 0.5 * (1 + 0.08 * tex[y * S + x]) * (0.92 + 0.5 * hf[y * S + x]);
                        val = leaf switch
                        {
                            Live or Glasses => skin,
                            Flat or Wrapped or Cutout or PaperMask => 0.85 * (NearEye(x, y, 0.03) ? 0.95 : 1.0),
                            Replay => 0.04,
                            _ => 0.28, // rigid / silicone mask material
                        };
                        if (leaf == Cutout && NearEye(x, y, Geometry.HoleR)) val = skin;
                        if (leaf == Live && NearEye(x, y, Geometry.PupilR)) val = pupil;
                        if (leaf == Glasses && InLens(x, y)) val = InLens(x, y, -0.012) ? 0.12 : 0.03;
                    }
                    ir[y * S + x] = (float)val;
                }
            for (int k = 0; k < n; k++) ir[k] = (float)Math.Clamp(ir[k] * d.IrGain + d.IrNoise * rng.N(), 0, 1);
            switch (leaf)
            {
                case Live: Cue("ir:skin"); Cue("ir:pupil"); break;
                case Glasses: Cue("ir:skin"); Cue("ir:eyeanomaly"); break;
                case Cutout: Cue("ir:paper"); Cue("ir:skin"); break;
                case Flat or Wrapped or PaperMask: Cue("ir:paper"); Cue("ir:nopupil"); break;
                case Replay: Cue("ir:dark"); Cue("ir:nopupil"); break;
                default: Cue("ir:material"); Cue("ir:nopupil"); break;
            }
        }

        // ---------------- RGB
        var rgb = new float[3 * n];
        double bright = rng.U(d.BrightLo, d.BrightHi);
        // a directional lighting gradient (none in the default domains): brightness x (1 + k * position along a direction)
        double lightK = d.Light > 0 ? rng.U(0, d.Light) : 0, lightA = d.Light > 0 ? rng.U(0, 2 * Math.PI) : 0;
        double Lit(int x, int y) => lightK == 0 ? 1 : 1 + 2 * lightK * (((x + 0.5) / S - 0.5) * Math.Cos(lightA) + ((y + 0.5) / S - 0.5) * Math.Sin(lightA));
        var bgc = d.Background.Select(c => c * rng.U(0.9, 1.1)).ToArray();
        double tone = rng.U(0.8, 1.05);
        var skinC = new[] { 0.78 * tone, 0.6 * tone, 0.5 * tone };
        if (leaf == Rigid) skinC = new[] { 0.8, 0.72, 0.66 };
        bool natural = (realSkinFace || leaf == Silicone) && rng.P(d.NaturalProb);
        bool halftone = (isPrint || leaf == PaperMask) && rng.P(d.HalftoneProb);
        bool moire = leaf == Replay && rng.P(d.MoireProb);
        bool glare = leaf == Replay && rng.P(d.GlareProb);
        bool edges = isMask && rng.P(d.EdgesProb);
        var skinTex = natural ? SmoothNoise(rng, S, 1.5 / px) : null;
        double htF = 0.16, htA = rng.U(0, Math.PI), moF = rng.U(0.07, 0.11), moA = rng.U(0, Math.PI), moP = rng.U(0, 2 * Math.PI);
        double gx = cx + rng.U(-0.12, 0.12), gy = cy + rng.U(-0.15, 0.1);
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double u = U(x, y), v = V(x, y);
                double fy = (double)y / S;
                var c = new[] { bgc[0] * (0.9 + 0.2 * fy), bgc[1] * (0.9 + 0.2 * fy), bgc[2] * (0.9 + 0.2 * fy) };
                bool inObj = InObject(u, v), inFace = u * u + v * v < 1;
                if (inObj && !inFace && (isPrint || leaf == Replay))
                    c = new[] { 0.55, 0.55, 0.58 }; // the printed / displayed backdrop
                if (inFace)
                {
                    double shade = 0.85 + 4.0 * (0.05 * rx * S) * (H(x - 1, y - 1) - H(x + 1, y + 1)) * (shape == Shape.Plane || shape == Shape.Cylinder ? 0 : 1)
                        + (shape == Shape.Plane || shape == Shape.Cylinder ? 0.6 * (0.15 * Math.Sqrt(Math.Max(0, 1 - u * u - v * v))) : 0);
                    for (int ch = 0; ch < 3; ch++) c[ch] = skinC[ch] * shade;
                    if (NearEye(x, y, 0.022)) c = new[] { 0.12, 0.1, 0.1 };
                    foreach (var eu in new[] { -Geometry.EyeU, Geometry.EyeU })
                        if (Math.Abs(u - eu) < 0.18 && Math.Abs(v - (Geometry.EyeV - 0.17)) < 0.035) c = new[] { 0.25, 0.18, 0.15 };
                    if (u * u / 0.09 + (v - 0.5) * (v - 0.5) / 0.005 < 1) c = new[] { 0.65, 0.3, 0.3 };
                    if (isPrint || leaf == PaperMask) for (int ch = 0; ch < 3; ch++) c[ch] = 0.85 * c[ch] + 0.1;
                    if (skinTex != null) { double m = 1 + 0.14 * skinTex[y * S + x]; for (int ch = 0; ch < 3; ch++) c[ch] *= m; }
                    if (leaf == Glasses && InLens(x, y))
                    {
                        bool frame = !InLens(x, y, -0.012);
                        for (int ch = 0; ch < 3; ch++) c[ch] = frame ? 0.05 : c[ch] * 0.35 + (ch == 2 ? 0.08 : 0);
                    }
                    if (edges)
                    {
                        double rr = Math.Sqrt(u * u + v * v);
                        if (Math.Abs(rr - Geometry.EdgeRing) < 0.045) for (int ch = 0; ch < 3; ch++) c[ch] *= 0.4;
                    }
                }
                if (halftone && inObj && leaf != Replay)
                {
                    double xr = x * px * Math.Cos(htA) + y * px * Math.Sin(htA), yr = -x * px * Math.Sin(htA) + y * px * Math.Cos(htA);
                    double dot = 0.5 + 0.5 * Math.Cos(2 * Math.PI * htF * xr) * Math.Cos(2 * Math.PI * htF * yr);
                    for (int ch = 0; ch < 3; ch++) c[ch] *= 1 - 0.45 * dot;
                }
                if (moire && inObj)
                {
                    double w = Math.Cos(2 * Math.PI * moF * (x * px * Math.Cos(moA) + y * px * Math.Sin(moA)) + moP);
                    for (int ch = 0; ch < 3; ch++) c[ch] += 0.2 * w;
                }
                double lit = Lit(x, y);
                for (int ch = 0; ch < 3; ch++) rgb[ch * n + y * S + x] = (float)(lightK == 0 ? c[ch] * bright : c[ch] * bright * lit);
            }
        if (leaf == Replay) for (int ch = 0; ch < 3; ch++) BlurPlane(rgb.AsSpan(ch * n, n), S, 0.6 / px); // screen loses detail
        if (glare)
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                {
                    double dx = (x + 0.5) / S - gx, dy = (y + 0.5) / S - gy;
                    double gl = 1.6 * Math.Exp(-(dx * dx + dy * dy) / (2 * 0.06 * 0.06));
                    for (int ch = 0; ch < 3; ch++) rgb[ch * n + y * S + x] += (float)gl;
                }
        bool border = rng.P(leaf == Live ? d.BorderIfLive : d.BorderIfSpoof);
        int bw = Math.Max(1, (int)Math.Round(S * Geometry.BorderFrac));
        for (int ch = 0; ch < 3; ch++)
        {
            var plane = rgb.AsSpan(ch * n, n);
            for (int k = 0; k < n; k++) plane[k] = (float)Math.Min(plane[k] * d.Cast[ch], glare ? 1.0 : 0.97);
            if (border)
                for (int y = 0; y < S; y++)
                    for (int x = 0; x < S; x++)
                        if (x < bw || y < bw || x >= S - bw || y >= S - bw) plane[y * S + x] = BorderColour[ch];
            BlurPlane(plane, S, d.Blur / px);
            for (int k = 0; k < n; k++) plane[k] = (float)Math.Clamp(plane[k] + d.Noise * rng.N(), 0, 1);
        }
        if (natural) Cue("rgb:natural");
        if (halftone) Cue("rgb:halftone");
        if (moire) Cue("rgb:moire");
        if (glare) Cue("rgb:glare");
        if (edges) Cue("rgb:edges");
        if (leaf == Glasses) Cue("rgb:glasses");

        var compat = TaxonomyModule.compatible(t, leaf);
        var ordered = ModalityModule.all.SelectMany(m => cues.Where(c => c.StartsWith(ModalityModule.key(m) + ":", StringComparison.Ordinal))).ToList();
        foreach (var c in ordered)
            if (!compat.Contains(CueModule.tryParse(c)!.Value))
                throw new InvalidOperationException($"synthetic world bug: cue {c} is not compatible with {leaf}");
        return new RenderedSample(id, d.Name, leaf, TaxonomyModule.labelOf(t, leaf).ToArray(), S, rgb, depth, ir, ordered, border);
    }
}
