using System.Globalization;

namespace PaFas.Host.Data;

/// <summary>A closed interval [Lo, Hi]; <see cref="Log"/> draws log-uniformly (for scale-like values).</summary>
public readonly record struct ValueRange(double Lo, double Hi, bool Log = false)
{
    public double Draw(Random rng) => Log
        ? Math.Exp(Math.Log(Lo) + (Math.Log(Hi) - Math.Log(Lo)) * rng.NextDouble())
        : Lo + (Hi - Lo) * rng.NextDouble();

    public bool Contains(double v) => v >= Lo - 1e-12 && v <= Hi + 1e-12;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{Lo:G4}, {Hi:G4}]{(Log ? " log-uniform" : "")}");
}

/// <summary>The randomized sensor settings of the pretraining stream (<c>pafas pretrain</c>): every face is rendered
/// by a camera drawn afresh from these ranges. They were set from what cheap RGB-D-IR sensors plausibly do (a few
/// pixels of blur or none, 0-5% noise, +-20% colour cast per channel, 4- to 12-bit depth, IR gain +-40%, a few
/// degrees of head roll, uneven light), not from the four protocol domains. <see cref="Outside"/> says which
/// settings of a domain fall outside them (README: "What the pretraining stream covers").</summary>
public sealed record SensorRanges
{
    /// <summary>Side of the rendered image in pixels (resized to the model's image size afterwards).</summary>
    public ValueRange Resolution { get; init; } = new(40, 96);
    public ValueRange Blur { get; init; } = new(0.2, 1.4);
    public ValueRange Noise { get; init; } = new(0.0, 0.05);
    /// <summary>Per-channel colour gain (each channel drawn on its own).</summary>
    public ValueRange Cast { get; init; } = new(0.8, 1.2);
    public ValueRange BrightLo { get; init; } = new(0.55, 0.95);
    /// <summary>BrightHi = BrightLo + this.</summary>
    public ValueRange BrightSpan { get; init; } = new(0.05, 0.35);
    /// <summary>Per-channel background level.</summary>
    public ValueRange Background { get; init; } = new(0.2, 0.75);
    public ValueRange DepthLevels { get; init; } = new(16, 4096, Log: true);
    public ValueRange DepthScale { get; init; } = new(0.6, 1.3);
    public ValueRange DepthNoise { get; init; } = new(0.001, 0.01);
    public ValueRange DepthHoleBlobs { get; init; } = new(0, 4);
    public ValueRange IrGain { get; init; } = new(0.6, 1.4);
    public ValueRange IrNoise { get; init; } = new(0.005, 0.05);
    public ValueRange PupilStrength { get; init; } = new(0.5, 1.0);
    public ValueRange MissingDepth { get; init; } = new(0, 0.15);
    public ValueRange MissingIr { get; init; } = new(0, 0.15);
    public ValueRange Jitter { get; init; } = new(0, 0.03);
    public ValueRange FaceScaleSpread { get; init; } = new(0, 0.1);
    /// <summary>Largest in-plane head rotation, radians (0.3 = 17 degrees).</summary>
    public ValueRange Roll { get; init; } = new(0, 0.3);
    public ValueRange Light { get; init; } = new(0, 0.3);
    /// <summary>Probabilities that a presentation shows its cue (natural skin, halftone, moire, glare, mask edges,
    /// invalid replay depth).</summary>
    public ValueRange CueVisibility { get; init; } = new(0.6, 1.0);
    public ValueRange GlareProb { get; init; } = new(0.3, 0.8);
    public ValueRange InvalidDepthProb { get; init; } = new(0.2, 0.7);
    /// <summary>Probability of the coloured border, the same for every presentation (so it predicts nothing).</summary>
    public ValueRange Border { get; init; } = new(0, 1);
    /// <summary>Share of live faces in the stream; the rest are the attack leaves, uniformly.</summary>
    public double LiveShare { get; init; } = 0.3;

    public static SensorRanges Default { get; } = new();

    /// <summary>One camera drawn from the ranges, as a domain of the world's renderer (every attack).</summary>
    public DomainSpec Draw(Random rng)
    {
        double[] Three(ValueRange s) => new[] { s.Draw(rng), s.Draw(rng), s.Draw(rng) };
        double lo = BrightLo.Draw(rng), border = Border.Draw(rng);
        return new DomainSpec("R", "randomized pretraining sensor",
            Blur: Blur.Draw(rng), Noise: Noise.Draw(rng), Cast: Three(Cast), BrightLo: lo, BrightHi: lo + BrightSpan.Draw(rng),
            Background: Three(Background),
            DepthLevels: (int)Math.Round(DepthLevels.Draw(rng)), DepthScale: DepthScale.Draw(rng), DepthNoise: DepthNoise.Draw(rng),
            DepthHoleBlobs: DepthHoleBlobs.Draw(rng), IrGain: IrGain.Draw(rng), IrNoise: IrNoise.Draw(rng), PupilStrength: PupilStrength.Draw(rng),
            MissingDepth: MissingDepth.Draw(rng), MissingIr: MissingIr.Draw(rng), Jitter: Jitter.Draw(rng), FaceScaleSpread: FaceScaleSpread.Draw(rng),
            Attacks: SyntheticWorld.AllAttacks,
            NaturalProb: CueVisibility.Draw(rng), HalftoneProb: CueVisibility.Draw(rng), MoireProb: CueVisibility.Draw(rng),
            GlareProb: GlareProb.Draw(rng), EdgesProb: CueVisibility.Draw(rng), InvalidDepthProb: InvalidDepthProb.Draw(rng),
            BorderIfSpoof: border, BorderIfLive: border, Roll: Roll.Draw(rng), Light: Light.Draw(rng));
    }

    /// <summary>The leaf of a stream face: live with <see cref="LiveShare"/>, else an attack leaf uniformly.</summary>
    public string DrawLeaf(Random rng) =>
        rng.NextDouble() < LiveShare ? SyntheticWorld.Live : SyntheticWorld.AllAttacks[rng.Next(SyntheticWorld.AllAttacks.Length)];

    /// <summary>Every range by name (for reports and world-style JSON).</summary>
    public IReadOnlyList<(string Name, ValueRange Range)> Named() => new (string, ValueRange)[]
    {
        ("resolution", Resolution), ("blur", Blur), ("noise", Noise), ("cast", Cast), ("bright_lo", BrightLo), ("bright_span", BrightSpan),
        ("background", Background), ("depth_levels", DepthLevels), ("depth_scale", DepthScale), ("depth_noise", DepthNoise),
        ("depth_hole_blobs", DepthHoleBlobs), ("ir_gain", IrGain), ("ir_noise", IrNoise), ("pupil_strength", PupilStrength),
        ("missing_depth", MissingDepth), ("missing_ir", MissingIr), ("jitter", Jitter), ("face_scale_spread", FaceScaleSpread),
        ("roll", Roll), ("light", Light), ("cue_visibility", CueVisibility), ("glare_prob", GlareProb),
        ("invalid_depth_prob", InvalidDepthProb), ("border", Border),
    };

    /// <summary>The settings of <paramref name="d"/> (rendered at <paramref name="size"/> px) that fall outside
    /// the ranges, as "name value (range)"; empty when the stream covers the domain's sensor. The border's
    /// correlation with the presentation (the shortcut) is reported when the domain has one: the stream never does.</summary>
    public IReadOnlyList<string> Outside(DomainSpec d, int size)
    {
        var r = new List<string>();
        void Check(string name, ValueRange s, params double[] values)
        {
            foreach (var v in values)
                if (!s.Contains(v)) r.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {v:G4} (range {s})"));
        }
        Check("resolution", Resolution, size);
        Check("blur", Blur, d.Blur); Check("noise", Noise, d.Noise); Check("cast", Cast, d.Cast);
        Check("bright_lo", BrightLo, d.BrightLo); Check("bright_span", BrightSpan, d.BrightHi - d.BrightLo);
        Check("background", Background, d.Background);
        Check("depth_levels", DepthLevels, d.DepthLevels); Check("depth_scale", DepthScale, d.DepthScale);
        Check("depth_noise", DepthNoise, d.DepthNoise); Check("depth_hole_blobs", DepthHoleBlobs, d.DepthHoleBlobs);
        Check("ir_gain", IrGain, d.IrGain); Check("ir_noise", IrNoise, d.IrNoise); Check("pupil_strength", PupilStrength, d.PupilStrength);
        Check("missing_depth", MissingDepth, d.MissingDepth); Check("missing_ir", MissingIr, d.MissingIr);
        Check("jitter", Jitter, d.Jitter); Check("face_scale_spread", FaceScaleSpread, d.FaceScaleSpread);
        Check("roll", Roll, d.Roll); Check("light", Light, d.Light);
        Check("cue_visibility", CueVisibility, d.NaturalProb, d.HalftoneProb, d.MoireProb, d.EdgesProb);
        Check("glare_prob", GlareProb, d.GlareProb); Check("invalid_depth_prob", InvalidDepthProb, d.InvalidDepthProb);
        Check("border", Border, d.BorderIfSpoof, d.BorderIfLive);
        if (Math.Abs(d.BorderIfSpoof - d.BorderIfLive) > 1e-12)
            r.Add(string.Create(CultureInfo.InvariantCulture,
                $"border correlated with the presentation (P(border|spoof) {d.BorderIfSpoof:G3}, P(border|live) {d.BorderIfLive:G3}; the stream's is uncorrelated)"));
        return r;
    }
}
