using TorchSharp;

namespace PaFas.Host.Model;

/// <summary>One generated completion of one face: the prompt tokens, the completion tokens (without EOS), the
/// decoded text, whether the completion ended with an EOS (false: cut at the token budget) and the live score
/// (<see cref="Model.LiveScore"/>; NaN when not computed).</summary>
public sealed record Rollout(int[] Prompt, int[] Completion, string Text, bool Ended, double LiveScore)
{
    /// <summary>Prompt + completion + EOS when the completion ended: the sequence a policy is trained on.</summary>
    public int[] Sequence(int eos)
    {
        var seq = new int[Prompt.Length + Completion.Length + (Ended ? 1 : 0)];
        Prompt.CopyTo(seq, 0);
        Completion.CopyTo(seq, Prompt.Length);
        if (Ended) seq[^1] = eos;
        return seq;
    }
}

/// <summary>How <see cref="Rollouts.Run"/> generates: the decoding (greedy or sampled), the faces per forward pass
/// (0 = all in one pass) and whether the live score is computed (one more forward pass per batch).</summary>
public sealed record RolloutOptions(GenerationOptions Decoding, int Batch = 0, bool LiveScore = true)
{
    /// <summary>Greedy decoding of at most <paramref name="maxNewTokens"/> tokens, with live scores.</summary>
    public static RolloutOptions Greedy(int maxNewTokens, int batch = 0) => new(new GenerationOptions(maxNewTokens), batch);
}

/// <summary>The one generation entry point: faces in, one <see cref="Rollout"/> per face out (eval, score,
/// predict, the validator, GRPO and the benchmarks all come through here).</summary>
public static class Rollouts
{
    /// <summary>Encodes each face's prompt, decodes a completion per face (<see cref="Generator.Generate"/>) and,
    /// when asked, reads its live score (<see cref="LiveScore.Compute"/>), <see cref="RolloutOptions.Batch"/> faces
    /// at a time. Batch k of a sampled decoding draws from seed Decoding.Seed + k, so one batch reproduces a
    /// single call with that seed; greedy decoding does not depend on the seed.</summary>
    public static Rollout[] Run(PaFasModel m, Tokenizer tok, IReadOnlyList<FaceTensors> faces, RolloutOptions o)
    {
        if (o.Batch < 0) throw new ArgumentException($"rollout batch must be >= 0, got {o.Batch}");
        var result = new Rollout[faces.Count];
        int size = o.Batch == 0 ? Math.Max(1, faces.Count) : o.Batch;
        for (int start = 0, k = 0; start < faces.Count; start += size, k++)
        {
            var chunk = faces.Skip(start).Take(size).ToList();
            var prompts = chunk.Select(f => Model.Prompt.Encode(tok, f)).ToList();
            using var scope = torch.NewDisposeScope();
            using var images = VisionBatch.From(chunk, m.Device);
            var gen = Generator.Generate(m, tok, images, prompts, o.Decoding with { Seed = unchecked(o.Decoding.Seed + k) });
            var live = o.LiveScore ? LiveScore.Compute(m, tok, images, prompts, gen.Completions) : null;
            for (int j = 0; j < chunk.Count; j++)
                result[start + j] = new Rollout(prompts[j], gen.Completions[j], gen.Texts[j], gen.Ended[j], live?[j] ?? double.NaN);
        }
        return result;
    }
}
