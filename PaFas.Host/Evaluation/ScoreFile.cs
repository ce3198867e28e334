using System.Globalization;
using System.Text;
using System.Text.Json;
using PaFas.Core;

namespace PaFas.Host.Evaluation;

/// <summary>Reads and writes score files: the input of <c>pafas metrics</c> (scores produced by any system) and the
/// output of <c>pafas score</c>. Two formats:
/// <list type="bullet">
/// <item>CSV: <c>score,label[,attack[,domain]]</c>, one sample a line, or any column order under a header line
/// that names them (<c>score</c>, <c>label</c>, and optionally <c>attack</c>, <c>domain</c>, <c>id</c>; other columns
/// are ignored); <c>#</c> comments and blank lines are skipped. <c>label</c> is 1/live/bona fide for a live face,
/// 0/spoof/attack for a spoof.</item>
/// <item>JSONL: <c>{"id": "...", "score": 0.93, "label": 1 | "live" | "spoof", "attack": "...", "domain": "..."}</c>.</item>
/// </list>
/// Sample ids (optional) are checked: one id with two different labels is an error naming both lines; an id that
/// repeats with the same label is counted once per line and reported as a warning.
/// The score is a live score: higher means more likely live (bona fide = positive class).</summary>
public static class ScoreFile
{
    private static readonly string[] Columns = { "score", "label", "attack", "domain", "id" };

    /// <summary>The scores of <paramref name="path"/>; <paramref name="warn"/> gets the warnings (duplicate ids).</summary>
    public static Scored[] Read(string path, Action<string>? warn = null) => ReadRows(path, warn).Select(r => r.Score).ToArray();

    /// <summary>The rows of <paramref name="path"/> with their ids ("" when the file has none).</summary>
    public static List<ScoreRow> ReadRows(string path, Action<string>? warn = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: score file not found", path);
        bool json = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var rows = new List<ScoreRow>();
        var seen = new Dictionary<string, (bool Live, int Line)>(StringComparer.Ordinal);
        int lineNo = 0, duplicates = 0;
        string firstDuplicate = "";
        int[]? cols = null; // column of score, label, attack, domain, id (-1 = absent)
        foreach (var raw in IO.TextLimits.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim().TrimStart('\uFEFF');
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string where = $"{path}:{lineNo}";
            ScoreRow row;
            if (json || line.StartsWith('{')) row = ParseJson(line, where);
            else
            {
                var f = line.Split(',').Select(x => x.Trim().Trim('"')).ToArray();
                if (rows.Count == 0 && cols == null && !double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    cols = Header(f, where);
                    continue;
                }
                cols ??= new[] { 0, 1, 2, 3, -1 };
                string At(int c) => cols[c] >= 0 && cols[c] < f.Length ? f[cols[c]] : "";
                if (f.Length <= Math.Max(cols[0], cols[1]))
                    throw new InvalidDataException($"{where}: expected {(cols[4] < 0 && cols[0] == 0 ? "score,label[,attack[,domain]]" : "a value in every named column")}, got '{Clip(line)}'");
                row = new ScoreRow(At(4), Make(ParseScore(At(0), where), ParseLabel(At(1), where), At(2), At(3), where));
            }
            if (row.Id != "")
            {
                if (seen.TryGetValue(row.Id, out var earlier))
                {
                    if (earlier.Live != row.Score.IsLive)
                        throw new InvalidDataException($"{where}: id '{Clip(row.Id)}' is labelled {(row.Score.IsLive ? "live" : "spoof")} here but " +
                            $"{(earlier.Live ? "live" : "spoof")} at line {earlier.Line}");
                    if (duplicates++ == 0) firstDuplicate = $"'{Clip(row.Id)}' at lines {earlier.Line} and {lineNo}";
                }
                else seen[row.Id] = (row.Score.IsLive, lineNo);
            }
            rows.Add(row);
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no scores in the file");
        if (duplicates > 0)
            warn?.Invoke($"{path}: {duplicates} line{(duplicates > 1 ? "s repeat ids" : " repeats an id")} already seen (first: {firstDuplicate}); every line is counted as a sample");
        return rows;
    }

    /// <summary>The columns of a CSV header line, by name (any order, case-insensitive).</summary>
    private static int[] Header(string[] names, string where)
    {
        var cols = Columns.Select(c => Array.FindIndex(names, n => n.Equals(c, StringComparison.OrdinalIgnoreCase)
            || (c == "id" && n.Equals("sample_id", StringComparison.OrdinalIgnoreCase)))).ToArray();
        if (cols[0] < 0 || cols[1] < 0)
            throw new InvalidDataException($"{where}: the header ({Clip(string.Join(",", names))}) must name a 'score' and a 'label' column");
        return cols;
    }

    private static ScoreRow ParseJson(string line, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected a JSON object");
            if (!r.TryGetProperty("score", out var s)) throw new InvalidDataException($"{where}: no \"score\" field");
            double score = s.ValueKind == JsonValueKind.Number ? s.GetDouble() : ParseScore(s.ToString(), where);
            if (!r.TryGetProperty("label", out var l)) throw new InvalidDataException($"{where}: no \"label\" field");
            bool live = l.ValueKind switch
            {
                JsonValueKind.Number => ParseLabel(l.GetRawText(), where),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Array => l.GetArrayLength() > 0 && l[0].ValueKind == JsonValueKind.String && l[0].GetString() == TaxonomyModule.LiveName,
                JsonValueKind.String => ParseLabel(l.GetString() ?? "", where),
                _ => ParseLabel(l.GetRawText(), where),
            };
            string Str(string p) => r.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";
            var id = Str("id") is { Length: > 0 } x ? x : Str("sample_id");
            return new ScoreRow(id, Make(score, live, Str("attack"), Str("domain"), where));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: malformed JSON ({e.Message})");
        }
    }

    private static Scored Make(double score, bool live, string attack, string domain, string where)
    {
        if (double.IsNaN(score) || double.IsInfinity(score)) throw new InvalidDataException($"{where}: score is not a finite number");
        return new Scored(score, live, live ? "" : (attack == "" ? "Attack" : attack), domain);
    }

    private static double ParseScore(string s, string where) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{where}: score '{Clip(s)}' is not a number");

    private static bool ParseLabel(string s, string where) => s.Trim().Trim('"').ToLowerInvariant() switch
    {
        "1" or "live" or "real" or "bonafide" or "bona fide" or "real face" or "true" => true,
        "0" or "spoof" or "attack" or "fake" or "spoof face" or "false" => false,
        _ => throw new InvalidDataException($"{where}: label '{Clip(s)}' is not 1/live or 0/spoof"),
    };

    private static string Clip(string s) => s.Length > 60 ? s[..60] + "..." : s;

    /// <summary>Writes rows readable by <see cref="Read"/>: CSV <c>score,label,attack,domain,id</c> (label 1 = live)
    /// when <paramref name="path"/> ends in .csv, else JSONL <c>{"id","score","label","attack","domain"}</c>.</summary>
    public static void Write(string path, IEnumerable<ScoreRow> rows)
    {
        var sb = new StringBuilder();
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            sb.Append("score,label,attack,domain,id\n");
            foreach (var (id, r) in rows)
                sb.Append(r.Score.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(r.IsLive ? 1 : 0).Append(',')
                  .Append(Cell(r.Attack)).Append(',').Append(Cell(r.Domain)).Append(',').Append(Cell(id)).Append('\n');
        }
        else
            foreach (var (id, r) in rows)
                sb.Append(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["id"] = id, ["score"] = r.Score, ["label"] = r.IsLive ? "live" : "spoof", ["attack"] = r.Attack, ["domain"] = r.Domain,
                })).Append('\n');
        IO.AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string Cell(string s) => s.Replace(',', ' ').Replace('\n', ' ');
}

/// <summary>One line of a score file: the sample id ("" when the file has none) and its score.</summary>
public sealed record ScoreRow(string Id, Scored Score);
