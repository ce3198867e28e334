using System.Diagnostics;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Bench;

/// <summary>Analytic floating-point operation counts of the model, from its config alone (the same formula is in
/// <c>scripts/reference_pytorch.py</c>, and the two must agree). Only matrix products are counted, 2 m n k each
/// (one multiply + one add); norms, rotary embeddings, softmax, activations, the loss and the optimiser are
/// left out (they are O(tokens x width), not O(tokens x width^2)).
/// <para>Forward, per sample with T text tokens, Nv = <see cref="ModelConfig.VisualTokens"/> visual tokens, L = Nv + T
/// decoder positions, vd = VisionDim, D = Dim, hd = HeadDim, kv = KvHeads x hd, H = MlpHidden, V = vocabulary:</para>
/// <list type="bullet">
/// <item>patch stems: 2 Np p^2 vd (3 + 1 + 1) (RGB 3 channels, depth 1, IR 1; Np patches per modality);</item>
/// <item>each vision block: 2 Nv (4 vd^2 + 3 vd Hv) projections and MLP + 4 Nv^2 vd attention (Q K^T and A V);</item>
/// <item>projector: 2 Nv (vd D + D^2);</item>
/// <item>each decoder layer: 2 L (2 D^2 + 2 D kv + 3 D H) + 4 L^2 D (attention is counted over the full L x L
/// square: the masked attention computes it);</item>
/// <item>output head (tied or not): 2 T D V.</item>
/// </list>
/// <para>A training step is forward + backward = 3 x forward (the backward of a product computes two products of the
/// same size: the gradient of the input and of the weight), minus one stem term: the images need no gradient.</para></summary>
public static class Flops
{
    /// <summary>Forward FLOPs of one sample with <paramref name="textTokens"/> text tokens, and the part spent in the patch stems.</summary>
    public static (double Total, double Stems) Forward(ModelConfig c, int vocab, int textTokens)
    {
        double np = c.PatchesPerModality, nv = c.VisualTokens, vd = c.VisionDim, d = c.Dim, t = textTokens, l = nv + t;
        double kv = (double)c.KvHeads * c.HeadDim;
        double stems = 2 * np * c.PatchSize * c.PatchSize * vd * (3 + 1 + 1);
        double vision = c.VisionLayers * (2 * nv * (4 * vd * vd + 3 * vd * c.VisionMlpHidden) + 4 * nv * nv * vd);
        double proj = 2 * nv * (vd * d + d * d);
        double decoder = c.Layers * (2 * l * (2 * d * d + 2 * d * kv + 3 * d * c.MlpHidden) + 4 * l * l * d);
        double head = 2 * t * d * vocab;
        return (stems + vision + proj + decoder + head, stems);
    }

    /// <summary>FLOPs of one SFT training step (forward + backward) of <paramref name="batch"/> samples.</summary>
    public static double TrainStep(ModelConfig c, int vocab, int textTokens, int batch)
    {
        var (f, stems) = Forward(c, vocab, textTokens);
        return batch * (3 * f - stems);
    }

    /// <summary>Peak float32 matrix-product rate of libtorch on the current threads: the median over
    /// <paramref name="repeat"/> timed products of two n x n matrices (after one warm-up), in FLOP/s.</summary>
    public static double[] MatmulRates(int n, int repeat, Device dev)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var g = new torch.Generator(1);
        var a = torch.randn(new long[] { n, n }, generator: g).to(dev);
        var b = torch.randn(new long[] { n, n }, generator: g).to(dev);
        a.mm(b).Dispose();
        var rates = new double[repeat];
        for (int r = 0; r < repeat; r++)
        {
            var sw = Stopwatch.StartNew();
            using (var c = a.mm(b))
                c[0, 0].item<float>();   // waits for the product on an asynchronous device
            rates[r] = 2.0 * n * n * n / sw.Elapsed.TotalSeconds;
        }
        return rates;
    }
}
