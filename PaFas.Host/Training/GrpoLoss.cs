using PaFas.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>The GRPO policy loss in TorchSharp, the same arithmetic as the core's <c>Grpo.tokenLoss</c> and
/// <c>Grpo.aggregateGlobal</c> (tested equal): per token
/// -(min(r A, clip(r, 1 - epsLow, 1 + epsHigh) A) - beta k3), r = exp(logp - oldLogp),
/// k3 = exp(ref - logp) - (ref - logp) - 1; then aggregated per <see cref="LossAggregation"/>.</summary>
public static class GrpoLoss
{
    /// <summary>Result of <see cref="Compute"/>: the scalar to minimise (a graph when logp requires grad) and
    /// diagnostics (means over the masked tokens).</summary>
    public sealed record Output(Tensor Loss, double ClipFraction, double LowClipFraction, double HighClipFraction, double Kl);

    /// <summary>Per-token losses [N,T] (unmasked; multiply by the mask before summing).</summary>
    public static Tensor PerToken(Tensor logp, Tensor oldLogp, Tensor advantages, double epsLow, double epsHigh, double beta = 0.0, Tensor? refLogp = null)
    {
        using var scope = torch.NewDisposeScope();
        var ratio = torch.exp(logp - oldLogp);
        var adv = advantages.reshape(-1, 1);
        var clipped = torch.clamp(ratio, 1.0 - epsLow, 1.0 + epsHigh);
        var surrogate = torch.minimum(ratio * adv, clipped * adv);
        var loss = -surrogate;
        if (beta != 0.0)
        {
            if (refLogp is null) throw new ArgumentException("beta > 0 needs the reference log-probabilities");
            var d = refLogp - logp;
            loss = loss + beta * (torch.exp(d) - d - 1.0);
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Per-completion token weights [N] such that loss = sum_i w_i sum_t mask_it l_it (the core's
    /// <c>Grpo.tokenWeightsGlobal</c>): grpo 1/(n |o_i|), bnpo 1/(sum |o|), dr_grpo 1/(n maxLen),
    /// dapo 1/globalTokens. <paramref name="completions"/> and <paramref name="globalTokens"/> default to this
    /// batch's; pass the whole step's when the batch is one micro-batch of several.</summary>
    public static Tensor Weights(LossAggregation agg, Tensor mask, int maxLen, long? completions = null, long? globalTokens = null, long? batchTokens = null)
    {
        using var scope = torch.NewDisposeScope();
        var lengths = mask.to(ScalarType.Float64).sum(1);
        long n = completions ?? mask.shape[0];
        double tokens = batchTokens ?? D(lengths.sum());
        Tensor w;
        if (agg.IsGrpoAgg) w = 1.0 / (n * torch.clamp(lengths, min: 1.0));
        else if (agg.IsBnpo) w = torch.full_like(lengths, tokens > 0 ? 1.0 / tokens : 0.0);
        else if (agg.IsDapo)
        {
            double g = globalTokens ?? tokens;
            w = torch.full_like(lengths, g > 0 ? 1.0 / g : 0.0);
        }
        else
        {
            if (maxLen < 1) throw new ArgumentException($"dr_grpo needs maxLen >= 1, got {maxLen}");
            double longest = lengths.numel() == 0 ? 0 : D(lengths.max());
            if (longest > maxLen) throw new ArgumentException($"dr_grpo: a completion has {longest} tokens, more than maxLen = {maxLen}");
            w = torch.full_like(lengths, 1.0 / (n * (double)maxLen));
        }
        return w.MoveToOuterDisposeScope();
    }

    /// <summary>The aggregated loss and diagnostics. logp/oldLogp/refLogp: [N,T] log-probabilities of the
    /// completion tokens; mask [N,T] (1 = completion token); advantages [N].
    /// <paramref name="completions"/>/<paramref name="globalTokens"/>/<paramref name="batchTokens"/>: see <see cref="Weights"/>.</summary>
    public static Output Compute(Tensor logp, Tensor oldLogp, Tensor advantages, Tensor mask, LossAggregation agg, int maxLen,
        double epsLow, double epsHigh, double beta = 0.0, Tensor? refLogp = null,
        long? completions = null, long? globalTokens = null, long? batchTokens = null)
    {
        using var scope = torch.NewDisposeScope();
        var m = mask.to(logp.dtype);
        var per = PerToken(logp, oldLogp, advantages, epsLow, epsHigh, beta, refLogp);
        var w = Weights(agg, mask, maxLen, completions, globalTokens, batchTokens).to(logp.dtype);
        var loss = ((per * m).sum(1) * w).sum();

        double count = Math.Max(1.0, D(m.sum()));
        using var nograd = torch.no_grad();
        var ratio = torch.exp(logp.detach() - oldLogp);
        var adv = advantages.reshape(-1, 1).to(logp.dtype);
        var low = (ratio < 1.0 - epsLow) & (adv < 0);
        var high = (ratio > 1.0 + epsHigh) & (adv > 0);
        double lowF = D((low.to(logp.dtype) * m).sum()) / count;
        double highF = D((high.to(logp.dtype) * m).sum()) / count;
        double kl = 0;
        if (refLogp is not null)
        {
            var d = refLogp - logp.detach();
            kl = D(((torch.exp(d) - d - 1.0) * m).sum()) / count;
        }
        return new Output(loss.MoveToOuterDisposeScope(), lowF + highF, lowF, highF, kl);
    }

    private static double D(Tensor t) { using var x = t.to(ScalarType.Float64); return x.item<double>(); }
}
