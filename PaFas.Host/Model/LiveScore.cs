using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>The live score used for AUC/HTER/EER: the model's probability of 'Real Face' against 'Spoof Face'
/// at the first answer label, given the images and the generated reasoning.</summary>
/// <remarks>
/// Convention: the context is prompt + completion up to and including its first &lt;answer&gt; token, followed by
/// the tokens that open the answer list, <c>[</c> and <c>'</c> (whatever the model wrote after &lt;answer&gt;). If the
/// completion has no &lt;answer&gt;, the opening <c>&lt;answer&gt; [ '</c> is appended after its first &lt;/think&gt;;
/// if it has no &lt;/think&gt; either, <c>&lt;/think&gt; &lt;answer&gt; [ '</c> is appended after the whole completion
/// (an EOS and anything after it are dropped first). At the last context position, with p the next-token
/// distribution, score = p('Real') / (p('Real') + p('Spoof')) = sigmoid(logit('Real') - logit('Spoof')), in [0, 1];
/// 'Real' and 'Spoof' are the first tokens of 'Real Face' and 'Spoof Face'. Higher = more live.
/// </remarks>
public static class LiveScore
{
    /// <summary>The context tokens the score is read at (see the class remarks).</summary>
    public static int[] Context(Tokenizer tok, int[] prompt, int[] completion)
    {
        var c = completion.TakeWhile(id => id != tok.Eos).ToList();
        int a = c.IndexOf(tok.AnswerOpen);
        List<int> ctx;
        if (a >= 0) ctx = c.Take(a + 1).ToList();
        else
        {
            int t = c.IndexOf(tok.ThinkClose);
            ctx = t >= 0 ? c.Take(t + 1).ToList() : c.Append(tok.ThinkClose).ToList();
            ctx.Add(tok.AnswerOpen);
        }
        ctx.Add(tok.Id("["));
        ctx.Add(tok.Id("'"));
        return prompt.Concat(ctx).ToArray();
    }

    /// <summary>One live score per face (see the class remarks), computed in no_grad in one batch.</summary>
    public static double[] Compute(PaFasModel m, Tokenizer tok, VisionBatch images, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions)
    {
        if (prompts.Count != images.Count || completions.Count != images.Count)
            throw new ArgumentException($"{images.Count} faces, {prompts.Count} prompts, {completions.Count} completions");
        int real = tok.Id("Real"), spoof = tok.Id("Spoof");
        int budget = m.Config.MaxSeq - m.Config.VisualTokens;
        var ctx = prompts.Select((p, i) =>
        {
            var c = Context(tok, p, completions[i]);
            // keep the answer opening: drop reasoning from the middle when the context is too long
            return c.Length <= budget ? c : p.Concat(c.Skip(c.Length - Math.Max(0, budget - p.Length))).Take(budget).ToArray();
        }).ToList();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (ids, att) = Sequences.PadRight(ctx, tok.Pad, m.Device);
        var logits = m.Logits(images, ids, att);                                   // [B,T,V]
        var lastIdx = torch.tensor(ctx.Select(c => (long)c.Length - 1).ToArray(), dtype: ScalarType.Int64, device: m.Device);
        var rows = logits.gather(1, lastIdx.view(-1, 1, 1).expand(-1, 1, logits.shape[2])).squeeze(1).to_type(ScalarType.Float32);
        var diff = Ops.Sub(rows.select(1, real), rows.select(1, spoof));
        var s = torch.sigmoid(diff).cpu().data<float>().ToArray();
        return s.Select(x => (double)x).ToArray();
    }
}
