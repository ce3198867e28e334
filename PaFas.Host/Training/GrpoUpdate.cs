using PaFas.Core;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>The policy-loss settings of a GRPO update: aggregation, the generation budget dr_grpo divides by,
/// the clip range, the KL coefficient and the completions per forward/backward pass.</summary>
public sealed record PolicyLossSettings(LossAggregation Aggregation, int MaxLen, double EpsLow, double EpsHigh, double Beta, int MicroBatch);

/// <summary>What one optimisation pass over a step's episodes gave: the loss, the clip fractions and KL (means
/// over the step's completions), and whether every micro-batch loss was finite.</summary>
public sealed record PolicyPass(double Loss, double Clip, double ClipLow, double ClipHigh, double Kl, bool Ok);

/// <summary>The GRPO update over a step's <see cref="Episode"/>s, in micro-batches: log-probabilities of the
/// completion tokens and one pass of <see cref="GrpoLoss"/> (gradients accumulated, normalised over the step).</summary>
public static class GrpoUpdate
{
    /// <summary>Tokens [n,T], attention [n,T] and the completion mask [n,T-1] (aligned with
    /// <see cref="Sequences.TokenLogProbs"/>: entry t is 1 when token t+1 is a completion token) of some episodes.</summary>
    private static (Tensor Tokens, Tensor Attention, Tensor Mask) Batch(IReadOnlyList<Episode> episodes, int pad, Device dev)
    {
        var items = episodes.Select(e => new TokenizedChain(e.Sequence, e.PromptLength, "", e.Face)).ToList();
        var b = SftBatch.Build(items, pad, dev);
        var mask = b.Labels.narrow(1, 0, b.Labels.shape[1] - 1).ne(SftBatch.Ignore);
        b.Labels.Dispose();
        return (b.Tokens, b.Attention, mask);
    }

    /// <summary>The episodes in micro-batches of <paramref name="micro"/>, in order.</summary>
    private static IEnumerable<List<Episode>> MicroBatches(IReadOnlyList<Episode> episodes, int micro)
    {
        for (int s = 0; s < episodes.Count; s += micro)
            yield return episodes.Skip(s).Take(micro).ToList();
    }

    /// <summary>Log-probabilities [n,T] of one micro-batch's completion tokens under <paramref name="m"/>, the
    /// completion mask, and the images (the caller disposes them after the backward pass).</summary>
    private static (Tensor LogProbs, Tensor Mask, VisionBatch Images) Forward(PaFasModel m, List<Episode> part, int pad, Device dev)
    {
        var (tokens, att, mask) = Batch(part, pad, dev);
        var images = VisionBatch.From(part.Select(e => e.Face).ToList(), dev);
        return (Sequences.TokenLogProbs(m.Logits(images, tokens, att), tokens), mask, images);
    }

    /// <summary>Log-probabilities of the completion tokens under a model, no gradient, one [n,T] tensor per micro-batch.</summary>
    public static List<Tensor> LogProbs(PaFasModel m, Tokenizer tok, IReadOnlyList<Episode> episodes, int micro, Device dev)
    {
        var result = new List<Tensor>();
        using var nograd = torch.no_grad();
        foreach (var part in MicroBatches(episodes, micro))
        {
            using var inner = torch.NewDisposeScope();
            var (lp, _, images) = Forward(m, part, tok.Pad, dev);
            using (images) result.Add(lp.MoveToOuterDisposeScope());
        }
        return result;
    }

    /// <summary>One optimisation pass over the episodes (gradients accumulated over micro-batches, normalised over
    /// the whole step). <paramref name="old"/>: the sampling policy's log-probabilities (null = this pass's own,
    /// detached: ratio 1); <paramref name="refLp"/>: the reference model's (for the KL term).</summary>
    public static PolicyPass Pass(PaFasModel model, Tokenizer tok, IReadOnlyList<Episode> episodes, List<Tensor>? old, List<Tensor>? refLp,
        PolicyLossSettings s, Device dev)
    {
        int n = episodes.Count;
        long totalTokens = episodes.Sum(e => (long)e.CompletionTokens);
        double loss = 0, clip = 0, low = 0, high = 0, kl = 0;
        int k = 0;
        foreach (var part in MicroBatches(episodes, s.MicroBatch))
        {
            using var scope = torch.NewDisposeScope();
            var (lp, mask, images) = Forward(model, part, tok.Pad, dev);
            using var _ = images;
            var adv = torch.tensor(part.Select(e => e.Advantage).ToArray(), ScalarType.Float32, dev);
            var oldLp = old != null ? old[k] : lp.detach();
            var outp = GrpoLoss.Compute(lp, oldLp, adv, mask, s.Aggregation, s.MaxLen, s.EpsLow, s.EpsHigh, s.Beta, refLp?[k],
                completions: n, globalTokens: totalTokens, batchTokens: totalTokens);
            double v = outp.Loss.to(ScalarType.Float64).item<double>();
            if (!double.IsFinite(v)) return new PolicyPass(v, 0, 0, 0, 0, false);
            outp.Loss.backward();
            double share = (double)part.Count / n;
            loss += v; clip += outp.ClipFraction * share; low += outp.LowClipFraction * share; high += outp.HighClipFraction * share; kl += outp.Kl * share;
            k++;
        }
        return new PolicyPass(loss, clip, low, high, kl, true);
    }
}
