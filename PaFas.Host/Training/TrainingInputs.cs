using PaFas.Host.Data;

namespace PaFas.Host.Training;

/// <summary>Checks every image a training run will read before the run starts (before its folder is opened, so a
/// bad file costs neither the previous run's files under --force nor any training time): each distinct sample of the
/// chains or manifest must have an image, and each image must exist, be a sound PNG/JPEG and pass the slot rules
/// that need only headers, as <c>pafas eval</c> checks its splits. Errors name the file:line of the sample and the
/// image. (Rules that need the pixels are checked when the faces are decoded, still before the first step.)</summary>
public static class TrainingInputs
{
    /// <summary>Checks <paramref name="file"/> (chains JSONL or a manifest; "" = nothing to check), keeping only the
    /// samples of <paramref name="domains"/> when any are given.</summary>
    public static void Check(string file, string root, IReadOnlyCollection<string>? domains = null)
    {
        if (string.IsNullOrEmpty(file)) return;
        var keep = (domains ?? Array.Empty<string>()).Select(d => d.Trim()).Where(d => d != "").ToHashSet(StringComparer.OrdinalIgnoreCase);
        bool Kept(SampleRecord s) => keep.Count == 0 || keep.Contains(s.Domain);
        if (!ChainFile.IsChainFile(file))
        {
            Manifest.Load(file, new ManifestOptions { Root = root }).Where(Kept).ToList().ForEach(CheckSample);
            return;
        }
        foreach (var s in ChainFile.Load(file, root).Select(c => c.ToSample()).Where(Kept).GroupBy(s => s.Id).Select(g => g.First()))
            CheckSample(s);
    }

    private static void CheckSample(SampleRecord s)
    {
        if (s.Rgb == null && s.Depth == null && s.Ir == null)
            throw new InvalidDataException($"{s.Source}: sample '{s.Id}' has no image of any modality");
        try { ImageLoader.CheckHeaders(s.Id, s.Rgb, s.Depth, s.Ir); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{s.Source}: {e.Message}", e);
        }
    }
}
