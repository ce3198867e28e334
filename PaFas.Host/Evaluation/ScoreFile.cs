using System.Globalization;
using System.Text;
using System.Text.Json;
using PaFas.Core;

namespace PaFas.Host.Evaluation;

/// <summary>Reads and writes score files: the input of <c>pafas metrics</c> (scores produced by any system) and the
/// output of <c>pafas score</c>. Two formats:
/// <list type="bullet">
/// <item>CSV: <c>score,label[,attack[,domain]]</c>, one sample a line; an optional header line whose first field is
/// not a number; <c>#</c> comments and blank lines are skipped. <c>label</c> is 1/live/bona fide for a live face,
/// 0/spoof/attack for a spoof.</item>
/// <item>JSONL: <c>{"score": 0.93, "label": 1 | "live" | "spoof", "attack": "...", "domain": "..."}</c>.</item>
/// </list>
/// The score is a live score: higher means more likely live (bona fide = positive class).</summary>
public static class ScoreFile
{
    public static Scored[] Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: score file not found", path);
        bool json = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var rows = new List<Scored>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string where = $"{path}:{lineNo}";
            if (json || line.StartsWith('{')) rows.Add(ParseJson(line, where));
            else
            {
                var f = line.Split(',').Select(x => x.Trim()).ToArray();
                if (rows.Count == 0 && !double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                    && f[0].Equals("score", StringComparison.OrdinalIgnoreCase))
                    continue; // header
                if (f.Length < 2) throw new InvalidDataException($"{where}: expected score,label[,attack[,domain]], got '{Clip(line)}'");
                rows.Add(Make(ParseScore(f[0], where), ParseLabel(f[1], where), f.Length > 2 ? f[2] : "", f.Length > 3 ? f[3] : "", where));
            }
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no scores in the file");
        return rows.ToArray();
    }

    private static Scored ParseJson(string line, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            if (!r.TryGetProperty("score", out var s)) throw new InvalidDataException($"{where}: no \"score\" field");
            double score = s.ValueKind == JsonValueKind.Number ? s.GetDouble() : ParseScore(s.ToString(), where);
            if (!r.TryGetProperty("label", out var l)) throw new InvalidDataException($"{where}: no \"label\" field");
            bool live = l.ValueKind switch
            {
                JsonValueKind.Number => ParseLabel(l.GetRawText(), where),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Array => l.GetArrayLength() > 0 && l[0].GetString() == TaxonomyModule.LiveName,
                _ => ParseLabel(l.GetString() ?? "", where),
            };
            string Str(string p) => r.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";
            return Make(score, live, Str("attack"), Str("domain"), where);
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

    /// <summary>Writes <c>score,label,attack,domain</c> CSV (label 1 = live), readable by <see cref="Read"/>.</summary>
    public static void WriteCsv(string path, IEnumerable<Scored> rows)
    {
        var sb = new StringBuilder("score,label,attack,domain\n");
        foreach (var r in rows)
            sb.Append(r.Score.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(r.IsLive ? 1 : 0).Append(',')
              .Append(r.Attack.Replace(',', ' ')).Append(',').Append(r.Domain.Replace(',', ' ')).Append('\n');
        IO.AtomicFile.WriteAllText(path, sb.ToString());
    }
}
