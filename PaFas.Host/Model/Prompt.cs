using PaFas.Core;

namespace PaFas.Host.Model;

/// <summary>The question that follows the visual prefix: bos + "Is the face in the RGB, depth and IR images
/// real or a spoof?" naming only the available modalities (in the fixed order RGB, depth, IR). The completion
/// (starting with &lt;think&gt;) follows it.</summary>
public static class Prompt
{
    /// <summary>Words of the question besides the modality names (part of the tokenizer's vocabulary).</summary>
    public static readonly string[] Vocabulary = { "Is", "the", "face", "in", "images", "image", "real", "or", "a", "spoof", "and", ",", "?" };

    /// <summary>The question text for the given available modalities.</summary>
    public static string Question(Tokenizer tok, IEnumerable<Modality> available)
    {
        var names = ModalityModule.all.Where(available.Contains).Select(m => tok.ModalityNames[ModalityModule.key(m)]).ToList();
        if (names.Count == 0) throw new ArgumentException("a prompt needs at least one available modality");
        var list = names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[^1];
        return $"Is the face in the {list} {(names.Count == 1 ? "image" : "images")} real or a spoof?";
    }

    /// <summary>bos + the question for the face's available modalities.</summary>
    public static int[] Encode(Tokenizer tok, FaceTensors face) =>
        Encode(tok, ModalityModule.all.Where(face.Has));

    /// <summary>bos + the question for the given available modalities.</summary>
    public static int[] Encode(Tokenizer tok, IEnumerable<Modality> available) =>
        new[] { tok.Bos }.Concat(tok.Encode(Question(tok, available.ToList()))).ToArray();
}
