namespace PaFas.Host.Training;

/// <summary>The shape of the learning rate over training.</summary>
public enum ScheduleKind
{
    /// <summary>Linear warm-up, then the base rate (the paper's recipe: constant).</summary>
    Constant,
    /// <summary>Linear warm-up, then a half cosine from the base rate down to the floor.</summary>
    Cosine,
    /// <summary>Linear warm-up, then a straight line from the base rate down to the floor.</summary>
    Linear,
}

/// <summary>Learning-rate schedules: a pure function of the step, so a resumed run gets the same rates.</summary>
public static class LrSchedule
{
    /// <summary>The learning rate of optimiser step <paramref name="step"/> (0-based) out of
    /// <paramref name="totalSteps"/>: during the first <paramref name="warmup"/> steps it rises linearly
    /// as baseLr * (step + 1) / warmup; afterwards constant, cosine or linear decay towards
    /// baseLr * <paramref name="floorFraction"/>, reached at the last step.</summary>
    public static double At(ScheduleKind kind, double baseLr, int step, int totalSteps, int warmup, double floorFraction = 0.0)
    {
        if (baseLr < 0) throw new ArgumentOutOfRangeException(nameof(baseLr), "learning rate must be >= 0");
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step));
        if (floorFraction < 0 || floorFraction > 1) throw new ArgumentOutOfRangeException(nameof(floorFraction), "must be in [0, 1]");
        warmup = Math.Max(0, warmup);
        if (step < warmup) return baseLr * (step + 1) / warmup;
        if (kind == ScheduleKind.Constant) return baseLr;
        int decaySteps = Math.Max(1, totalSteps - warmup - 1);
        double progress = Math.Clamp((double)(step - warmup) / decaySteps, 0.0, 1.0);
        double floor = baseLr * floorFraction;
        double shape = kind == ScheduleKind.Cosine ? 0.5 * (1.0 + Math.Cos(Math.PI * progress)) : 1.0 - progress;
        return floor + (baseLr - floor) * shape;
    }
}

/// <summary>Seeds derived from (run seed, step, stream) so every step's randomness (batch choice, sampling,
/// dropout) depends only on the step: a resumed run draws exactly what an uninterrupted one would.</summary>
public static class StepSeed
{
    /// <summary>Streams: independent random sources within one step.</summary>
    public const int Batch = 1, Torch = 2, Generation = 3, Validation = 4, Init = 5, Task = 6;

    /// <summary>A non-negative 31-bit seed from SplitMix64 over the three inputs.</summary>
    public static int Derive(int seed, long step, int stream)
    {
        unchecked
        {
            ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)step * 0xBF58476D1CE4E5B9UL ^ (ulong)(uint)stream * 0x94D049BB133111EBUL;
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(z & 0x7fffffffUL);
        }
    }

    /// <summary>A fresh <see cref="Random"/> for (seed, step, stream).</summary>
    public static Random Rng(int seed, long step, int stream) => new(Derive(seed, step, stream));
}
