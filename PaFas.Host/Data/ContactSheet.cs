using PaFas.Host.Model;

namespace PaFas.Host.Data;

/// <summary>A PNG contact sheet of annotated faces for a person to check: one row per face with its RGB, depth
/// (stretched over its valid readings, so near = bright or dark both show; no reading = dark blue) and IR images,
/// then its class, id and cues. With ground truth, a cue both agree on is green, one only the annotator found is
/// red, one it missed is yellow with "MISSED"; without, a cue the class should not show is red.</summary>
public static class ContactSheet
{
    public const int Tile = 96, TextWidth = 300, Gap = 4;

    /// <summary>Picks up to <paramref name="perClass"/> samples of each class (live first), taking the domains in
    /// turn, in manifest order within each.</summary>
    public static List<int> Pick(IReadOnlyList<SampleRecord> samples, int perClass) =>
        Enumerable.Range(0, samples.Count).GroupBy(i => AnnotationReports.ClassOf(samples[i]))
            .OrderBy(g => g.Key == SyntheticWorld.Live ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g => g.GroupBy(i => samples[i].Domain).SelectMany(d => d.Select((i, k) => (i, k, d.Key)))
                .OrderBy(t => t.k).ThenBy(t => t.Key, StringComparer.Ordinal).Take(perClass).Select(t => t.i))
            .ToList();

    /// <summary>The sheet as PNG bytes.</summary>
    public static byte[] Render(IReadOnlyList<(SampleRecord Sample, FaceTensors Face, IReadOnlyList<string> Cues)> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("a contact sheet needs at least one face");
        int w = 3 * (Tile + Gap) + TextWidth, h = rows.Count * (Tile + Gap) + Gap;
        var img = new byte[3 * w * h];
        Array.Fill(img, (byte)24);
        for (int r = 0; r < rows.Count; r++)
        {
            var (s, f, cues) = rows[r];
            int y0 = Gap + r * (Tile + Gap);
            Blit(img, w, Gap, y0, f.Size, f.Rgb, 3, null);
            Blit(img, w, Gap + (Tile + Gap), y0, f.Size, f.Depth, 1, Stretch);
            Blit(img, w, Gap + 2 * (Tile + Gap), y0, f.Size, f.Ir, 1, null);
            Text(img, w, h, 3 * (Tile + Gap) + Gap, y0, s, cues);
        }
        return PngWriter.EncodeRgb(img, w, h);
    }

    private static void Text(byte[] img, int w, int h, int x0, int y0, SampleRecord s, IReadOnlyList<string> cues)
    {
        (byte, byte, byte) White = (235, 235, 235), Green = (90, 220, 90), Red = (240, 80, 70), Yellow = (240, 210, 60), Grey = (150, 150, 150);
        var lines = new List<(string Text, (byte, byte, byte) Colour)> { (AnnotationReports.ClassOf(s), White), ($"{s.Domain} {s.Id}", Grey) };
        if (s.Cues != null)
        {
            var truth = s.Cues.ToHashSet(StringComparer.Ordinal);
            lines.AddRange(cues.Select(c => (c, truth.Contains(c) ? Green : Red)));
            lines.AddRange(s.Cues.Where(c => !cues.Contains(c)).Select(c => (c + " MISSED", Yellow)));
        }
        else
        {
            var (_, not) = CueCalibration.Expected(AnnotationReports.ClassOf(s));
            lines.AddRange(cues.Select(c => (c, not.Contains(c) ? Red : White)));
        }
        int max = Tile / 12;
        for (int i = 0; i < Math.Min(max, lines.Count); i++)
            PixelFont.Draw(img, w, h, x0, y0 + 2 + 12 * i, Fit(i == max - 1 && lines.Count > max ? "..." : lines[i].Text), lines[i].Colour);
    }

    private static string Fit(string t) => t.Length <= TextWidth / 8 ? t : t[..(TextWidth / 8 - 1)] + ".";

    /// <summary>Depth for display: stretched between the 2nd and 98th percentiles of the valid readings in the
    /// central square (the face), to 40..255; no reading dark blue.</summary>
    private static float[]? Stretch(float[]? d)
    {
        if (d == null) return null;
        int S = (int)Math.Round(Math.Sqrt(d.Length));
        var centre = new List<float>();
        for (int y = S / 4; y < 3 * S / 4; y++)
            for (int x = S / 4; x < 3 * S / 4; x++)
                if (d[y * S + x] > 0) centre.Add(d[y * S + x]);
        if (centre.Count == 0) return d.Select(v => v > 0 ? 0.5f : -1f).ToArray();
        centre.Sort();
        float lo = centre[(int)(0.02 * (centre.Count - 1))], hi = centre[(int)(0.98 * (centre.Count - 1))], span = Math.Max(hi - lo, 1e-6f);
        return d.Select(v => v > 0 ? 0.16f + 0.84f * Math.Clamp((v - lo) / span, 0, 1) : -1f).ToArray();
    }

    /// <summary>Nearest-neighbour copy of a channel-first image into a Tile x Tile square; a missing modality is a
    /// crossed-out grey square, a negative value dark blue.</summary>
    private static void Blit(byte[] img, int w, int x0, int y0, int size, float[]? src, int channels, Func<float[]?, float[]?>? map)
    {
        var p = map == null ? src : map(src);
        int n = size * size;
        for (int y = 0; y < Tile; y++)
            for (int x = 0; x < Tile; x++)
            {
                int k = 3 * ((y0 + y) * w + x0 + x);
                if (p == null)
                {
                    byte g = (byte)(x == y || x == Tile - 1 - y ? 120 : 50);
                    img[k] = img[k + 1] = img[k + 2] = g;
                    continue;
                }
                int sx = x * size / Tile, sy = y * size / Tile, i = sy * size + sx;
                for (int c = 0; c < 3; c++)
                {
                    float v = p[(channels == 3 ? c * n : 0) + i];
                    img[k + c] = v < 0 ? (byte)(c == 2 ? 110 : 10) : (byte)Math.Clamp((int)MathF.Round(v * 255f), 0, 255);
                }
            }
    }
}
