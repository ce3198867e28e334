using PaFas.Host.Model;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.IO;

namespace PaFas.Host.Data;

/// <summary>What <see cref="SyntheticWorld.Generate"/> wrote.</summary>
public sealed record SynthResult(string ManifestPath, int Samples, double Seconds);

/// <summary>A sensor domain of the synthetic world: optics, noise, colour, depth and IR sensor, pose range,
/// attack mix, cue visibility and the spoof-correlation of the shortcut border. <paramref name="Roll"/> (largest in-plane
/// head rotation, radians) and <paramref name="Light"/> (largest strength of a directional lighting gradient over
/// the RGB image) are 0 in the four default domains; the pretraining stream (<see cref="SensorRanges"/>) varies them.
/// At 0 they draw no random numbers, so the default domains render exactly as before they existed.</summary>
public sealed record DomainSpec(
    string Name, string Description,
    double Blur, double Noise, double[] Cast, double BrightLo, double BrightHi, double[] Background,
    int DepthLevels, double DepthScale, double DepthNoise, double DepthHoleBlobs,
    double IrGain, double IrNoise, double PupilStrength,
    double MissingDepth, double MissingIr, double Jitter, double FaceScaleSpread,
    string[] Attacks,
    double NaturalProb, double HalftoneProb, double MoireProb, double GlareProb, double EdgesProb, double InvalidDepthProb,
    double BorderIfSpoof, double BorderIfLive,
    double Roll = 0, double Light = 0);

/// <summary>One rendered face: channel-first floats in [0, 1] (depth as the 16-bit sensor would store it),
/// null for a missing modality, and the ground-truth cues actually rendered.</summary>
public sealed record RenderedSample(string Id, string Domain, string Leaf, IReadOnlyList<string> Label, int Size,
    float[] Rgb, float[]? Depth, float[]? Ir, IReadOnlyList<string> Cues, bool Border);

/// <summary>The embedded synthetic multimodal face world: live faces and the attack leaves of
/// data/taxonomy.json rendered in RGB, depth and IR, with per-modality cues, under four sensor domains
/// (C, P, S, W) that differ in optics, noise, colour, depth/IR sensors, attack mix and a shortcut border
/// that is spoof-correlated in C and P, anti-correlated in S and uncorrelated in W. Deterministic per seed.</summary>
public static partial class SyntheticWorld
{
    public const string Live = TaxonomyModule.LiveName;
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
            File.WriteAllBytes(depth = P("depth"), PngWriter.EncodeGray16(DepthWords(r.Depth), s, s));
        }
        if (r.Ir != null) File.WriteAllBytes(ir = P("ir"), PngWriter.EncodeGray(PngWriter.ToBytes(r.Ir), s, s));
        return new SampleRecord(r.Id, P("rgb"), depth, ir, r.Label, r.Leaf == Live ? "" : r.Leaf, r.Domain, r.Cues, source);
    }

    /// <summary>Depth as the 16-bit words of its PNG file.</summary>
    public static ushort[] DepthWords(float[] depth)
    {
        var u = new ushort[depth.Length];
        for (int k = 0; k < u.Length; k++) u[k] = (ushort)Math.Clamp((int)MathF.Round(depth[k] * 65535f), 0, 65535);
        return u;
    }

    /// <summary>A rendered sample as the model sees it after <see cref="Write"/> and <see cref="ImageLoader.Load"/>:
    /// RGB and IR quantised to 8 bits, depth to 16 bits, each plane resized to <paramref name="size"/> (no files).</summary>
    public static FaceTensors ToFace(RenderedSample r, int size)
    {
        int s = r.Size, n = s * s;
        float[] Plane(float[] src, int offset, bool sixteen)
        {
            var p = new float[n];
            for (int k = 0; k < n; k++)
                p[k] = sixteen ? Math.Clamp((int)MathF.Round(src[offset + k] * 65535f), 0, 65535) / 65535f
                    : Math.Clamp((int)MathF.Round(src[offset + k] * 255f), 0, 255) / 255f;
            return ImageLoader.Resize(p, s, s, size, size);
        }
        var rgb = new float[3 * size * size];
        for (int ch = 0; ch < 3; ch++) Array.Copy(Plane(r.Rgb, ch * n, false), 0, rgb, ch * size * size, size * size);
        return new FaceTensors(size, rgb, r.Depth == null ? null : Plane(r.Depth, 0, true), r.Ir == null ? null : Plane(r.Ir, 0, false));
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
}
