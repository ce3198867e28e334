using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>A pretrained model as shipped in git (data/pretrained/&lt;preset&gt;/): config.json and tokenizer.json as in a
/// checkpoint, the weights as float16 in parts of at most <see cref="DefaultPartBytes"/> (weights.f16.partNN: the
/// tensors' raw little-endian bytes back to back, in the order of pack.json), and pack.json with every tensor's
/// name and shape, every part's size and SHA-256, the SHA-256 of all parts together and the provenance (command,
/// seed, build, source checkpoint). Loading checks every hash and shape first and never loads partially; the
/// weights become float32 again (float16 rounding: the pack is an initialisation, not a bit-exact copy).</summary>
public static class PretrainedPack
{
    public const string PackFile = "pack.json";
    public const string Format = "PAFASPACK1";
    public const int DefaultPartBytes = 1_500_000;

    /// <summary>The pack shipped for a model preset (data/pretrained/&lt;preset&gt; next to the program), or null.</summary>
    public static string? Shipped(string preset)
    {
        var dir = Path.Combine(Data.GrammarStore.DefaultDataDir(), "pretrained", preset.Trim().ToLowerInvariant());
        return IsPack(dir) ? dir : null;
    }

    /// <summary>True when <paramref name="dir"/> holds a pack.json.</summary>
    public static bool IsPack(string dir) => Directory.Exists(dir) && File.Exists(Path.Combine(dir, PackFile));

    /// <summary>Writes the pack of a checkpoint into <paramref name="outDir"/>, which must not exist yet (nothing is
    /// overwritten). Returns the SHA-256 of the weights (all parts together).</summary>
    public static string Write(string checkpointDir, string outDir, IReadOnlyDictionary<string, string> provenance, int partBytes = DefaultPartBytes)
    {
        if (partBytes < 1024) throw new ArgumentException("a part must hold at least 1024 bytes");
        var target = Path.GetFullPath(outDir);
        if (Directory.Exists(target) || File.Exists(target)) throw new IOException($"{target}: already exists; the pack goes into a new folder");
        var (model, tok, meta) = Checkpoint.Load(checkpointDir, torch.CPU);
        using var _ = model;
        var stream = new MemoryStream();
        var tensors = new JsonArray();
        foreach (var (name, t) in model.state_dict())
        {
            using var h = t.detach().cpu().to_type(ScalarType.Float16).contiguous();
            var bytes = h.bytes.ToArray();
            stream.Write(bytes);
            tensors.Add(new JsonObject { ["name"] = name, ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()) });
        }
        var all = stream.ToArray();
        var tmp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.tmp-{Environment.ProcessId}");
        Directory.CreateDirectory(tmp);
        var parts = new JsonArray();
        for (int i = 0, off = 0; off < all.Length; i++, off += partBytes)
        {
            var chunk = all.AsSpan(off, Math.Min(partBytes, all.Length - off)).ToArray();
            var file = $"weights.f16.part{i:D2}";
            File.WriteAllBytes(Path.Combine(tmp, file), chunk);
            parts.Add(new JsonObject { ["file"] = file, ["bytes"] = chunk.Length, ["sha256"] = Sha(chunk) });
        }
        File.WriteAllText(Path.Combine(tmp, Checkpoint.ConfigFile), model.Config.ToJson());
        File.WriteAllText(Path.Combine(tmp, Checkpoint.TokenizerFile), tok.ToJson());
        var sha = Sha(all);
        var source = new JsonObject { ["stage"] = meta.Stage, ["step"] = meta.Step, ["created_utc"] = meta.CreatedUtc };
        foreach (var (k, v) in provenance) source[k] = v;
        var pack = new JsonObject
        {
            ["format"] = Format, ["dtype"] = "float16", ["preset"] = model.Config.Name, ["parameters"] = model.ParameterCount,
            ["sha256"] = sha, ["parts"] = parts, ["tensors"] = tensors, ["source"] = source,
        };
        File.WriteAllText(Path.Combine(tmp, PackFile), pack.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Directory.Move(tmp, target);
        return sha;
    }

    /// <summary>Loads a pack onto <paramref name="dev"/> after checking every hash and shape. Returns the model, the
    /// tokenizer and a one-line description (preset, source step, SHA-256).</summary>
    public static (PaFasModel Model, Tokenizer Tokenizer, string Info) Load(string dir, Device dev)
    {
        TorchRuntime.EnsureLoaded();
        var packFile = Path.Combine(dir, PackFile);
        if (!File.Exists(packFile)) throw new InvalidDataException($"{packFile}: not found (not a pretrained pack)");
        JsonNode root;
        try { root = JsonNode.Parse(File.ReadAllText(packFile)) ?? throw new InvalidDataException($"{packFile}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{packFile}: malformed JSON: {e.Message}", e); }
        string Str(JsonNode? n, string what) => n?.GetValue<string>() ?? throw new InvalidDataException($"{packFile}: '{what}' missing");
        if (Str(root["format"], "format") != Format) throw new InvalidDataException($"{packFile}: format is not {Format}");
        var stream = new MemoryStream();
        foreach (var p in root["parts"]?.AsArray() ?? throw new InvalidDataException($"{packFile}: 'parts' missing"))
        {
            var file = Path.Combine(dir, Str(p?["file"], "parts.file"));
            if (!File.Exists(file)) throw new InvalidDataException($"{file}: not found (the pack is incomplete)");
            var bytes = File.ReadAllBytes(file);
            var want = Str(p?["sha256"], "parts.sha256");
            if (Sha(bytes) != want) throw new InvalidDataException($"{file}: sha256 {Sha(bytes)} does not match {PackFile} ({want}): the file is truncated or corrupt");
            stream.Write(bytes);
        }
        var all = stream.ToArray();
        var sha = Str(root["sha256"], "sha256");
        if (Sha(all) != sha) throw new InvalidDataException($"{packFile}: the parts together hash to {Sha(all)}, not {sha}");
        var cfgFile = Path.Combine(dir, Checkpoint.ConfigFile);
        var tokFile = Path.Combine(dir, Checkpoint.TokenizerFile);
        if (!File.Exists(cfgFile) || !File.Exists(tokFile)) throw new InvalidDataException($"{dir}: config.json or tokenizer.json missing");
        var cfg = ModelConfig.FromJson(File.ReadAllText(cfgFile), cfgFile);
        Tokenizer tok;
        try { tok = Tokenizer.FromJson(File.ReadAllText(tokFile)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{tokFile}: {e.Message}", e); }
        var model = new PaFasModel(cfg, tok.VocabSize);
        try
        {
            var sd = model.state_dict();
            var list = root["tensors"]?.AsArray() ?? throw new InvalidDataException($"{packFile}: 'tensors' missing");
            var names = list.Select(t => Str(t?["name"], "tensors.name")).ToList();
            if (!names.SequenceEqual(sd.Keys))
                throw new InvalidDataException($"{packFile}: its tensors do not match {cfgFile} and {tokFile} ({names.Count} listed, the model has {sd.Count})");
            long offset = 0;
            using (torch.no_grad())
                foreach (var (t, entry) in sd.Values.Zip(list))
                {
                    var shape = entry!["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                    if (!shape.SequenceEqual(t.shape))
                        throw new InvalidDataException($"{packFile}: tensor '{entry["name"]}' is [{string.Join(",", shape)}], the model's is [{string.Join(",", t.shape)}]");
                    long len = t.numel() * 2;
                    if (offset + len > all.Length) throw new InvalidDataException($"{packFile}: the parts hold {all.Length} bytes, fewer than the tensors need");
                    using var src = torch.empty(shape, dtype: ScalarType.Float16);
                    src.bytes = all.AsSpan((int)offset, (int)len);
                    t.copy_(src);
                    offset += len;
                }
            if (offset != all.Length) throw new InvalidDataException($"{packFile}: {all.Length - offset} bytes after the last tensor");
            model.to(dev);
            model.eval();
            var src0 = root["source"];
            var info = string.Create(CultureInfo.InvariantCulture,
                $"{cfg.Name}, {src0?["stage"]} step {src0?["step"]}, sha256 {sha[..12]}");
            return (model, tok, info);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static string Sha(byte[] b) => Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant();
}
