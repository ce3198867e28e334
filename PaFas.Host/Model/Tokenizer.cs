using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PaFas.Core;

namespace PaFas.Host.Model;

/// <summary>Closed word-level vocabulary built from the same templates and taxonomy the grammar renders, plus
/// the answer-list punctuation, the prompt's words and the special tokens. Ids are deterministic: the special
/// tokens first (pad 0, bos 1, eos 2, unk 3, &lt;think&gt; 4, &lt;/think&gt; 5, &lt;answer&gt; 6, &lt;/answer&gt; 7),
/// then the punctuation, then the words in ordinal order. Text is split on whitespace and punctuation; a word
/// outside the vocabulary becomes &lt;unk&gt;, which decodes to the literal "&lt;unk&gt;": no sentence or label of the
/// grammar contains it, so the parser rejects it rather than anything crashing.
/// <see cref="Decode"/> restores the spacing of <see cref="GrammarModule.render"/> exactly.</summary>
public sealed class Tokenizer
{
    /// <summary>Special tokens, in id order.</summary>
    public static readonly string[] Specials = { "<pad>", "<bos>", "<eos>", "<unk>", "<think>", "</think>", "<answer>", "</answer>" };
    /// <summary>Punctuation kept as tokens.</summary>
    public static readonly string[] Punctuation = { ".", ",", "'", "[", "]", "?" };
    /// <summary>What an unknown word decodes to.</summary>
    public const string UnknownMarker = "<unk>";

    private static readonly Regex Splitter = new(@"</?think>|</?answer>|<unk>|[.,'\[\]?]|[^\s.,'\[\]?<]+|<", RegexOptions.Compiled);

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, string> _modalityNames;

    private Tokenizer(string[] tokens, Dictionary<string, string> modalityNames)
    {
        for (int i = 0; i < Specials.Length; i++)
            if (tokens.Length <= i || tokens[i] != Specials[i])
                throw new InvalidDataException($"tokenizer: token {i} must be {Specials[i]}");
        _tokens = tokens;
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            if (!_ids.TryAdd(tokens[i], i)) throw new InvalidDataException($"tokenizer: duplicate token '{tokens[i]}'");
        _modalityNames = modalityNames;
        foreach (var m in ModalityModule.all)
            if (!_modalityNames.ContainsKey(ModalityModule.key(m)))
                throw new InvalidDataException($"tokenizer: no name for modality '{ModalityModule.key(m)}'");
    }

    public int VocabSize => _tokens.Length;
    public int Pad => 0;
    public int Bos => 1;
    public int Eos => 2;
    public int Unk => 3;
    public int ThinkOpen => 4;
    public int ThinkClose => 5;
    public int AnswerOpen => 6;
    public int AnswerClose => 7;

    /// <summary>Token texts by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>How the prompt names each modality (key "rgb"/"depth"/"ir" -> name), from the templates.</summary>
    public IReadOnlyDictionary<string, string> ModalityNames => _modalityNames;

    /// <summary>The id of a token; throws when it is not in the vocabulary.</summary>
    public int Id(string token) =>
        _ids.TryGetValue(token, out var id) ? id : throw new KeyNotFoundException($"'{token}' is not in the tokenizer's vocabulary");

    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>The text of a token id.</summary>
    public string TokenText(int id) => id >= 0 && id < _tokens.Length ? _tokens[id] : UnknownMarker;

    /// <summary>Splits text into token strings (tags, punctuation, words); no vocabulary lookup.</summary>
    public static IEnumerable<string> Split(string text) =>
        Splitter.Matches(text ?? "").Select(m => m.Value);

    /// <summary>The vocabulary of a grammar: every sentence it can render, every taxonomy name, the prompt.</summary>
    public static Tokenizer Build(Grammar g)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        void Add(string text) { foreach (var w in Split(text)) words.Add(w); }
        foreach (var step in GrammarModule.allSteps(g.Taxonomy, g.Templates)) Add(GrammarModule.sentence(g, step));
        foreach (var node in TaxonomyModule.nodes(g.Taxonomy)) Add(node);
        var names = ModalityModule.all.ToDictionary(m => ModalityModule.key(m), m => g.Templates.ModalityNames[m]);
        foreach (var n in names.Values) Add(n);
        foreach (var w in Prompt.Vocabulary) Add(w);
        var fixedTokens = Specials.Concat(Punctuation).ToHashSet(StringComparer.Ordinal);
        var sorted = words.Where(w => !fixedTokens.Contains(w)).OrderBy(w => w, StringComparer.Ordinal);
        return new Tokenizer(Specials.Concat(Punctuation).Concat(sorted).ToArray(), names);
    }

    /// <summary>Token ids of a text (no bos/eos added); unknown words become <see cref="Unk"/>.</summary>
    public int[] Encode(string text) =>
        Split(text).Select(w => _ids.TryGetValue(w, out var id) && id != Pad && id != Bos && id != Eos ? id : Unk).ToArray();

    /// <summary>Text of token ids, skipping pad/bos/eos; spacing follows the grammar's rendering (no space
    /// around tags, before . , ? ] and a closing quote, or after [ and an opening quote).</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        bool glueNext = true;   // no space before the next token
        bool inQuote = false;
        foreach (var id in ids)
        {
            if (id == Pad || id == Bos || id == Eos) continue;
            var t = id == Unk ? UnknownMarker : TokenText(id);
            bool isTag = id == ThinkOpen || id == ThinkClose || id == AnswerOpen || id == AnswerClose;
            bool glueLeft, glueRight;
            if (t == "'")
            {
                glueLeft = inQuote;          // a closing quote sticks to the word before
                glueRight = !inQuote;        // an opening quote sticks to the word after
                inQuote = !inQuote;
            }
            else
            {
                glueLeft = isTag || t is "." or "," or "?" or "]";
                glueRight = t == "[" || (isTag && id != AnswerClose);
                if (isTag || t is "[" or "]") inQuote = false;
            }
            if (sb.Length > 0 && !glueLeft && !glueNext) sb.Append(' ');
            sb.Append(t);
            glueNext = glueRight;
        }
        return sb.ToString();
    }

    /// <summary>The tokenizer as JSON (the checkpoint's tokenizer.json).</summary>
    public string ToJson() =>
        JsonSerializer.Serialize(new TokenizerFile(1, _tokens, _modalityNames), new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>Reads <see cref="ToJson"/>'s output; throws <see cref="InvalidDataException"/> when malformed.</summary>
    public static Tokenizer FromJson(string json)
    {
        TokenizerFile? f;
        try { f = JsonSerializer.Deserialize<TokenizerFile>(json); }
        catch (JsonException ex) { throw new InvalidDataException($"tokenizer: malformed JSON: {ex.Message}", ex); }
        if (f == null || f.Tokens == null || f.ModalityNames == null) throw new InvalidDataException("tokenizer: missing tokens or modalityNames");
        if (f.Version != 1) throw new InvalidDataException($"tokenizer: unsupported version {f.Version}");
        return new Tokenizer(f.Tokens, new Dictionary<string, string>(f.ModalityNames));
    }

    private sealed record TokenizerFile(int Version, string[] Tokens, Dictionary<string, string> ModalityNames);
}
