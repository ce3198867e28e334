namespace PaFas.Host.Data;

/// <summary>The synthetic world's random source and plane operations (noise fields, discs, blur).</summary>
public static partial class SyntheticWorld
{
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
