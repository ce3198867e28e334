using System.Diagnostics;
using System.Text.Json;
using PaFas.Host.IO;

namespace PaFas.Host.Data;

/// <summary>How a sensor stores depth: bit depth, whether near is bright, and the distance window (mm) mapped
/// onto the code range; <see cref="Raw"/> stores millimetres as 16-bit codes (Kinect-style, so faces are dark and
/// their relief spans a few codes of 65535). 0 means "no reading" in every encoding.</summary>
public sealed record DepthEncoding(int Bits, bool NearBright, double NearMm, double FarMm, bool Raw = false)
{
    public int MaxCode => Bits == 16 ? 65535 : 255;

    /// <summary>The code of a distance (NaN = no reading -> 0); valid readings are at least 1.</summary>
    public int Encode(double mm)
    {
        if (double.IsNaN(mm)) return 0;
        double f = Raw ? mm / MaxCode : (mm - NearMm) / (FarMm - NearMm);
        if (NearBright && !Raw) f = 1 - f;
        return Math.Clamp((int)Math.Round(f * MaxCode), 1, MaxCode);
    }

    public override string ToString() => Raw ? $"{Bits}-bit raw millimetres (near = dark)" : $"{Bits}-bit, near = {(NearBright ? "bright" : "dark")}, {NearMm:F0}-{FarMm:F0} mm";
}

/// <summary>A sensor of the foreign renderer: crop, optics and noise of the colour camera, depth encoding and
/// noise, IR illuminator gain and noise, and the attack mix it was recorded with.</summary>
public sealed record ForeignSensor(
    string Name, string Description,
    double Blur, double Noise, double[] Cast, double Exposure, double CropShiftX, double CropShiftY, double FaceScale,
    DepthEncoding Depth, double DepthNoiseMm, double DepthBlur, double FaceDistanceMm, double WallDistanceMm,
    double IrGain, double IrOffset, double IrNoise, double IrBlur,
    double InvalidScreenProb, double SkinTextureProb, double HalftonePeriodPx, double MoirePeriodPx, double GlareProb, double SeamProb,
    string[] Attacks);

/// <summary>The foreign renderer's sensors and the writer of a foreign data set (<c>pafas synth --renderer foreign</c>).</summary>
public static class ForeignSensors
{
    private static readonly string[] Every = SyntheticWorld.AllAttacks;

    public static readonly IReadOnlyList<ForeignSensor> All = new[]
    {
        new ForeignSensor("kinect16", "16-bit raw millimetre depth (near = dark), warm soft colour camera, strong IR illuminator",
            Blur: 0.8, Noise: 0.015, Cast: new[] { 1.15, 1.0, 0.8 }, Exposure: 1.05, CropShiftX: 0.006, CropShiftY: -0.008, FaceScale: 1.0,
            Depth: new DepthEncoding(16, false, 0, 65535, Raw: true), DepthNoiseMm: 1.5, DepthBlur: 0.6, FaceDistanceMm: 650, WallDistanceMm: 1400,
            IrGain: 1.6, IrOffset: 0.02, IrNoise: 0.02, IrBlur: 0.5,
            InvalidScreenProb: 0.4, SkinTextureProb: 0.85, HalftonePeriodPx: 6.0, MoirePeriodPx: 9, GlareProb: 0.5, SeamProb: 0.8, Attacks: Every),
        new ForeignSensor("realsense8", "8-bit depth, near = bright over 300-1000 mm, cool sharp colour camera, weak IR",
            Blur: 0.35, Noise: 0.01, Cast: new[] { 0.88, 1.0, 1.18 }, Exposure: 0.95, CropShiftX: -0.008, CropShiftY: 0.006, FaceScale: 1.04,
            Depth: new DepthEncoding(8, true, 300, 1000), DepthNoiseMm: 2.0, DepthBlur: 0.4, FaceDistanceMm: 550, WallDistanceMm: 950,
            IrGain: 0.55, IrOffset: 0.0, IrNoise: 0.015, IrBlur: 0.3,
            InvalidScreenProb: 0.6, SkinTextureProb: 0.9, HalftonePeriodPx: 5.6, MoirePeriodPx: 11, GlareProb: 0.6, SeamProb: 0.7, Attacks: Every),
        new ForeignSensor("orbbec8", "8-bit depth, near = dark over 400-1600 mm, green-tinted blurry colour camera, noisy IR",
            Blur: 1.1, Noise: 0.025, Cast: new[] { 0.9, 1.12, 0.92 }, Exposure: 1.0, CropShiftX: 0.004, CropShiftY: 0.01, FaceScale: 0.96,
            Depth: new DepthEncoding(8, false, 400, 1600), DepthNoiseMm: 3.0, DepthBlur: 0.8, FaceDistanceMm: 700, WallDistanceMm: 1500,
            IrGain: 1.0, IrOffset: 0.05, IrNoise: 0.04, IrBlur: 0.8,
            InvalidScreenProb: 0.3, SkinTextureProb: 0.8, HalftonePeriodPx: 6.4, MoirePeriodPx: 10, GlareProb: 0.4, SeamProb: 0.75,
            Attacks: new[] { SyntheticWorld.Flat, SyntheticWorld.Wrapped, SyntheticWorld.Cutout, SyntheticWorld.Replay, SyntheticWorld.Rigid, SyntheticWorld.Silicone }),
        new ForeignSensor("tof16", "16-bit time-of-flight depth, near = bright over 200-2000 mm, magenta cast, very bright IR that clips",
            Blur: 0.6, Noise: 0.02, Cast: new[] { 1.08, 0.9, 1.08 }, Exposure: 1.1, CropShiftX: 0.0, CropShiftY: 0.0, FaceScale: 1.0,
            Depth: new DepthEncoding(16, true, 200, 2000), DepthNoiseMm: 1.0, DepthBlur: 0.5, FaceDistanceMm: 600, WallDistanceMm: 1100,
            IrGain: 1.9, IrOffset: 0.0, IrNoise: 0.02, IrBlur: 0.4,
            InvalidScreenProb: 0.7, SkinTextureProb: 0.85, HalftonePeriodPx: 5.8, MoirePeriodPx: 8, GlareProb: 0.5, SeamProb: 0.8, Attacks: Every),
    };

    /// <summary>A sensor by name (case-insensitive); throws naming the known ones.</summary>
    public static ForeignSensor ByName(string name) =>
        All.FirstOrDefault(s => s.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown foreign sensor '{name}' (known: {string.Join(", ", All.Select(s => s.Name))})");

    /// <summary>Renders <paramref name="perSensor"/> faces per sensor in memory, in parallel; order is by sensor then
    /// index; deterministic per seed.</summary>
    public static ForeignFace[] RenderAll(IReadOnlyList<ForeignSensor> sensors, int perSensor, int size, int seed, double liveFraction = 0.4, int threads = 0)
    {
        if (perSensor < 1) throw new ArgumentException("--per-domain must be at least 1");
        if (size < 16 || size > 1024) throw new ArgumentException("--size must be between 16 and 1024");
        var outp = new ForeignFace[sensors.Count * perSensor];
        Parallel.For(0, outp.Length, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount }, j =>
        {
            var s = sensors[j / perSensor];
            int i = j % perSensor;
            var leaf = LeafOf(s, i, liveFraction);
            outp[j] = ForeignRenderer.Render(s, leaf, size, SyntheticWorld.SampleSeed(seed ^ 0x5EED, s.Name, i), $"{s.Name}/{(leaf == SyntheticWorld.Live ? "real" : Slug(leaf))}/{i:D5}");
        });
        return outp;
    }

    /// <summary>Live for a liveFraction share, then the sensor's attacks in turn.</summary>
    private static string LeafOf(ForeignSensor s, int i, double liveFraction)
    {
        int lives(int j) => (int)Math.Floor(j * liveFraction + 1e-9);
        return lives(i + 1) > lives(i) ? SyntheticWorld.Live : s.Attacks[(i - lives(i + 1)) % s.Attacks.Length];
    }

    /// <summary>The class folder: the attack names public data sets use (<see cref="Manifest.DefaultAttackMap"/> reads them).</summary>
    private static string Slug(string leaf) => leaf switch
    {
        SyntheticWorld.Flat => "print", SyntheticWorld.Wrapped => "wrapped", SyntheticWorld.Cutout => "cutout", SyntheticWorld.Replay => "replay",
        SyntheticWorld.Rigid => "rigid", SyntheticWorld.Silicone => "silicone", SyntheticWorld.PaperMask => "paper_mask", _ => "glasses",
    };

    /// <summary>Writes <c>&lt;out&gt;/&lt;sensor&gt;/&lt;class&gt;/&lt;index&gt;_{rgb,depth,ir}.png</c>, <c>manifest.jsonl</c>
    /// (domain = sensor, ground-truth cues) and <c>sensors.json</c>.</summary>
    public static SynthResult Generate(string outDir, IReadOnlyList<ForeignSensor> sensors, int perSensor, int size, int seed, int threads = 0,
        double liveFraction = 0.4)
    {
        var sw = Stopwatch.StartNew();
        outDir = Path.GetFullPath(outDir);
        var faces = RenderAll(sensors, perSensor, size, seed, liveFraction, threads);
        var manifest = Path.Combine(outDir, "manifest.jsonl");
        var records = new SampleRecord[faces.Length];
        Parallel.For(0, faces.Length, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount }, j =>
            records[j] = Write(faces[j], outDir, $"{manifest}:{j + 1}"));
        Manifest.WriteJsonl(manifest, records);
        AtomicFile.WriteAllText(Path.Combine(outDir, "sensors.json"), JsonSerializer.Serialize(new
        {
            generator = "PaFas foreign renderer v1", seed, size, per_sensor = perSensor,
            sensors = sensors.Select(s => new { s.Name, s.Description, depth = s.Depth.ToString(), spec = s }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        return new SynthResult(manifest, faces.Length, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Writes one face's PNGs (depth at the sensor's bit depth) and returns its manifest record.</summary>
    public static SampleRecord Write(ForeignFace f, string outDir, string source)
    {
        int S = f.Size;
        var stem = Path.Combine(outDir, f.Id.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(stem)!);
        string rgb = stem + "_rgb.png", depth = stem + "_depth.png", ir = stem + "_ir.png";
        File.WriteAllBytes(rgb, PngWriter.EncodeRgb(PngWriter.ChwToHwcBytes(f.Rgb, S, S), S, S));
        if (f.DepthCodes.Length > 0 && f.Sensor.Depth.Bits == 16) File.WriteAllBytes(depth, PngWriter.EncodeGray16(f.DepthCodes.Select(c => (ushort)c).ToArray(), S, S));
        else File.WriteAllBytes(depth, PngWriter.EncodeGray(f.DepthCodes.Select(c => (byte)c).ToArray(), S, S));
        File.WriteAllBytes(ir, PngWriter.EncodeGray(PngWriter.ToBytes(f.Ir), S, S));
        return new SampleRecord(f.Id, rgb, depth, ir, f.Label, f.Leaf == SyntheticWorld.Live ? "" : f.Leaf, f.Sensor.Name, f.Cues, source);
    }
}
