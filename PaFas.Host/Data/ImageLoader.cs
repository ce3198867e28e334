using PaFas.Core;

namespace PaFas.Host.Data;

/// <summary>Loads a sample's images into <see cref="FaceTensors"/>: decode, resize (area filter when
/// shrinking, bilinear when enlarging) to size x size, channel-first floats in [0, 1]. RGB has 3 channels,
/// depth and IR 1 (16-bit depth is scaled by 65535). A modality without a path is null, never a black image.</summary>
public static class ImageLoader
{
    /// <summary>Decodes and resizes the sample's images; errors name the sample's source and the file.</summary>
    public static FaceTensors Load(SampleRecord s, int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size));
        if (s.Rgb == null && s.Depth == null && s.Ir == null)
            throw new InvalidDataException($"{s.Source}: sample '{s.Id}' has no image of any modality");
        return new FaceTensors(size, LoadOne(s, s.Rgb, 3, size), LoadOne(s, s.Depth, 1, size), LoadOne(s, s.Ir, 1, size));
    }

    /// <summary>Loads many samples in parallel (order kept). The first failure is rethrown as is.</summary>
    public static FaceTensors[] LoadBatch(IReadOnlyList<SampleRecord> samples, int size, int threads = 0)
    {
        var result = new FaceTensors[samples.Count];
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        try
        {
            Parallel.For(0, samples.Count, po, i => result[i] = Load(samples[i], size));
        }
        catch (AggregateException ae) when (ae.InnerExceptions.Count > 0)
        {
            var first = ae.Flatten().InnerExceptions[0];
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        }
        return result;
    }

    private static float[]? LoadOne(SampleRecord s, string? path, int channels, int size)
    {
        if (path == null) return null;
        DecodedImage img;
        try { img = ImageDecoding.Decode(path, channels); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"{s.Source}: {e.Message}", path, e); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{s.Source}: {e.Message}", e); }
        return ToChw(img, size);
    }

    /// <summary>Resizes a decoded image to size x size and returns channel-first floats.</summary>
    public static float[] ToChw(DecodedImage img, int size)
    {
        int n = size * size, c = img.Channels;
        var outp = new float[c * n];
        var plane = new float[img.Width * img.Height];
        for (int ch = 0; ch < c; ch++)
        {
            for (int i = 0; i < plane.Length; i++) plane[i] = img.Pixels[i * c + ch];
            var r = Resize(plane, img.Width, img.Height, size, size);
            Array.Copy(r, 0, outp, ch * n, n);
        }
        return outp;
    }

    /// <summary>Separable resize of one plane: triangle (bilinear) filter, widened to the scale factor when
    /// shrinking (an area-like average, no aliasing).</summary>
    public static float[] Resize(float[] src, int w, int h, int ow, int oh)
    {
        if (w == ow && h == oh) return (float[])src.Clone();
        var (ix, wx) = Weights(w, ow);
        var (iy, wy) = Weights(h, oh);
        var tmp = new float[ow * h];
        int kx = ix.GetLength(1), ky = iy.GetLength(1);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < ow; x++)
            {
                float acc = 0;
                for (int k = 0; k < kx; k++) acc += wx[x, k] * src[y * w + ix[x, k]];
                tmp[y * ow + x] = acc;
            }
        var dst = new float[ow * oh];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                float acc = 0;
                for (int k = 0; k < ky; k++) acc += wy[y, k] * tmp[iy[y, k] * ow + x];
                dst[y * ow + x] = Math.Clamp(acc, 0f, 1f);
            }
        return dst;
    }

    private static (int[,] Index, float[,] Weight) Weights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double support = Math.Max(1.0, scale); // triangle half-width in input pixels
        int taps = (int)Math.Ceiling(2 * support) + 1;
        var idx = new int[outSize, taps];
        var wts = new float[outSize, taps];
        for (int o = 0; o < outSize; o++)
        {
            double centre = (o + 0.5) * scale - 0.5;
            int first = (int)Math.Floor(centre - support) + 1;
            double sum = 0;
            var tmp = new double[taps];
            for (int k = 0; k < taps; k++)
            {
                double wgt = Math.Max(0, 1 - Math.Abs((first + k - centre) / support));
                tmp[k] = wgt; sum += wgt;
                idx[o, k] = Math.Clamp(first + k, 0, inSize - 1);
            }
            for (int k = 0; k < taps; k++) wts[o, k] = (float)(sum > 0 ? tmp[k] / sum : (k == 0 ? 1 : 0));
        }
        return (idx, wts);
    }
}
