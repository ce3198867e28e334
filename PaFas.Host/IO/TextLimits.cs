using System.Text;

namespace PaFas.Host.IO;

/// <summary>Bounded reading of the text inputs (manifests, chains, score and completion files): a line longer than
/// <see cref="MaxLineChars"/> or a file larger than <see cref="MaxFileBytes"/> is an error naming the file (and the
/// line), found while reading, so that a binary file, a device such as /dev/zero or a runaway file fails fast with
/// bounded memory instead of being read into memory whole.</summary>
public static class TextLimits
{
    /// <summary>1 MiB: a manifest line is a few hundred characters, a chain line a few thousand.</summary>
    public const int MaxLineChars = 1 << 20;

    /// <summary>1 GiB: about 3 million manifest lines or 300,000 chains.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>The lines of <paramref name="path"/> (\n or \r\n), read lazily, within the limits.</summary>
    public static IEnumerable<string> ReadLines(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: not found", path);
        if (info.Length > MaxFileBytes) throw TooLarge(path);
        return Lines(path);
    }

    private static IEnumerable<string> Lines(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var line = new StringBuilder();
        var buf = new char[1 << 16];
        long total = 0;
        int lineNo = 1, n;
        while ((n = reader.Read(buf, 0, buf.Length)) > 0)
        {
            total += n;
            if (total > MaxFileBytes) throw TooLarge(path); // a file that grows, or a device without a size
            int start = 0;
            for (int k = 0; k < n; k++)
            {
                if (buf[k] != '\n') continue;
                line.Append(buf, start, k - start);
                if (line.Length > MaxLineChars) throw TooLong(path, lineNo);
                yield return TrimCr(line);
                line.Clear();
                lineNo++;
                start = k + 1;
            }
            line.Append(buf, start, n - start);
            if (line.Length > MaxLineChars) throw TooLong(path, lineNo);
        }
        if (line.Length > 0) yield return TrimCr(line);
    }

    private static string TrimCr(StringBuilder sb) =>
        sb.Length > 0 && sb[^1] == '\r' ? sb.ToString(0, sb.Length - 1) : sb.ToString();

    private static InvalidDataException TooLong(string path, int line) =>
        new($"{path}:{line}: line longer than {MaxLineChars:N0} characters (is this a text file of the expected kind?)");

    private static InvalidDataException TooLarge(string path) =>
        new($"{path}: larger than the limit of {MaxFileBytes / (1 << 20):N0} MiB for a text input");
}
