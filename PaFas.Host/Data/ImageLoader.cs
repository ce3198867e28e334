using PaFas.Host.Model;
using System.Globalization;
using PaFas.Core;

namespace PaFas.Host.Data;

/// <summary>Loads a sample's images into <see cref="FaceTensors"/>: decode, resize (area filter when
/// shrinking, bilinear when enlarging) to size x size, channel-first floats in [0, 1]. RGB has 3 channels,
/// depth and IR 1 (16-bit files are scaled by 65535, 8-bit by 255). A modality without a path is null, never a
/// black image.
/// <para>Slot rules (errors name the sample's source, e.g. the manifest's file:line, and the image):
/// the RGB slot needs a colour file (3 or 4 channels; a 1- or 2-channel gray file is an error, since it is most
/// often a depth or IR file in the wrong column); a depth or IR slot takes a gray file, or a colour file whose
/// channels are equal up to <see cref="MaxGraySpread"/> (many data sets store gray maps as RGB JPEGs), converted
/// to gray; a clearly coloured file there is an error. The modalities of one sample may have different
/// resolutions (each is resized on its own), but their aspect ratios (width / height) may differ by at most
/// <see cref="MaxAspectMismatch"/>; beyond that they are taken to be misregistered.</para></summary>
public static class ImageLoader
{
    /// <summary>Largest mean channel spread (mean over pixels of max - min of R, G, B, in [0, 1]) of a colour
    /// file accepted in a depth or IR slot: 10 of 255 levels. A gray picture stored as RGB (also as JPEG, whose
    /// chroma of gray input stays neutral) has a spread near 0; a face photo has several tens of levels.</summary>
    public const float MaxGraySpread = 10f / 255f;

    /// <summary>Largest accepted relative difference of the aspect ratios (width / height) of two modalities of
    /// one sample: 10%. 640x480 with 320x240 or 641x480 is fine; 4:3 with 16:9 (33%) or a square crop with
    /// 4:3 is not.</summary>
    public const double MaxAspectMismatch = 0.10;

    /// <summary>Decodes and resizes the sample's images; errors name the sample's source and the file.</summary>
    public static FaceTensors Load(SampleRecord s, int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size));
        if (s.Rgb == null && s.Depth == null && s.Ir == null)
            throw new InvalidDataException($"{s.Source}: sample '{s.Id}' has no image of any modality");
        var rgb = Decode(s, Modality.Rgb);
        var depth = Decode(s, Modality.Depth);
        var ir = Decode(s, Modality.Ir);
        WithSource(s, () => CheckShapes(s.Id, new[] { (Modality.Rgb, s.Rgb, rgb), (Modality.Depth, s.Depth, depth), (Modality.Ir, s.Ir, ir) }
            .Where(x => x.Item3 != null).Select(x => (x.Item1, x.Item2!, x.Item3!.Width, x.Item3.Height))));
        return new FaceTensors(size, Chw(rgb, size), Chw(depth, size), Chw(ir, size));
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

    /// <summary>The slot rules that need only the files' headers (every file exists and is a sound PNG/JPEG,
    /// the RGB file has colour channels, the aspect ratios agree), without decoding pixels. Throws
    /// <see cref="InvalidDataException"/> or <see cref="FileNotFoundException"/> naming the file(s).</summary>
    public static void CheckHeaders(string id, string? rgb, string? depth, string? ir)
    {
        var shapes = new List<(Modality, string, int, int)>();
        foreach (var (m, path) in new[] { (Modality.Rgb, rgb), (Modality.Depth, depth), (Modality.Ir, ir) })
        {
            if (path == null) continue;
            var h = ImageDecoding.CheckFile(path);
            CheckChannels(m, path, h.Channels, null);
            shapes.Add((m, path, h.Width, h.Height));
        }
        CheckShapes(id, shapes);
    }

    private static DecodedImage? Decode(SampleRecord s, Modality m)
    {
        var path = s.PathOf(m);
        if (path == null) return null;
        return WithSource(s, () =>
        {
            var img = ImageDecoding.Decode(path, m.IsRgb ? 3 : 1);
            CheckChannels(m, path, img.SourceChannels, img.ChannelSpread);
            return img;
        });
    }

    /// <summary>Runs f, prefixing the sample's source to the message of a file error.</summary>
    private static T WithSource<T>(SampleRecord s, Func<T> f)
    {
        try { return f(); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"{s.Source}: {e.Message}", e.FileName, e); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{s.Source}: {e.Message}", e); }
    }

    private static void WithSource(SampleRecord s, Action f) => WithSource(s, () => { f(); return 0; });

    private static float[]? Chw(DecodedImage? img, int size) => img == null ? null : ToChw(img, size);

    private static string Pct(double x) => (100 * x).ToString("F0", CultureInfo.InvariantCulture);

    private static string Describe(int channels) => channels switch
    {
        1 => "1-channel (gray)", 2 => "2-channel (gray + alpha)", 3 => "3-channel (colour)", _ => $"{channels}-channel",
    };

    /// <summary>The channel rule of a slot; <paramref name="spread"/> is null when only the header was read.</summary>
    private static void CheckChannels(Modality m, string path, int sourceChannels, float? spread)
    {
        if (m.IsRgb)
        {
            if (sourceChannels < 3)
                throw new InvalidDataException($"{path}: the RGB slot holds a {Describe(sourceChannels)} image, but RGB needs a colour image. " +
                    "Are the columns swapped (a depth or IR file given as RGB)? If the data set really is grayscale, store its images with 3 channels.");
            return;
        }
        if (sourceChannels >= 3 && spread is float sp && sp > MaxGraySpread)
        {
            var name = ModalityModule.key(m);
            throw new InvalidDataException(
                $"{path}: the {name} slot holds a colour image (its R, G, B differ by {(sp * 255).ToString("F1", CultureInfo.InvariantCulture)} of 255 levels on average; " +
                $"a gray image stored as RGB differs by about 0, the limit is {MaxGraySpread * 255:F0}). Are the columns swapped (an RGB file given as {name})? " +
                $"If it is a tinted {name} image, convert it to grayscale first.");
        }
    }

    /// <summary>The aspect-ratio rule over the modalities of one sample (path, width, height each).</summary>
    private static void CheckShapes(string id, IEnumerable<(Modality M, string Path, int W, int H)> shapes)
    {
        var list = shapes.ToList();
        for (int i = 0; i < list.Count; i++)
            for (int j = i + 1; j < list.Count; j++)
            {
                var (a, b) = (list[i], list[j]);
                double ra = (double)a.W / a.H, rb = (double)b.W / b.H;
                double diff = Math.Max(ra, rb) / Math.Min(ra, rb) - 1;
                if (diff > MaxAspectMismatch + 1e-9)
                    throw new InvalidDataException(
                        $"sample '{id}': {ModalityModule.key(a.M)} {a.Path} is {a.W}x{a.H} but {ModalityModule.key(b.M)} {b.Path} is {b.W}x{b.H}; " +
                        $"their aspect ratios differ by {Pct(diff)}% (at most {Pct(MaxAspectMismatch)}% is accepted: different resolutions " +
                        "of one view are resized on their own, different shapes mean misregistered or mismatched files)");
            }
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
