using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>Packing token sequences into padded tensors, and per-token log-probabilities.</summary>
public static class Sequences
{
    /// <summary>int64 tokens [B,T] right-padded with <paramref name="pad"/> and bool attention [B,T].</summary>
    public static (Tensor Tokens, Tensor Attention) PadRight(IReadOnlyList<int[]> seqs, int pad, Device dev) => Pack(seqs, pad, dev, left: false);

    /// <summary>int64 tokens [B,T] left-padded with <paramref name="pad"/> and bool attention [B,T].</summary>
    public static (Tensor Tokens, Tensor Attention) PadLeft(IReadOnlyList<int[]> seqs, int pad, Device dev) => Pack(seqs, pad, dev, left: true);

    private static (Tensor, Tensor) Pack(IReadOnlyList<int[]> seqs, int pad, Device dev, bool left)
    {
        if (seqs.Count == 0) throw new ArgumentException("no sequences");
        int t = Math.Max(1, seqs.Max(s => s.Length));
        var ids = new long[seqs.Count * t];
        var att = new bool[seqs.Count * t];
        for (int i = 0; i < seqs.Count; i++)
        {
            int start = left ? t - seqs[i].Length : 0;
            for (int j = 0; j < t; j++) ids[i * t + j] = pad;
            for (int j = 0; j < seqs[i].Length; j++)
            {
                ids[i * t + start + j] = seqs[i][j];
                att[i * t + start + j] = true;
            }
        }
        return (torch.tensor(ids, new long[] { seqs.Count, t }).to(dev), torch.tensor(att, new long[] { seqs.Count, t }).to(dev));
    }

    /// <summary>log p(tokens[:,t+1] | ...) from logits [B,T,V]: [B,T-1] (float32).</summary>
    public static Tensor TokenLogProbs(Tensor logits, Tensor tokens)
    {
        long t = tokens.shape[1];
        var lp = torch.nn.functional.log_softmax(logits.narrow(1, 0, t - 1).to_type(ScalarType.Float32), -1);
        return lp.gather(-1, tokens.narrow(1, 1, t - 1).unsqueeze(-1)).squeeze(-1);
    }
}
