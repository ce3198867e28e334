namespace PaFas.Host.IO;

/// <summary>Atomic writes: a temp file (NAME.tmp-PID) in the same folder, then a rename, so a crash never leaves a
/// half file; when the write or the rename fails, the temp file is removed before the error goes on.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, tmp => File.WriteAllBytes(tmp, bytes));

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, which is given the temp file's path.</summary>
    public static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"{path} is a folder; cannot write a file there");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = TempName(full);
        try
        {
            write(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>The temp file of <paramref name="full"/> in this process.</summary>
    public static string TempName(string full) => full + ".tmp-" + Environment.ProcessId;
}
