using PaFas.Host.Model;
using PaFas.Host.Inference;

namespace PaFas.Host.IO;

/// <summary>What a command reads, as far as its outputs are concerned.</summary>
public enum InputKind
{
    /// <summary>A file the command reads (a manifest, chains, scores, an image).</summary>
    File,
    /// <summary>A model (run or checkpoint) folder the command reads.</summary>
    Model,
    /// <summary>A run or checkpoint folder a training run starts from (<c>grpo --init</c>).</summary>
    Start,
}

/// <summary>One input of a command: the option that named it, the path, and what it is.</summary>
public readonly record struct GuardedInput(string Option, string Path, InputKind Kind)
{
    public static GuardedInput File(string option, string path) => new(option, path, InputKind.File);
    public static GuardedInput Model(string option, string path) => new(option, path, InputKind.Model);
    public static GuardedInput Start(string option, string path) => new(option, path, InputKind.Start);
}

/// <summary>The one rule for every command that writes, checked before any work (one call per command):
/// <list type="bullet">
/// <item>an output that is, or resolves to (through symbolic links and <c>..</c>), one of the command's input files
/// is refused; a file output inside a model's checkpoint folder is refused;</item>
/// <item>an output folder that is, or contains, a model folder the command reads or the folder it starts from is
/// refused (<c>eval --model RUN --out RUN</c> would replace the threshold predict reads; <c>grpo --init RUN --out RUN
/// --force</c> would delete the checkpoint it starts from); an input file at one of the names the command writes into
/// its output folder (or anywhere in it, when the command does not say which names) is refused;</item>
/// <item>the output must be writable: a folder given where a file is expected (or the reverse) is refused, and the
/// deepest existing folder on the output's path must accept a new file.</item>
/// </list>
/// Conflicts are <see cref="UsageException"/>s (exit 2) naming both paths; an output that cannot be written is an
/// <see cref="IOException"/> (exit 1). Hard links are not detected (only the path is compared).</summary>
public static class OutputGuard
{
    /// <summary>Guards an output file <paramref name="path"/> (given by <paramref name="option"/>). Empty inputs are ignored.</summary>
    public static void File(string option, string path, params GuardedInput[] inputs)
    {
        var o = Real(path);
        if (Directory.Exists(o)) throw new UsageException($"{option} {path} is a folder; give a file path");
        foreach (var i in Given(inputs))
        {
            if (i.Kind == InputKind.File)
            {
                if (Same(o, Real(i.Path))) throw Conflict(option, path, i, "the same file");
                continue;
            }
            var ckpt = Checkpoint(i.Path);
            if (ckpt != null && Inside(o, ckpt)) throw Conflict(option, path, i, $"the output lies in its checkpoint folder {ckpt}");
        }
        CheckWritable(option, path, o, folder: false);
    }

    /// <summary>Guards an output folder <paramref name="path"/>. <paramref name="writes"/>: the names the command
    /// writes (or deletes) directly in it; null = anything in it.</summary>
    public static void Folder(string option, string path, IReadOnlyCollection<string>? writes, params GuardedInput[] inputs)
    {
        var o = Real(path);
        if (System.IO.File.Exists(o)) throw new UsageException($"{option} {path} is a file; give a folder");
        foreach (var i in Given(inputs))
        {
            if (i.Kind == InputKind.File)
            {
                var f = Real(i.Path);
                bool hit = Same(o, f) || (writes == null ? Inside(f, o) : writes.Any(w => Same(f, Join(o, w)) || Inside(f, Join(o, w))));
                if (hit) throw Conflict(option, path, i, Same(o, f) ? "the same path" : "it lies in the output folder where the command writes");
                continue;
            }
            foreach (var m in new[] { Real(i.Path), Checkpoint(i.Path) }.OfType<string>())
                if (Same(o, m) || Inside(m, o)) throw Conflict(option, path, i, Same(o, m) ? "the same folder" : $"the output folder holds {m}");
        }
        CheckWritable(option, path, o, folder: true);
    }

    private static IEnumerable<GuardedInput> Given(GuardedInput[] inputs) => inputs.Where(i => !string.IsNullOrWhiteSpace(i.Path));

    private static UsageException Conflict(string option, string path, GuardedInput i, string how)
    {
        var what = i.Kind switch
        {
            InputKind.Model => "the model folder",
            InputKind.Start => "the folder the run starts from",
            _ => "the input",
        };
        return new UsageException(
            $"{option} {path} would overwrite {what} {i.Option} {i.Path} ({how}); choose another output (nothing was done)");
    }

    /// <summary>The checkpoint folder a model input resolves to (resolved path); null when it does not resolve
    /// (the command then fails on it with its own message).</summary>
    private static string? Checkpoint(string path)
    {
        try { return Real(CheckpointFolder.Resolve(path)); }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException) { return null; }
    }

    /// <summary>Creating a file must work in the deepest existing folder of the output's path (the output folder
    /// itself when it exists); a file on the way is an error.</summary>
    private static void CheckWritable(string option, string path, string real, bool folder)
    {
        var dir = folder ? real : Path.GetDirectoryName(real)!;
        while (!Directory.Exists(dir))
        {
            if (System.IO.File.Exists(dir)) throw new UsageException($"{option} {path}: {dir} is a file, not a folder");
            var up = Path.GetDirectoryName(dir);
            if (up == null) break;
            dir = up;
        }
        var probe = Path.Combine(dir, $".pafas-write-check.tmp-{Environment.ProcessId}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{option} {path}: cannot write in {dir} ({e.Message})", e);
        }
        finally
        {
            try { System.IO.File.Delete(probe); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>The absolute path with <c>.</c>, <c>..</c> and every symbolic link on the way resolved (missing
    /// components are kept as they are).</summary>
    public static string Real(string path) => Real(path, 0);

    private static string Real(string path, int depth)
    {
        var full = Path.GetFullPath(path);
        var parts = full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var cur = Path.GetPathRoot(full) ?? "/";
        for (int k = 0; k < parts.Length; k++)
        {
            var next = Path.Combine(cur, parts[k]);
            var target = depth < 40 ? new FileInfo(next).LinkTarget : null; // 40 links deep: a cycle; stop resolving
            if (target != null) next = Real(Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(cur, target)), depth + 1);
            cur = next;
        }
        return Path.TrimEndingDirectorySeparator(cur);
    }

    private static string Join(string dir, string name) => Path.TrimEndingDirectorySeparator(Path.Combine(dir, name));

    private static bool Same(string a, string b) => string.Equals(a, b, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>True when <paramref name="inner"/> lies strictly below <paramref name="outer"/>.</summary>
    private static bool Inside(string inner, string outer)
    {
        var prefix = outer.EndsWith(Path.DirectorySeparatorChar) ? outer : outer + Path.DirectorySeparatorChar;
        return inner.StartsWith(prefix, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }
}
