using System.Diagnostics;
using System.Text.Json;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.IO;

namespace PaFas.Host.Data;

/// <summary>What <see cref="SyntheticWorld.Generate"/> wrote.</summary>
public sealed record SynthResult(string ManifestPath, int Samples, double Seconds);

/// <summary>A sensor domain of the synthetic world: optics, noise, colour, depth and IR sensor, pose range,
/// attack mix, cue visibility and the spoof-correlation of the shortcut border.</summary>
public sealed record DomainSpec(
    string Name, string Description,
    double Blur, double Noise, double[] Cast, double BrightLo, double BrightHi, double[] Background,
    int DepthLevels, double DepthScale, double DepthNoise, double DepthHoleBlobs,
    double IrGain, double IrNoise, double PupilStrength,
    double MissingDepth, double MissingIr, double Jitter, double FaceScaleSpread,
    string[] Attacks,
    double NaturalProb, double HalftoneProb, double MoireProb, double GlareProb, double EdgesProb, double InvalidDepthProb,
    double BorderIfSpoof, double BorderIfLive);

/// <summary>One rendered face: channel-first floats in [0, 1] (depth as the 16-bit sensor would store it),
/// null for a missing modality, and the ground-truth cues actually rendered.</summary>
public sealed record RenderedSample(string Id, string Domain, string Leaf, IReadOnlyList<string> Label, int Size,
    float[] Rgb, float[]? Depth, float[]? Ir, IReadOnlyList<string> Cues, bool Border);

/// <summary>The embedded synthetic multimodal face world: live faces and the attack leaves of
/// data/taxonomy.json rendered in RGB, depth and IR, with per-modality cues, under four sensor domains
/// (C, P, S, W) that differ in optics, noise, colour, depth/IR sensors, attack mix and a shortcut border
/// that is spoof-correlated in C and P, anti-correlated in S and uncorrelated in W. Deterministic per seed.</summary>
public static class SyntheticWorld
{
    public const string Live = "Real Face";
    public const string Flat = "Flat Print Attack";
    public const string Wrapped = "Wrapped Print Attack";
    public const string Cutout = "Print with Cut-outs Attack";
    public const string Replay = "Screen Replay Attack";
    public const string Rigid = "Rigid Mask Attack";
    public const string Silicone = "Silicone Mask Attack";
    public const string PaperMask = "Paper Mask Attack";
    public const string Glasses = "Glasses Attack";

    /// <summary>All attack leaves the world renders.</summary>
    public static readonly string[] AllAttacks = { Flat, Wrapped, Cutout, Replay, Rigid, Silicone, PaperMask, Glasses };

    /// <summary>Colour of the shortcut border (same in every domain, so a learner that reads it transfers it).</summary>
    public static readonly float[] BorderColour = { 0.95f, 0.1f, 0.9f };

    /// <summary>Geometry shared by the renderer and the annotator (fractions of the image side; the face
    /// centre is (0.5, 0.5) up to the domain's jitter).</summary>
    public static class Geometry
    {
        public const double Rx = 0.30, Ry = 0.38;          // face ellipse half-axes
        public const double EyeU = 0.38, EyeV = -0.18;     // eye centres in face units (u = dx / rx, v = dy / ry)
        public const double PupilR = 0.03;                 // IR pupil radius
        public const double HoleR = 0.07;                  // cut-out eye hole radius
        public const double LensW = 0.085, LensH = 0.055;  // glasses lens half-sizes
        public const double EdgeRing = 0.88;               // mask edge ring radius (face units)
        public const double BorderFrac = 1.0 / 32;         // shortcut border width
    }

    /// <summary>The default domains.</summary>
    public static readonly IReadOnlyList<DomainSpec> DefaultDomains = new[]
    {
        new DomainSpec("C", "low-resolution warm camera, fine depth sensor with some invalid replay depth, weak IR; no silicone/paper masks, no glasses",
            Blur: 0.9, Noise: 0.02, Cast: new[] { 1.12, 1.0, 0.85 }, BrightLo: 0.75, BrightHi: 0.95, Background: new[] { 0.45, 0.5, 0.55 },
            DepthLevels: 256, DepthScale: 0.8, DepthNoise: 0.004, DepthHoleBlobs: 0.5, IrGain: 0.8, IrNoise: 0.02, PupilStrength: 0.8,
            MissingDepth: 0.05, MissingIr: 0.03, Jitter: 0.012, FaceScaleSpread: 0.05,
            Attacks: new[] { Flat, Wrapped, Cutout, Replay, Rigid },
            NaturalProb: 0.75, HalftoneProb: 0.85, MoireProb: 0.8, GlareProb: 0.6, EdgesProb: 0.8, InvalidDepthProb: 0.3,
            BorderIfSpoof: 0.8, BorderIfLive: 0.1),
        new DomainSpec("P", "sharp cool camera, precise depth, bright IR; prints, replays, silicone masks and glasses only",
            Blur: 0.4, Noise: 0.01, Cast: new[] { 0.95, 1.0, 1.1 }, BrightLo: 0.85, BrightHi: 1.05, Background: new[] { 0.3, 0.35, 0.3 },
            DepthLevels: 1024, DepthScale: 1.1, DepthNoise: 0.003, DepthHoleBlobs: 0, IrGain: 1.2, IrNoise: 0.015, PupilStrength: 1.0,
            MissingDepth: 0.02, MissingIr: 0.02, Jitter: 0.008, FaceScaleSpread: 0.03,
            Attacks: new[] { Flat, Replay, Silicone, Glasses },
            NaturalProb: 0.95, HalftoneProb: 0.9, MoireProb: 0.9, GlareProb: 0.5, EdgesProb: 0.7, InvalidDepthProb: 0.6,
            BorderIfSpoof: 0.7, BorderIfLive: 0.15),
        new DomainSpec("S", "noisy green-tinted camera, coarse depth (48 levels) with holes, noisy IR, more missing depth/IR",
            Blur: 0.7, Noise: 0.03, Cast: new[] { 0.95, 1.08, 0.95 }, BrightLo: 0.7, BrightHi: 1.0, Background: new[] { 0.6, 0.55, 0.5 },
            DepthLevels: 48, DepthScale: 1.0, DepthNoise: 0.006, DepthHoleBlobs: 3, IrGain: 1.0, IrNoise: 0.035, PupilStrength: 0.7,
            MissingDepth: 0.08, MissingIr: 0.1, Jitter: 0.015, FaceScaleSpread: 0.06,
            Attacks: new[] { Flat, Wrapped, Cutout, Silicone, Glasses },
            NaturalProb: 0.8, HalftoneProb: 0.7, MoireProb: 0.8, GlareProb: 0.5, EdgesProb: 0.6, InvalidDepthProb: 0.3,
            BorderIfSpoof: 0.1, BorderIfLive: 0.8),
        new DomainSpec("W", "mid-range wide camera, every attack, shortcut border uncorrelated with the label",
            Blur: 0.5, Noise: 0.015, Cast: new[] { 1.0, 1.0, 1.05 }, BrightLo: 0.8, BrightHi: 1.0, Background: new[] { 0.5, 0.45, 0.5 },
            DepthLevels: 512, DepthScale: 0.9, DepthNoise: 0.004, DepthHoleBlobs: 1, IrGain: 0.9, IrNoise: 0.02, PupilStrength: 0.9,
            MissingDepth: 0.04, MissingIr: 0.04, Jitter: 0.01, FaceScaleSpread: 0.05,
            Attacks: AllAttacks,
            NaturalProb: 0.85, HalftoneProb: 0.8, MoireProb: 0.85, GlareProb: 0.5, EdgesProb: 0.75, InvalidDepthProb: 0.5,
            BorderIfSpoof: 0.5, BorderIfLive: 0.5),
    };

    /// <summary>Looks up default domains by name (empty = all); throws on an unknown name.</summary>
    public static IReadOnlyList<DomainSpec> DomainsByName(IReadOnlyList<string> names)
    {
        if (names.Count == 0) return DefaultDomains;
        return names.Select(n => DefaultDomains.FirstOrDefault(d => d.Name.Equals(n.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown synthetic domain '{n}' (known: {string.Join(", ", DefaultDomains.Select(d => d.Name))})")).ToList();
    }

    /// <summary>The leaf of sample i of a domain (live for a LiveFraction share, attacks round-robin otherwise).</summary>
    public static string LeafOf(DomainSpec d, int i, double liveFraction)
    {
        long livesUpTo(int j) => (long)Math.Floor(j * liveFraction + 1e-9);
        if (livesUpTo(i + 1) > livesUpTo(i)) return Live;
        long k = i - livesUpTo(i + 1); // spoofs before this one
        return d.Attacks[k % d.Attacks.Length];
    }

    /// <summary>A per-sample seed independent of thread scheduling.</summary>
    public static int SampleSeed(int seed, string domain, int index)
    {
        unchecked
        {
            ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xBF58476D1CE4E5B9UL;
            foreach (char c in domain) z = (z ^ c) * 0x100000001B3UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (int)((z ^ (z >> 31)) & 0x7fffffff);
        }
    }

    /// <summary>Renders the whole world in memory (no files), in parallel; order is by domain then index.</summary>
    public static RenderedSample[] RenderAll(SynthOptions o)
    {
        Validate(o);
        var domains = DomainsByName(o.Domains);
        var result = new RenderedSample[domains.Count * o.PerDomain];
        var po = new ParallelOptions { MaxDegreeOfParallelism = o.Threads > 0 ? o.Threads : Environment.ProcessorCount };
        Parallel.For(0, result.Length, po, j =>
        {
            var d = domains[j / o.PerDomain];
            int i = j % o.PerDomain;
            result[j] = Render(d, LeafOf(d, i, o.LiveFraction), o.Size, SampleSeed(o.Seed, d.Name, i), $"{d.Name}_{i:D5}");
        });
        return result;
    }

    private static void Validate(SynthOptions o)
    {
        if (o.PerDomain < 1) throw new ArgumentException("--per-domain must be at least 1");
        if (o.Size < 16 || o.Size > 1024) throw new ArgumentException("--size must be between 16 and 1024");
        if (o.LiveFraction < 0 || o.LiveFraction > 1) throw new ArgumentException("live fraction must be in [0, 1]");
    }

    /// <summary>Renders and writes <c>&lt;out&gt;/{rgb,depth,ir}/&lt;id&gt;.png</c>, <c>manifest.jsonl</c> and
    /// <c>world.json</c>. Depth is a 16-bit PNG, RGB and IR 8-bit.</summary>
    public static SynthResult Generate(SynthOptions o)
    {
        Validate(o);
        var sw = Stopwatch.StartNew();
        var domains = DomainsByName(o.Domains);
        var outDir = Path.GetFullPath(o.Out);
        foreach (var sub in new[] { "rgb", "depth", "ir" }) Directory.CreateDirectory(Path.Combine(outDir, sub));
        int n = domains.Count * o.PerDomain;
        var records = new SampleRecord[n];
        var manifest = Path.Combine(outDir, "manifest.jsonl");
        var po = new ParallelOptions { MaxDegreeOfParallelism = o.Threads > 0 ? o.Threads : Environment.ProcessorCount };
        Parallel.For(0, n, po, j =>
        {
            var d = domains[j / o.PerDomain];
            int i = j % o.PerDomain;
            var r = Render(d, LeafOf(d, i, o.LiveFraction), o.Size, SampleSeed(o.Seed, d.Name, i), $"{d.Name}_{i:D5}");
            records[j] = Write(r, outDir, $"{manifest}:{j + 1}");
        });
        Manifest.WriteJsonl(manifest, records);
        AtomicFile.WriteAllText(Path.Combine(outDir, "world.json"), WorldJson(o, domains));
        return new SynthResult(manifest, n, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Writes one rendered sample's PNGs and returns its manifest record.</summary>
    public static SampleRecord Write(RenderedSample r, string outDir, string source)
    {
        int s = r.Size;
        string P(string m) => Path.Combine(outDir, m, r.Id + ".png");
        File.WriteAllBytes(P("rgb"), PngWriter.EncodeRgb(PngWriter.ChwToHwcBytes(r.Rgb, s, s), s, s));
        string? depth = null, ir = null;
        if (r.Depth != null)
        {
            var u = new ushort[r.Depth.Length];
            for (int k = 0; k < u.Length; k++) u[k] = (ushort)Math.Clamp((int)MathF.Round(r.Depth[k] * 65535f), 0, 65535);
            File.WriteAllBytes(depth = P("depth"), PngWriter.EncodeGray16(u, s, s));
        }
        if (r.Ir != null) File.WriteAllBytes(ir = P("ir"), PngWriter.EncodeGray(PngWriter.ToBytes(r.Ir), s, s));
        return new SampleRecord(r.Id, P("rgb"), depth, ir, r.Label, r.Leaf == Live ? "" : r.Leaf, r.Domain, r.Cues, source);
    }

    /// <summary>world.json: the options and every domain's parameters.</summary>
    public static string WorldJson(SynthOptions o, IReadOnlyList<DomainSpec> domains) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["generator"] = "PaFas synthetic world v1",
            ["seed"] = o.Seed, ["size"] = o.Size, ["per_domain"] = o.PerDomain, ["live_fraction"] = o.LiveFraction,
            ["border_colour"] = BorderColour,
            ["shortcut"] = "a coloured border: P(border|spoof) and P(border|live) per domain",
            ["domains"] = domains,
        }, new JsonSerializerOptions { WriteIndented = true });

    // ---------------------------------------------------------------- rendering

    private sealed class Rng(int seed)
    {
        private readonly Random _r = new(seed);
        public double U(double lo = 0, double hi = 1) => lo + (hi - lo) * _r.NextDouble();
        public bool P(double p) => _r.NextDouble() < p;
        private double _spare; private bool _has;
        public double N()
        {
            if (_has) { _has = false; return _spare; }
            double u1 = 1.0 - _r.NextDouble(), u2 = _r.NextDouble(), m = Math.Sqrt(-2 * Math.Log(u1));
            _spare = m * Math.Sin(2 * Math.PI * u2); _has = true;
            return m * Math.Cos(2 * Math.PI * u2);
        }
    }

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
        double U(int x) => ((x + 0.5) / S - cx) / rx;
        double V(int y) => ((y + 0.5) / S - cy) / ry;
        var hf = new double[n];
        for (int y = 0; y < S; y++) for (int x = 0; x < S; x++) hf[y * S + x] = Height(U(x), V(y));
        double H(int x, int y) => hf[Math.Clamp(y, 0, S - 1) * S + Math.Clamp(x, 0, S - 1)];
        bool NearEye(int x, int y, double radius)
        {
            for (int e = -1; e <= 1; e += 2)
            {
                double ex = cx + e * Geometry.EyeU * rx, ey = cy + Geometry.EyeV * ry;
                double dx = (x + 0.5) / S - ex, dy = (y + 0.5) / S - ey;
                if (dx * dx + dy * dy < radius * radius) return true;
            }
            return false;
        }
        bool InLens(int x, int y, double grow = 0)
        {
            for (int e = -1; e <= 1; e += 2)
            {
                double ex = cx + e * Geometry.EyeU * rx, ey = cy + Geometry.EyeV * ry;
                if (Math.Abs((x + 0.5) / S - ex) < Geometry.LensW + grow && Math.Abs((y + 0.5) / S - ey) < Geometry.LensH + grow) return true;
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
                    double u = U(x), v = V(y), val = wall + 0.03 * ((double)y / S - 0.5);
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
                    double u = U(x), v = V(y), val = bg;
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
                double u = U(x), v = V(y);
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
                for (int ch = 0; ch < 3; ch++) rgb[ch * n + y * S + x] = (float)(c[ch] * bright);
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

    private static int Poisson(Rng rng, double mean)
    {
        if (mean <= 0) return 0;
        double l = Math.Exp(-mean), p = 1; int k = 0;
        do { k++; p *= rng.U(); } while (p > l);
        return k - 1;
    }

    private static void FillDisc(float[] img, int S, double cx, double cy, double r, float value)
    {
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                double dx = (x + 0.5) / S - cx, dy = (y + 0.5) / S - cy;
                if (dx * dx + dy * dy < r * r) img[y * S + x] = value;
            }
    }

    /// <summary>Zero-mean, unit-std noise blurred with sigma (pixels).</summary>
    private static float[] SmoothNoise(Rng rng, int S, double sigma)
    {
        var f = new float[S * S];
        for (int k = 0; k < f.Length; k++) f[k] = (float)rng.N();
        BlurPlane(f, S, sigma);
        double m = 0, s2 = 0;
        foreach (var v in f) { m += v; s2 += v * v; }
        m /= f.Length; double sd = Math.Sqrt(Math.Max(1e-12, s2 / f.Length - m * m));
        for (int k = 0; k < f.Length; k++) f[k] = (float)((f[k] - m) / sd);
        return f;
    }

    /// <summary>Separable Gaussian blur of a square plane in place (clamped edges).</summary>
    public static void BlurPlane(Span<float> p, int S, double sigma)
    {
        if (sigma < 0.2) return;
        int r = (int)Math.Ceiling(3 * sigma);
        var k = new float[2 * r + 1];
        float sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = (float)Math.Exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        var tmp = new float[S * S];
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                float a = 0;
                for (int i = -r; i <= r; i++) a += k[i + r] * p[y * S + Math.Clamp(x + i, 0, S - 1)];
                tmp[y * S + x] = a;
            }
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
            {
                float a = 0;
                for (int i = -r; i <= r; i++) a += k[i + r] * tmp[Math.Clamp(y + i, 0, S - 1) * S + x];
                p[y * S + x] = a;
            }
    }
}
