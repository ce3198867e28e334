namespace PaFas.Host.Model;

/// <summary>Finds the checkpoint inside a run folder.</summary>
public static class CheckpointFolder
{
    /// <summary>Names tried inside a run folder, in order.</summary>
    public static readonly string[] Candidates = { "final", "best", "last" };

    /// <summary>A checkpoint folder holds config.json and a manifest; a run folder holds one of
    /// final/, best/ or last/. Throws with the folders tried when none is found.</summary>
    public static string Resolve(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("--model: no path given");
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: model folder not found");
        if (IsCheckpoint(path)) return Path.GetFullPath(path);
        foreach (var c in Candidates)
        {
            var d = Path.Combine(path, c);
            if (IsCheckpoint(d)) return Path.GetFullPath(d);
        }
        throw new InvalidDataException(
            $"{path}: no checkpoint here (looked for config.json in it and in {string.Join(", ", Candidates.Select(c => c + "/"))})");
    }

    public static bool IsCheckpoint(string dir) =>
        Directory.Exists(dir) && File.Exists(Path.Combine(dir, "config.json")) && File.Exists(Path.Combine(dir, "tokenizer.json"));
}
