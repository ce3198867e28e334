using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;

namespace PaFas.Host.Training;

/// <summary>The pretraining objectives, written only with the templates' start and observation sentences
/// (data/templates.json): no live/spoof word, no taxonomy node, no answer.
/// <list type="bullet">
/// <item><b>describe</b>: prompt = bos; target = "I examine the {present modalities} images of the face." followed
/// by the observation sentence of every cue the renderer drew, in the fixed modality order. It says which modalities
/// are present and what each shows.</item>
/// <item><b>modality</b>: prompt = bos + "I examine the {m} images of the face." for one present modality m; target
/// = the observation sentences of m only (possibly none: then only eos). The other modalities stay in the images,
/// so the model must look where it is asked.</item>
/// </list></summary>
public static class PerceptionTasks
{
    public const string Describe = "describe", Modality = "modality";

    /// <summary>The ground-truth cues of a face, parsed.</summary>
    public static List<Cue> CuesOf(IEnumerable<string> cues) =>
        cues.Select(c => CueModule.tryParse(c) ?? throw new InvalidDataException($"malformed cue '{c}'")).Select(c => c.Value).ToList();

    /// <summary>The present modalities in the fixed order.</summary>
    public static List<PaFas.Core.Modality> Present(FaceTensors f) => ModalityModule.all.Where(f.Has).ToList();

    /// <summary>The describe target: start sentence + observations.</summary>
    public static string DescribeText(Grammar g, IReadOnlyList<PaFas.Core.Modality> present, IEnumerable<Cue> cues) =>
        GrammarModule.thinkText(g, ListModule.OfSeq(
            new[] { Step.NewStart(ListModule.OfSeq(present)) }.Concat(cues.Where(c => present.Contains(c.Modality)).Select(Step.NewObserve))));

    /// <summary>Prompt text and target text of a task for one face (<paramref name="modality"/> only for the modality task).</summary>
    public static (string Prompt, string Target) Texts(Grammar g, string task, FaceTensors face, IReadOnlyList<Cue> cues, PaFas.Core.Modality? modality)
    {
        var present = Present(face);
        if (task == Describe) return ("", DescribeText(g, present, cues));
        if (task != Modality) throw new ArgumentException($"unknown pretraining task '{task}' (known: {Describe}, {Modality})");
        if (modality is not { } m || !face.Has(m)) throw new ArgumentException("the modality task needs a present modality");
        var prompt = GrammarModule.sentence(g, Step.NewStart(ListModule.OfSeq(new[] { m })));
        var target = GrammarModule.thinkText(g, ListModule.OfSeq(cues.Where(c => c.Modality.Equals(m)).Select(Step.NewObserve)));
        return (prompt, target);
    }

    /// <summary>bos + prompt, then target + eos, as one training sequence (loss on the target and eos only).</summary>
    public static TokenizedChain Encode(Tokenizer tok, string id, FaceTensors face, string prompt, string target, int maxSeq)
    {
        var p = new[] { tok.Bos }.Concat(tok.Encode(prompt)).ToArray();
        var t = tok.Encode(target);
        if (p.Concat(t).Contains(tok.Unk)) throw new InvalidOperationException($"pretraining text of {id} has a word outside the vocabulary: '{prompt} {target}'");
        var all = p.Concat(t).Append(tok.Eos).ToArray();
        if (maxSeq > 0 && all.Length > maxSeq) all = all[..maxSeq];
        return new TokenizedChain(all, p.Length, id, face);
    }

    /// <summary>The training sequence of a stream face: the task (describe with probability <paramref name="describeShare"/>,
    /// else the modality task on a uniformly drawn present modality) is drawn from (seed, index).</summary>
    public static (string Task, TokenizedChain Chain) ForStream(Grammar g, Tokenizer tok, StreamFace f, int seed, double describeShare, int maxSeq)
    {
        var rng = StepSeed.Rng(seed, f.Index, StepSeed.Task);
        var cues = CuesOf(f.Cues);
        string task = rng.NextDouble() < describeShare ? Describe : Modality;
        var present = Present(f.Face);
        PaFas.Core.Modality? m = task == Modality ? present[rng.Next(present.Count)] : null;
        var (prompt, target) = Texts(g, task, f.Face, cues, m);
        return (task, Encode(tok, $"R_{f.Index}", f.Face, prompt, target, maxSeq));
    }
}
