using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Core;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>One chain of a chain file (<see cref="ChainCodec"/>) with its image paths resolved and the completion
/// text rendered from its steps (the edge where the chain becomes text).</summary>
public sealed record ChainRecord(ChainLine Line, string? Rgb, string? Depth, string? Ir, string Text, string Source)
{
    public string Id => Line.Id;
    public string SampleId => Line.Chain.SampleId;
    public string Domain => Line.Domain;
    public string Attack => Line.Attack;
    public string Shuffle => Line.Shuffle;
    public IReadOnlyList<string> TrueLabel => Line.Chain.TrueLabel.ToArray();
    public IReadOnlyList<string> Answer => Line.Chain.Answer.ToArray();

    /// <summary>The sample this chain was made from (true label), for the image loader.</summary>
    public SampleRecord ToSample() => new(SampleId, Rgb, Depth, Ir, TrueLabel, Attack, Domain, null, Source);
}

/// <summary>Reads chain files through the core's <see cref="ChainCodec"/> (the one reader and writer of the format).</summary>
public static class ChainFile
{
    /// <summary>True when the first non-empty line of the file is a JSON object with "sample_id" and "text" or
    /// "steps" (a chain file, not a manifest).</summary>
    public static bool IsChainFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        foreach (var line in PaFas.Host.IO.TextLimits.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (!line.TrimStart().StartsWith('{')) return false;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var e = doc.RootElement;
                return e.ValueKind == JsonValueKind.Object && (e.TryGetProperty("text", out _) || e.TryGetProperty("steps", out _))
                       && e.TryGetProperty("sample_id", out _);
            }
            catch (JsonException) { return false; }
        }
        return false;
    }

    /// <summary>Loads every chain; relative image paths are resolved against <paramref name="root"/> or, when it is
    /// empty, the chain file's folder. Errors name the file and line.</summary>
    public static List<ChainRecord> Load(string path, string root = "", Grammar? grammar = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: chain file not found", path);
        var g = grammar ?? GrammarStore.Default;
        var baseDir = string.IsNullOrEmpty(root) ? Path.GetDirectoryName(Path.GetFullPath(path))! : root;
        var list = new List<ChainRecord>();
        int n = 0;
        foreach (var raw in PaFas.Host.IO.TextLimits.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var src = $"{path}:{n}";
            var r = ChainCodec.decode(g, raw);
            if (r.IsError) throw new InvalidDataException($"{src}: {r.ErrorValue}");
            var l = r.ResultValue;
            string? Img(FSharpOption<string>? p) => p == null ? null : Resolve(baseDir, p.Value);
            list.Add(new ChainRecord(l, Img(l.Rgb), Img(l.Depth), Img(l.Ir), ChainCodec.text(g, l.Chain), src));
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
        try
        {
            Parallel.ForEach(distinct, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount },
                s => Get(s));
        }
        catch (AggregateException ae) when (ae.InnerExceptions.Count > 0)
        {
            // the first failure as is (it names the sample's file:line and the image), not "One or more errors occurred"
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ae.Flatten().InnerExceptions[0]).Throw();
        }
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

/// <summary>The SFT objective: cross-entropy of the completion tokens only. The trainer, the validation loss and
/// the benchmarks all compute it here.</summary>
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

    /// <summary>The model's forward pass over a batch and the summed loss of its completion tokens (in float32; a
    /// graph when gradients are enabled).</summary>
    public static Tensor Sum(PaFasModel m, VisionBatch images, SftBatch batch) =>
        Sum(m.Logits(images, batch.Tokens, batch.Attention).to(ScalarType.Float32), batch.Labels);

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
            var s = Sum(model, vb, b);
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

    /// <summary>The model's forward pass and the mean loss over the batch's completion tokens.</summary>
    public static Tensor Mean(PaFasModel m, VisionBatch images, SftBatch batch) =>
        Mean(m.Logits(images, batch.Tokens, batch.Attention), batch);

    /// <summary>The mean loss over every completion token of <paramref name="chains"/> (no gradient),
    /// <paramref name="batch"/> chains per forward pass, and the number of tokens it averages.</summary>
    public static (double Mean, long Tokens) Evaluate(PaFasModel m, IReadOnlyList<TokenizedChain> chains, int pad, Device dev, int batch)
    {
        using var nograd = torch.no_grad();
        double sum = 0;
        long count = 0;
        for (int i = 0; i < chains.Count; i += batch)
        {
            var items = chains.Skip(i).Take(batch).ToList();
            using var scope = torch.NewDisposeScope();
            using var b = SftBatch.Build(items, pad, dev);
            using var vb = VisionBatch.From(items.Select(c => c.Face).ToList(), dev);
            sum += Sum(m, vb, b).to(ScalarType.Float64).item<double>();
            count += b.Targets;
        }
        return (sum / Math.Max(1, count), count);
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
