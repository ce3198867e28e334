using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>One line of the chain JSONL written by <c>pafas augment</c> (Augmentation/Augmenter.cs).</summary>
public sealed record ChainRecord(
    string Id,
    string SampleId,
    string? Rgb,
    string? Depth,
    string? Ir,
    string Domain,
    string Attack,
    IReadOnlyList<string> TrueLabel,
    IReadOnlyList<string> Answer,
    string Think,
    string Text,
    string Shuffle,
    string Source)
{
    /// <summary>The sample this chain was made from (true label), for the image loader.</summary>
    public SampleRecord ToSample() => new(SampleId, Rgb, Depth, Ir, TrueLabel, Attack, Domain, null, Source);
}

/// <summary>Reads chain JSONL files.</summary>
public static class ChainFile
{
    /// <summary>True when the first non-empty line of the file is a JSON object with a "text" field (a chain file,
    /// not a manifest).</summary>
    public static bool IsChainFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (!line.TrimStart().StartsWith('{')) return false;
            try
            {
                using var doc = JsonDocument.Parse(line);
                return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("text", out _)
                       && doc.RootElement.TryGetProperty("sample_id", out _);
            }
            catch (JsonException) { return false; }
        }
        return false;
    }

    /// <summary>Loads every chain; relative image paths are resolved against <paramref name="root"/> or, when it is
    /// empty, the chain file's folder. Errors name the file and line.</summary>
    public static List<ChainRecord> Load(string path, string root = "")
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: chain file not found", path);
        var baseDir = string.IsNullOrEmpty(root) ? Path.GetDirectoryName(Path.GetFullPath(path))! : root;
        var list = new List<ChainRecord>();
        int n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var src = $"{path}:{n}";
            try
            {
                using var doc = JsonDocument.Parse(raw);
                var e = doc.RootElement;
                string Req(string k) => e.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String
                    ? v.GetString()! : throw new InvalidDataException($"{src}: field '{k}' missing or not a string");
                string? Img(string k) => e.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() != ""
                    ? Resolve(baseDir, v.GetString()!) : null;
                string Opt(string k) => e.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
                IReadOnlyList<string> Labels(string k) => e.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Array
                    ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToArray()
                    : throw new InvalidDataException($"{src}: field '{k}' missing or not a list");
                var c = new ChainRecord(Req("id"), Req("sample_id"), Img("rgb"), Img("depth"), Img("ir"), Opt("domain"), Opt("attack"),
                    Labels("true_label"), Labels("answer"), Opt("think"), Req("text"), Opt("shuffle"), src);
                if (c.Rgb == null && c.Depth == null && c.Ir == null)
                    throw new InvalidDataException($"{src}: the chain names no image (rgb, depth, ir all empty)");
                list.Add(c);
            }
            catch (JsonException e) { throw new InvalidDataException($"{src}: malformed JSON ({e.Message})", e); }
        }
        if (list.Count == 0) throw new InvalidDataException($"{path}: no chains in the file");
        return list;
    }

    private static string Resolve(string baseDir, string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(baseDir, p));
}

/// <summary>Decoded faces cached by sample id (many chains share one sample's images).</summary>
public sealed class FaceCache
{
    private readonly ConcurrentDictionary<string, FaceTensors> _faces = new(StringComparer.Ordinal);
    private readonly int _size;

    public FaceCache(int size) { _size = size; }

    public int Count => _faces.Count;

    public FaceTensors Get(SampleRecord s) => _faces.GetOrAdd(s.Id, _ => ImageLoader.Load(s, _size));

    /// <summary>Decodes every distinct sample up front, in parallel (<paramref name="threads"/> 0 = all cores).</summary>
    public void Preload(IEnumerable<SampleRecord> samples, int threads)
    {
        var distinct = samples.GroupBy(s => s.Id).Select(g => g.First()).Where(s => !_faces.ContainsKey(s.Id)).ToList();
        Parallel.ForEach(distinct, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount },
            s => Get(s));
    }
}

/// <summary>A chain as token ids: prompt (bos + question) ++ completion (text tokens + eos), with its sample's images.</summary>
public sealed record TokenizedChain(int[] Tokens, int PromptLength, string SampleId, FaceTensors Face)
{
    public int CompletionLength => Tokens.Length - PromptLength;
}

/// <summary>A padded batch for the SFT loss: tokens [B,T] (right-padded), attention [B,T] (true = real token)
/// and labels [B,T] aligned with the logits (labels[b,t] = tokens[b,t+1] when position t+1 is a completion
/// token, else <see cref="Ignore"/>), so prompt and padding positions never contribute.</summary>
public sealed class SftBatch : IDisposable
{
    public const long Ignore = -100;

    private SftBatch(Tensor tokens, Tensor attention, Tensor labels, long targets)
    {
        Tokens = tokens; Attention = attention; Labels = labels; Targets = targets;
    }

    public Tensor Tokens { get; }
    public Tensor Attention { get; }
    public Tensor Labels { get; }
    /// <summary>Number of positions that contribute to the loss.</summary>
    public long Targets { get; }

    public static SftBatch Build(IReadOnlyList<TokenizedChain> items, int pad, Device dev)
    {
        if (items.Count == 0) throw new ArgumentException("empty batch");
        int b = items.Count, t = items.Max(c => c.Tokens.Length);
        var tok = new long[b * t];
        var att = new bool[b * t];
        var lab = new long[b * t];
        Array.Fill(tok, pad);
        Array.Fill(lab, Ignore);
        long targets = 0;
        for (int i = 0; i < b; i++)
        {
            var c = items[i];
            if (c.PromptLength < 1 || c.PromptLength > c.Tokens.Length)
                throw new ArgumentException($"chain of {c.SampleId}: prompt length {c.PromptLength} outside 1..{c.Tokens.Length}");
            for (int j = 0; j < c.Tokens.Length; j++)
            {
                tok[i * t + j] = c.Tokens[j];
                att[i * t + j] = true;
                if (j >= 1 && j >= c.PromptLength) { lab[i * t + j - 1] = c.Tokens[j]; targets++; }
            }
        }
        return new SftBatch(
            torch.tensor(tok, new long[] { b, t }).to(dev),
            torch.tensor(att, new long[] { b, t }).to(dev),
            torch.tensor(lab, new long[] { b, t }).to(dev),
            targets);
    }

    public void Dispose() { Tokens.Dispose(); Attention.Dispose(); Labels.Dispose(); }
}

/// <summary>The SFT objective: cross-entropy of the completion tokens only.</summary>
public static class SftLoss
{
    /// <summary>Sum over the non-ignored positions of -log p(label) (logits [B,T,V], labels [B,T]).</summary>
    public static Tensor Sum(Tensor logits, Tensor labels)
    {
        var v = logits.shape[^1];
        using var flat = logits.reshape(-1, v);
        using var lab = labels.reshape(-1);
        return torch.nn.functional.cross_entropy(flat, lab, ignore_index: SftBatch.Ignore, reduction: nn.Reduction.Sum);
    }

    /// <summary>One optimiser step's forward and backward passes over <paramref name="chosen"/> in micro-batches of
    /// <paramref name="batch"/>: the gradient of the mean completion-token loss accumulates in the model. Returns that
    /// mean and whether it was not finite (then backward stops; <paramref name="injectNaN"/> is a test hook).</summary>
    public static (double Loss, bool Bad) Backward(PaFasModel model, Tokenizer tok, Device dev, IReadOnlyList<TokenizedChain> chosen, int batch,
        bool injectNaN = false)
    {
        long targets = chosen.Sum(c => (long)c.CompletionLength);
        double sum = 0;
        for (int m = 0; m < chosen.Count; m += batch)
        {
            var items = chosen.Skip(m).Take(Math.Min(batch, chosen.Count - m)).ToList();
            using var scope = torch.NewDisposeScope();
            using var b = SftBatch.Build(items, tok.Pad, dev);
            using var vb = VisionBatch.From(items.Select(c => c.Face).ToList(), dev);
            var logits = model.Logits(vb, b.Tokens, b.Attention);
            var s = Sum(logits.to(ScalarType.Float32), b.Labels);
            double v = s.to(ScalarType.Float64).item<double>();
            if (injectNaN) v = double.NaN;
            if (!double.IsFinite(v)) return (v / Math.Max(1, targets), true);
            (s / (double)Math.Max(1, targets)).backward();
            sum += v;
        }
        return (sum / Math.Max(1, targets), false);
    }

    /// <summary>Mean over the completion tokens of the batch.</summary>
    public static Tensor Mean(Tensor logits, SftBatch batch)
    {
        using var s = Sum(logits.to(ScalarType.Float32), batch.Labels);
        return s / Math.Max(1, batch.Targets);
    }
}

/// <summary>Turns chains into token sequences for a model (prompt from the images' availability + completion).</summary>
public static class ChainTokens
{
    /// <summary>Tokenizes chains; a sequence longer than <paramref name="maxSeq"/> has its completion cut (counted in
    /// <paramref name="truncated"/>).</summary>
    public static List<TokenizedChain> Encode(IReadOnlyList<ChainRecord> chains, Tokenizer tok, FaceCache faces, int maxSeq, out int truncated)
    {
        var result = new TokenizedChain[chains.Count];
        int cut = 0;
        Parallel.For(0, chains.Count, i =>
        {
            var c = chains[i];
            var face = faces.Get(c.ToSample());
            var prompt = Prompt.Encode(tok, face);
            var completion = tok.Encode(c.Text);
            var all = new int[prompt.Length + completion.Length + 1];
            prompt.CopyTo(all, 0);
            completion.CopyTo(all, prompt.Length);
            all[^1] = tok.Eos;
            if (maxSeq > 0 && all.Length > maxSeq)
            {
                if (prompt.Length + 1 >= maxSeq)
                    throw new InvalidDataException($"{c.Source}: the prompt alone ({prompt.Length} tokens) exceeds the model's {maxSeq} positions");
                all = all[..maxSeq];
                Interlocked.Increment(ref cut);
            }
            result[i] = new TokenizedChain(all, prompt.Length, c.SampleId, face);
        });
        truncated = cut;
        return result.ToList();
    }
}
