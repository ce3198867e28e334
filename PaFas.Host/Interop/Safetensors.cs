using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using PaFas.Host.Inference;
using PaFas.Host.IO;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Interop;

/// <summary>A tensor as stored in a safetensors file: dtype name ("F32", ...), shape and raw little-endian bytes.</summary>
public sealed record SafeTensor(string Dtype, long[] Shape, byte[] Data);

/// <summary>The safetensors format, written and read by our own code: an 8-byte little-endian header length N,
/// N bytes of JSON <c>{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}</c>
/// (offsets relative to the end of the header, padded with spaces to a multiple of 8), then the raw data.</summary>
public static class SafetensorsFile
{
    private static readonly (ScalarType Type, string Name, int Size)[] Dtypes =
    {
        (ScalarType.Float32, "F32", 4), (ScalarType.Float64, "F64", 8), (ScalarType.Float16, "F16", 2), (ScalarType.BFloat16, "BF16", 2),
        (ScalarType.Int64, "I64", 8), (ScalarType.Int32, "I32", 4), (ScalarType.Int16, "I16", 2), (ScalarType.Int8, "I8", 1),
        (ScalarType.Byte, "U8", 1), (ScalarType.Bool, "BOOL", 1),
    };

    public static string DtypeName(ScalarType t) =>
        Dtypes.FirstOrDefault(d => d.Type == t).Name ?? throw new NotSupportedException($"dtype {t} has no safetensors name");

    public static ScalarType ScalarTypeOf(string name, string source) =>
        Dtypes.Any(d => d.Name == name) ? Dtypes.First(d => d.Name == name).Type : throw new InvalidDataException($"{source}: unsupported safetensors dtype '{name}'");

    private static int SizeOf(string name) => Dtypes.First(d => d.Name == name).Size;

    /// <summary>Writes the tensors (in the given order) atomically.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors export needs a little-endian machine");
        var header = new Dictionary<string, object>();
        if (metadata != null && metadata.Count > 0) header["__metadata__"] = metadata;
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            using var c = t.detach().cpu().contiguous();
            var bytes = c.bytes.ToArray();
            header[name] = new Dictionary<string, object> { ["dtype"] = DtypeName(c.dtype), ["shape"] = c.shape, ["data_offsets"] = new[] { offset, offset + bytes.Length } };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var ms = new MemoryStream();
        var len = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        ms.Write(len);
        ms.Write(json);
        for (int i = json.Length; i < padded; i++) ms.WriteByte((byte)' ');
        foreach (var b in blobs) ms.Write(b);
        AtomicFile.WriteAllBytes(path, ms.ToArray());
    }

    /// <summary>Reads every tensor and the metadata; errors name the file.</summary>
    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        var all = File.ReadAllBytes(path);
        if (all.Length < 8) throw new InvalidDataException($"{path}: truncated safetensors file ({all.Length} bytes)");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(all.AsSpan(0, 8));
        if (n > (ulong)(all.Length - 8)) throw new InvalidDataException($"{path}: header length {n} exceeds the file ({all.Length} bytes)");
        var dataStart = 8 + (long)n;
        var tensors = new Dictionary<string, SafeTensor>();
        var meta = new Dictionary<string, string>();
        try
        {
            using var doc = JsonDocument.Parse(all.AsMemory(8, (int)n));
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    foreach (var m in p.Value.EnumerateObject()) meta[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var dtype = p.Value.GetProperty("dtype").GetString() ?? "";
                ScalarTypeOf(dtype, path);
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                var off = p.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                if (off.Length != 2 || off[0] < 0 || off[1] < off[0] || dataStart + off[1] > all.Length)
                    throw new InvalidDataException($"{path}: tensor '{p.Name}' has data_offsets [{string.Join(",", off)}] outside the data ({all.Length - dataStart} bytes)");
                long expected = shape.Aggregate(1L, (a, x) => a * x) * SizeOf(dtype);
                if (off[1] - off[0] != expected)
                    throw new InvalidDataException($"{path}: tensor '{p.Name}' has {off[1] - off[0]} bytes, its shape [{string.Join(",", shape)}] needs {expected}");
                tensors[p.Name] = new SafeTensor(dtype, shape, all.AsSpan((int)(dataStart + off[0]), (int)(off[1] - off[0])).ToArray());
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message})", e);
        }
        return (tensors, meta);
    }
}

/// <summary><c>pafas export --format safetensors</c>: model.safetensors (every tensor of the state dict, named as
/// in PyTorch's state_dict), config.json (<see cref="ModelConfig"/>) and tokenizer.json; and the way back.</summary>
public static class SafetensorsExport
{
    public const string WeightsFile = "model.safetensors";

    /// <summary>Exports the checkpoint found in <paramref name="run"/> (a run or checkpoint folder) to <paramref name="outDir"/>.</summary>
    public static string Export(string run, string outDir)
    {
        var ckpt = CheckpointFolder.Resolve(run);
        var (model, tok, meta) = Checkpoint.Load(ckpt, torch.CPU);
        using (model) return Export(model, tok, outDir, new Dictionary<string, string>
        {
            ["format"] = "pt", ["producer"] = "pafas", ["stage"] = meta.Stage, ["step"] = meta.Step.ToString(),
            ["source"] = Path.GetFullPath(ckpt), ["vocab_size"] = tok.VocabSize.ToString(),
        });
    }

    /// <summary>Writes a model's files; returns the weights file.</summary>
    public static string Export(PaFasModel m, Tokenizer tok, string outDir, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(outDir);
        var file = Path.Combine(outDir, WeightsFile);
        SafetensorsFile.Write(file, m.state_dict().Select(kv => (kv.Key, kv.Value)),
            metadata ?? new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "pafas", ["vocab_size"] = tok.VocabSize.ToString() });
        AtomicFile.WriteAllText(Path.Combine(outDir, Checkpoint.ConfigFile), m.Config.ToJson());
        AtomicFile.WriteAllText(Path.Combine(outDir, Checkpoint.TokenizerFile), tok.ToJson());
        return file;
    }

    /// <summary>Loads an exported folder back into a <see cref="PaFasModel"/> (eval mode, on <paramref name="dev"/>).</summary>
    public static (PaFasModel Model, Tokenizer Tokenizer) Load(string dir, Device dev)
    {
        TorchRuntime.EnsureLoaded();
        var cfgFile = Path.Combine(dir, Checkpoint.ConfigFile);
        var tokFile = Path.Combine(dir, Checkpoint.TokenizerFile);
        var wFile = Path.Combine(dir, WeightsFile);
        foreach (var f in new[] { cfgFile, tokFile, wFile })
            if (!File.Exists(f)) throw new InvalidDataException($"{f}: not found (the export is incomplete)");
        var cfg = ModelConfig.FromJson(File.ReadAllText(cfgFile), cfgFile);
        Tokenizer tok;
        try { tok = Tokenizer.FromJson(File.ReadAllText(tokFile)); }
        catch (InvalidDataException ex) { throw new InvalidDataException($"{tokFile}: {ex.Message}", ex); }
        var (tensors, _) = SafetensorsFile.Read(wFile);
        var model = new PaFasModel(cfg, tok.VocabSize);
        try
        {
            var sd = model.state_dict();
            var missing = sd.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
            var extra = tensors.Keys.Where(k => !sd.ContainsKey(k)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new InvalidDataException($"{wFile}: tensors do not match {cfgFile} (missing: {string.Join(", ", missing.Take(5))}; unexpected: {string.Join(", ", extra.Take(5))})");
            using (torch.no_grad())
                foreach (var (key, t) in sd)
                {
                    var w = tensors[key];
                    var type = SafetensorsFile.ScalarTypeOf(w.Dtype, wFile);
                    if (!w.Shape.SequenceEqual(t.shape) || type != t.dtype)
                        throw new InvalidDataException($"{wFile}: tensor '{key}' is {w.Dtype}[{string.Join(",", w.Shape)}], {cfgFile} gives {t.dtype}[{string.Join(",", t.shape)}]");
                    using var src = torch.empty(w.Shape, dtype: type);
                    src.bytes = w.Data;
                    t.copy_(src);
                }
            model.to(dev);
            model.eval();
            return (model, tok);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
