using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;
using PaFas.Host.Model;
using PaFas.Host.Training;

namespace PaFas.Host.Interop;

/// <summary>One training example for an external trainer: the images present (absolute paths, fixed order RGB,
/// depth, IR), the prompt, and the target (the chain text for SFT, the ground-truth answer for GRPO).</summary>
public sealed record ExportItem(
    string Id, string SampleId, IReadOnlyList<string> Images, IReadOnlyList<string> Modalities, string Prompt,
    string Target, IReadOnlyList<string> TrueLabel, string Domain, string Attack);

/// <summary>What <see cref="TrainingDataExport.Write"/> wrote.</summary>
public sealed record ExportDataResult(string OutFile, int Lines, int Skipped, string? DatasetInfo);

/// <summary><c>pafas export --format trl|llava|sharegpt|vlm-r1 --kind sft|grpo</c>: the PNRPS chains (SFT) or the
/// GRPO prompts with their ground truth as multi-image JSONL in each project's documented schema (see the README,
/// "Training a large VLM on a cluster").</summary>
public static class TrainingDataExport
{
    public static readonly string[] Formats = { "trl", "llava", "sharegpt", "vlm-r1" };
    /// <summary>The placeholder LLaVA, LLaMA-Factory and VLM-R1 put in the text once per image.</summary>
    public const string ImageToken = "<image>";
    /// <summary>The dataset name registered in the dataset_info.json written next to a sharegpt export.</summary>
    public const string LlamaFactoryName = "pafas";

    /// <summary>Which (format, kind) pairs exist, and why not otherwise.</summary>
    public static string? Unsupported(string format, string kind) => (format, kind) switch
    {
        ("trl", _) => null,
        ("llava", "sft") or ("sharegpt", "sft") => null,
        ("vlm-r1", "grpo") => null,
        ("llava", _) or ("sharegpt", _) => $"--format {format} is a supervised (SFT) format; export GRPO prompts with --format trl or vlm-r1",
        ("vlm-r1", _) => "--format vlm-r1 is VLM-R1's GRPO format (--kind grpo); export SFT chains with --format trl, llava or sharegpt",
        _ => $"unknown export format '{format}' (expected {string.Join(", ", Formats)})",
    };

    /// <summary>The prompt of a sample with the given modalities: the question of <see cref="Prompt.Question"/>,
    /// the order of the images, and the answer format the rewards expect.</summary>
    public static string PromptText(Tokenizer tok, IReadOnlyList<Modality> present)
    {
        var names = present.Select(m => tok.ModalityNames[ModalityModule.key(m)]).ToList();
        var order = names.Count == 1 ? $"The {names[0]} image is given."
            : $"The {names.Count} images are given in this order: {string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}.";
        return Prompt.Question(tok, present) + " " + order +
               " Reason step by step inside <think> </think>, then give the label path from the top category to the leaf" +
               " as a list of quoted labels inside <answer> </answer>, for example <answer>['Spoof Face', ...]</answer>.";
    }

    private static (List<string> Paths, List<Modality> Mods) Present(string? rgb, string? depth, string? ir)
    {
        var r = AvailabilityModule.ofPresence(!string.IsNullOrEmpty(rgb), !string.IsNullOrEmpty(depth), !string.IsNullOrEmpty(ir));
        var mods = r.IsOk ? AvailabilityModule.toList(r.ResultValue).ToList() : new List<Modality>();
        var paths = mods.Select(m => Path.GetFullPath(m.IsRgb ? rgb! : m.IsDepth ? depth! : ir!)).ToList();
        return (paths, mods);
    }

    /// <summary>SFT items from a chain file of <c>pafas augment</c> (the shuffle chosen there is kept).</summary>
    public static List<ExportItem> FromChains(string path, string root, Tokenizer tok) =>
        ChainFile.Load(path, root).Select(c =>
        {
            var (paths, mods) = Present(c.Rgb, c.Depth, c.Ir);
            return new ExportItem(c.Id, c.SampleId, paths, mods.Select(ModalityModule.key).ToArray(), PromptText(tok, mods), c.Text,
                c.TrueLabel, c.Domain, c.Attack);
        }).ToList();

    /// <summary>GRPO items from a manifest: the target is the ground-truth answer <c>&lt;answer&gt;[...]&lt;/answer&gt;</c>.
    /// Samples without a full taxonomy label (unknown attack) are skipped and counted.</summary>
    public static List<ExportItem> FromManifest(string path, string root, Grammar g, Tokenizer tok, out int skipped)
    {
        var items = new List<ExportItem>();
        skipped = 0;
        foreach (var s in Manifest.Load(path, new ManifestOptions { Root = root, Grammar = g }))
        {
            var label = ListModule.OfSeq(s.Label);
            if (!TaxonomyModule.isValidLabel(g.Taxonomy, label)) { skipped++; continue; }
            var (paths, mods) = Present(s.Rgb, s.Depth, s.Ir);
            items.Add(new ExportItem(s.Id, s.Id, paths, mods.Select(ModalityModule.key).ToArray(), PromptText(tok, mods),
                "<answer>" + GrammarModule.answerText(label) + "</answer>", s.Label, s.Domain, s.Attack));
        }
        return items;
    }

    private static JsonArray Strings(IEnumerable<string> xs) => new(xs.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray());

    private static string Tokens(ExportItem it) => string.Concat(Enumerable.Repeat(ImageToken, it.Images.Count));

    /// <summary>The JSON object of one item in the given format and kind.</summary>
    public static JsonObject Line(string format, string kind, ExportItem it)
    {
        var why = Unsupported(format, kind);
        if (why != null) throw new ArgumentException(why);
        var meta = new JsonObject
        {
            ["sample_id"] = it.SampleId, ["modalities"] = Strings(it.Modalities), ["true_label"] = Strings(it.TrueLabel),
            ["domain"] = it.Domain, ["attack"] = it.Attack,
        };
        JsonObject o;
        switch (format)
        {
            case "trl":
            {
                // TRL vision datasets: "images" + conversational messages whose user content has one {"type": "image"}
                // part per image, in the order of "images".
                JsonArray UserContent()
                {
                    var parts = new JsonArray();
                    foreach (var _ in it.Images) parts.Add(new JsonObject { ["type"] = "image" });
                    parts.Add(new JsonObject { ["type"] = "text", ["text"] = it.Prompt });
                    return parts;
                }
                var user = new JsonObject { ["role"] = "user", ["content"] = UserContent() };
                o = new JsonObject { ["id"] = it.Id, ["images"] = Strings(it.Images) };
                if (kind == "sft")
                    o["messages"] = new JsonArray(user, new JsonObject
                    {
                        ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = it.Target }),
                    });
                else
                {
                    // GRPO: a conversational prompt-only row; extra columns reach the reward functions as keyword arguments.
                    o["prompt"] = new JsonArray(user);
                    o["solution"] = it.Target;
                }
                break;
            }
            case "llava":
                o = new JsonObject
                {
                    ["id"] = it.Id, ["image"] = Strings(it.Images),
                    ["conversations"] = new JsonArray(
                        new JsonObject { ["from"] = "human", ["value"] = string.Concat(Enumerable.Repeat(ImageToken + "\n", it.Images.Count)) + it.Prompt },
                        new JsonObject { ["from"] = "gpt", ["value"] = it.Target }),
                };
                break;
            case "sharegpt":
                o = new JsonObject
                {
                    ["messages"] = new JsonArray(
                        new JsonObject { ["role"] = "user", ["content"] = Tokens(it) + it.Prompt },
                        new JsonObject { ["role"] = "assistant", ["content"] = it.Target }),
                    ["images"] = Strings(it.Images),
                    ["id"] = it.Id,
                };
                break;
            default: // vlm-r1 (grpo)
                o = new JsonObject
                {
                    ["id"] = it.Id, ["image"] = Strings(it.Images),
                    ["conversations"] = new JsonArray(
                        new JsonObject { ["from"] = "human", ["value"] = Tokens(it) + it.Prompt },
                        new JsonObject { ["from"] = "gpt", ["value"] = it.Target }),
                    // R1-V style columns.
                    ["problem"] = it.Prompt, ["solution"] = it.Target,
                };
                break;
        }
        o["pafas"] = meta;
        return o;
    }

    /// <summary>The file an export writes: <paramref name="out"/> itself when it ends in .jsonl, else
    /// &lt;out&gt;/&lt;format&gt;-&lt;kind&gt;.jsonl.</summary>
    public static string OutFile(string @out, string format, string kind) =>
        @out.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? @out : Path.Combine(@out, $"{format}-{kind}.jsonl");

    /// <summary>Reads <paramref name="data"/> (chains for sft, a manifest for grpo) and writes the JSONL (and, for
    /// sharegpt, a LLaMA-Factory dataset_info.json beside it).</summary>
    public static ExportDataResult Write(string format, string kind, string data, string root, string @out, Grammar g)
    {
        var why = Unsupported(format, kind);
        if (why != null) throw new ArgumentException(why);
        var tok = Tokenizer.Build(g);
        int skipped = 0;
        var items = kind == "sft" ? FromChains(data, root, tok) : FromManifest(data, root, g, tok, out skipped);
        if (items.Count == 0) throw new InvalidDataException($"{data}: nothing to export");
        var file = OutFile(@out, format, kind);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var sb = new StringBuilder();
        var plain = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        foreach (var it in items) sb.Append(Line(format, kind, it).ToJsonString(plain)).Append('\n');
        AtomicFile.WriteAllText(file, sb.ToString());
        string? info = null;
        if (format == "sharegpt")
        {
            info = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "dataset_info.json");
            var entry = new JsonObject
            {
                [LlamaFactoryName] = new JsonObject
                {
                    ["file_name"] = Path.GetFileName(file),
                    ["formatting"] = "sharegpt",
                    ["columns"] = new JsonObject { ["messages"] = "messages", ["images"] = "images" },
                    ["tags"] = new JsonObject
                    {
                        ["role_tag"] = "role", ["content_tag"] = "content", ["user_tag"] = "user", ["assistant_tag"] = "assistant",
                    },
                },
            };
            AtomicFile.WriteAllText(info, entry.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        return new ExportDataResult(file, items.Count, skipped, info);
    }
}
