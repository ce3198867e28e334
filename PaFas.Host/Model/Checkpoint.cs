using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>Training metadata stored in a checkpoint's meta.json (besides the weights' hash and size).</summary>
public sealed record CheckpointMeta(string Stage, int Step, string CreatedUtc, IReadOnlyDictionary<string, string> Extra)
{
    /// <summary>Metadata stamped now (UTC, ISO 8601).</summary>
    public static CheckpointMeta Now(string stage, int step, IReadOnlyDictionary<string, string>? extra = null) =>
        new(stage, step, DateTime.UtcNow.ToString("o"), extra ?? new Dictionary<string, string>());
}

/// <summary>A checkpoint folder: config.json (<see cref="ModelConfig"/>), tokenizer.json, model.bin (weights) and
/// meta.json (stage, step, createdUtc, sha256 of model.bin, parameter count, extra). model.bin is a plain tensor
/// container (magic "PAFASW01", then per tensor: name, dtype, shape, raw little-endian bytes); nothing in it is
/// executed on load. Saving is atomic (a temp folder next to the target, then renames); loading checks the hash,
/// the tensor names and shapes against config.json and the tokenizer size, and throws
/// <see cref="InvalidDataException"/> naming the file on any mismatch, never loading partially.</summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string WeightsFile = "model.bin";
    public const string MetaFile = "meta.json";
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("PAFASW01");

    /// <summary>Writes the checkpoint to <paramref name="dir"/>, replacing an existing one only once the new one is complete.</summary>
    public static void Save(string dir, PaFasModel m, Tokenizer tok, CheckpointMeta meta)
    {
        if (tok.VocabSize != m.VocabSize)
            throw new ArgumentException($"the tokenizer has {tok.VocabSize} tokens, the model {m.VocabSize}");
        var target = Path.GetFullPath(dir);
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(target);
        var tmp = Path.Combine(parent, $".{name}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            var weights = Path.Combine(tmp, WeightsFile);
            WriteWeights(weights, m);
            string sha;
            using (var fs = File.OpenRead(weights)) sha = Convert.ToHexString(SHA256.HashData(fs)).ToLowerInvariant();
            File.WriteAllText(Path.Combine(tmp, ConfigFile), m.Config.ToJson());
            File.WriteAllText(Path.Combine(tmp, TokenizerFile), tok.ToJson());
            var metaJson = new Dictionary<string, object>
            {
                ["stage"] = meta.Stage,
                ["step"] = meta.Step,
                ["createdUtc"] = meta.CreatedUtc,
                ["sha256"] = sha,
                ["parameters"] = m.ParameterCount,
                ["weightsFormat"] = "PAFASW01",
                ["extra"] = meta.Extra,
            };
            // meta.json last: a folder with a meta.json is complete.
            File.WriteAllText(Path.Combine(tmp, MetaFile), JsonSerializer.Serialize(metaJson, new JsonSerializerOptions { WriteIndented = true }));
            if (Directory.Exists(target))
            {
                var old = Path.Combine(parent, $".{name}.old-{Environment.ProcessId}-{Guid.NewGuid():N}");
                Directory.Move(target, old);
                Directory.Move(tmp, target);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(tmp, target);
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    /// <summary>Reads meta.json (stage, step, createdUtc, extra) and the weights hash it records.</summary>
    public static (CheckpointMeta Meta, string Sha256, long Parameters) ReadMeta(string dir)
    {
        var f = Path.Combine(dir, MetaFile);
        if (!File.Exists(f)) throw new InvalidDataException($"{f}: not found (the checkpoint is incomplete)");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(f));
            var r = doc.RootElement;
            var extra = new Dictionary<string, string>();
            if (r.TryGetProperty("extra", out var e) && e.ValueKind == JsonValueKind.Object)
                foreach (var p in e.EnumerateObject()) extra[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            var meta = new CheckpointMeta(r.GetProperty("stage").GetString() ?? "", r.GetProperty("step").GetInt32(),
                r.GetProperty("createdUtc").GetString() ?? "", extra);
            return (meta, r.GetProperty("sha256").GetString() ?? "", r.TryGetProperty("parameters", out var n) ? n.GetInt64() : -1);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{f}: malformed checkpoint metadata: {ex.Message}", ex);
        }
    }

    /// <summary>Loads a checkpoint onto <paramref name="dev"/>, verifying everything first.</summary>
    public static (PaFasModel Model, Tokenizer Tokenizer, CheckpointMeta Meta) Load(string dir, Device dev)
    {
        TorchRuntime.EnsureLoaded();
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: checkpoint folder not found");
        string File_(string n)
        {
            var p = Path.Combine(dir, n);
            if (!File.Exists(p)) throw new InvalidDataException($"{p}: not found (the checkpoint is incomplete)");
            return p;
        }
        var cfgFile = File_(ConfigFile);
        var tokFile = File_(TokenizerFile);
        var wFile = File_(WeightsFile);
        var (meta, sha, parameters) = ReadMeta(dir);
        string actual;
        using (var fs = File.OpenRead(wFile)) actual = Convert.ToHexString(SHA256.HashData(fs)).ToLowerInvariant();
        if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{wFile}: sha256 {actual} does not match {MetaFile} ({sha}): the file is truncated or corrupt");
        var cfg = ModelConfig.FromJson(File.ReadAllText(cfgFile), cfgFile);
        Tokenizer tok;
        try { tok = Tokenizer.FromJson(File.ReadAllText(tokFile)); }
        catch (InvalidDataException ex) { throw new InvalidDataException($"{tokFile}: {ex.Message}", ex); }
        var tensors = ReadWeights(wFile);
        if (tensors.TryGetValue("embed.weight", out var emb) && emb.Shape.Length == 2 && emb.Shape[0] != tok.VocabSize)
            throw new InvalidDataException($"{tokFile}: {tok.VocabSize} tokens, but the embedding in {wFile} has {emb.Shape[0]} rows: the tokenizer does not belong to these weights");
        var model = new PaFasModel(cfg, tok.VocabSize);
        try
        {
            if (parameters >= 0 && parameters != model.ParameterCount)
                throw new InvalidDataException($"{cfgFile}: the config gives {model.ParameterCount} parameters, {MetaFile} records {parameters}");
            var sd = model.state_dict();
            var missing = sd.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
            var extra = tensors.Keys.Where(k => !sd.ContainsKey(k)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new InvalidDataException($"{wFile}: tensors do not match {cfgFile} (missing: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}; unexpected: {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", ..." : "")})");
            foreach (var (key, t) in sd)
            {
                var w = tensors[key];
                if (!w.Shape.SequenceEqual(t.shape) || w.Dtype != t.dtype)
                {
                    var hint = key == "embed.weight" ? $" (does {tokFile} match the model? it has {tok.VocabSize} tokens)" : "";
                    throw new InvalidDataException($"{wFile}: tensor '{key}' is {w.Dtype}[{string.Join(",", w.Shape)}], {cfgFile} gives {t.dtype}[{string.Join(",", t.shape)}]{hint}");
                }
            }
            using (torch.no_grad())
                foreach (var (key, t) in sd)
                {
                    var w = tensors[key];
                    using var src = torch.empty(w.Shape, dtype: w.Dtype);
                    src.bytes = w.Data;
                    t.copy_(src);
                }
            model.to(dev);
            model.eval();
            return (model, tok, meta);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private sealed record RawTensor(ScalarType Dtype, long[] Shape, byte[] Data);

    private static void WriteWeights(string path, PaFasModel m)
    {
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using var w = new BinaryWriter(fs, Encoding.UTF8);
        var sd = m.state_dict();
        w.Write(Magic);
        w.Write(sd.Count);
        foreach (var (key, t) in sd)
        {
            using var c = t.detach().cpu().contiguous();
            var bytes = c.bytes.ToArray();
            w.Write(key);
            w.Write((int)c.dtype);
            w.Write(c.shape.Length);
            foreach (var d in c.shape) w.Write(d);
            w.Write((long)bytes.Length);
            w.Write(bytes);
        }
        w.Flush();
        fs.Flush(flushToDisk: true);
    }

    private static Dictionary<string, RawTensor> ReadWeights(string path)
    {
        var result = new Dictionary<string, RawTensor>();
        try
        {
            using var fs = File.OpenRead(path);
            using var r = new BinaryReader(fs, Encoding.UTF8);
            var magic = r.ReadBytes(Magic.Length);
            if (!magic.SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a PA-FAS weights file (bad magic)");
            int n = r.ReadInt32();
            if (n < 0 || n > 1_000_000) throw new InvalidDataException($"{path}: bad tensor count {n}");
            for (int i = 0; i < n; i++)
            {
                var key = r.ReadString();
                var dtype = (ScalarType)r.ReadInt32();
                int nd = r.ReadInt32();
                if (nd < 0 || nd > 8) throw new InvalidDataException($"{path}: tensor '{key}' has a bad rank {nd}");
                var shape = new long[nd];
                for (int d = 0; d < nd; d++) shape[d] = r.ReadInt64();
                long len = r.ReadInt64();
                long expected = shape.Aggregate(1L, (a, x) => a * x) * ElementSize(dtype, path, key);
                if (len != expected || len > fs.Length - fs.Position)
                    throw new InvalidDataException($"{path}: tensor '{key}' has {len} bytes, its shape needs {expected} ({fs.Length - fs.Position} left in the file)");
                result[key] = new RawTensor(dtype, shape, r.ReadBytes((int)len));
            }
            if (fs.Position != fs.Length) throw new InvalidDataException($"{path}: {fs.Length - fs.Position} unexpected bytes after the last tensor");
        }
        catch (EndOfStreamException ex) { throw new InvalidDataException($"{path}: truncated weights file", ex); }
        return result;
    }

    private static long ElementSize(ScalarType t, string path, string key) => t switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Bool or ScalarType.Byte or ScalarType.Int8 => 1,
        _ => throw new InvalidDataException($"{path}: tensor '{key}' has an unsupported dtype {t}"),
    };
}
