using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>Decoding options: Temperature 0 = greedy; otherwise temperature + nucleus (top-p) sampling from a
/// System.Random seeded with <paramref name="Seed"/> (same seed, same completions). <paramref name="StopAtEos"/> false
/// keeps decoding after an EOS (EOS is then an ordinary token): benchmarks use it to decode exactly
/// <paramref name="MaxNewTokens"/> tokens.</summary>
public sealed record GenerationOptions(int MaxNewTokens = 256, double Temperature = 0, double TopP = 1.0, long Seed = 0, bool StopAtEos = true);

/// <summary>Generated completions (token ids without EOS), their decoded texts and whether each ended with an EOS
/// (false: cut at the token budget, or EOS not a stop under <see cref="GenerationOptions.StopAtEos"/> false).</summary>
public sealed record Generation(int[][] Completions, string[] Texts, bool[] Ended);

/// <summary>Batched decoding with the KV cache. Callers go through <see cref="Rollouts.Run"/> (prompts, completions,
/// texts and live scores in one place); this class is its decoding step.</summary>
public static class Generator
{
    /// <summary>Generates a completion per prompt: prompts are left-padded, the visual prefix + prompts are
    /// prefilled, then one token per step for every unfinished sequence until EOS, <see cref="GenerationOptions.MaxNewTokens"/>
    /// or the model's MaxSeq. Runs in no_grad and eval mode (the model's training mode is restored).</summary>
    public static Generation Generate(PaFasModel m, Tokenizer tok, VisionBatch images, IReadOnlyList<int[]> prompts, GenerationOptions o)
    {
        if (prompts.Count != images.Count) throw new ArgumentException($"{prompts.Count} prompts for {images.Count} faces");
        if (o.MaxNewTokens < 0) throw new ArgumentException("MaxNewTokens must be >= 0");
        if (o.Temperature < 0 || !(o.TopP > 0 && o.TopP <= 1)) throw new ArgumentException("Temperature must be >= 0 and TopP in (0, 1]");
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("a prompt is empty (it needs at least bos)");
        int b = prompts.Count, vocab = m.VocabSize;
        int plen = prompts.Max(p => p.Length);
        int prefix = m.Config.VisualTokens + plen;
        int maxNew = Math.Min(o.MaxNewTokens, m.Config.MaxSeq - prefix);
        if (maxNew < 0) throw new ArgumentException($"prompt of {plen} tokens + {m.Config.VisualTokens} visual tokens exceeds MaxSeq {m.Config.MaxSeq}");
        var outs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var done = new bool[b];
        var rng = new Random(unchecked((int)(o.Seed ^ (o.Seed >> 32))));
        bool wasTraining = m.training;
        m.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var cache = m.NewCache(b, prefix + Math.Max(maxNew - 1, 0));
            float[] last;
            using (var scope = torch.NewDisposeScope())
            {
                var (ids, att) = Sequences.PadLeft(prompts, tok.Pad, m.Device);
                var logits = m.Forward(images, ids, att, cache);
                last = logits.select(1, -1).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            for (int step = 0; step < maxNew; step++)
            {
                var next = new long[b];
                var active = new bool[b];
                for (int i = 0; i < b; i++)
                {
                    if (done[i]) { next[i] = tok.Pad; continue; }
                    int id = Pick(last.AsSpan(i * vocab, vocab), o, rng);
                    if (id == tok.Eos && o.StopAtEos) { done[i] = true; next[i] = tok.Pad; continue; }
                    outs[i].Add(id);
                    next[i] = id;
                    active[i] = true;
                }
                if (done.All(d => d) || step == maxNew - 1) break;
                using var scope = torch.NewDisposeScope();
                var ids = torch.tensor(next, new long[] { b, 1 }).to(m.Device);
                var att = torch.tensor(active, new long[] { b, 1 }).to(m.Device);
                var logits = m.Forward(null, ids, att, cache);
                last = logits.select(1, -1).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            }
        }
        finally { m.train(wasTraining); }
        var completions = outs.Select(l => l.ToArray()).ToArray();
        return new Generation(completions, completions.Select(c => tok.Decode(c)).ToArray(), done);
    }

    /// <summary>Greedy (argmax, lowest id on ties) or temperature + top-p sampling from one row of logits.</summary>
    public static int Pick(ReadOnlySpan<float> logits, GenerationOptions o, Random rng)
    {
        int v = logits.Length;
        if (o.Temperature <= 0)
        {
            int best = 0;
            for (int j = 1; j < v; j++) if (logits[j] > logits[best]) best = j;
            return best;
        }
        double max = double.NegativeInfinity;
        for (int j = 0; j < v; j++) max = Math.Max(max, logits[j]);
        var p = new double[v];
        double sum = 0;
        for (int j = 0; j < v; j++) { p[j] = Math.Exp((logits[j] - max) / o.Temperature); sum += p[j]; }
        // most probable first, lower id first among equals (a total order: the permutation is unique)
        var order = new int[v];
        for (int j = 0; j < v; j++) order[j] = j;
        Array.Sort(order, (x, y) => { int c = p[y].CompareTo(p[x]); return c != 0 ? c : x.CompareTo(y); });
        double kept = 0;
        int n = 0;
        while (n < v && (n == 0 || kept < o.TopP * sum)) { kept += p[order[n]]; n++; }
        double r = rng.NextDouble() * kept;
        for (int k = 0; k < n; k++)
        {
            r -= p[order[k]];
            if (r <= 0) return order[k];
        }
        return order[n - 1];
    }
}
