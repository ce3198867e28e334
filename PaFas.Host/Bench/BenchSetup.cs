using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Inference;
using PaFas.Host.Model;
using PaFas.Host.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Bench;

/// <summary>What the model benchmarks share: the config (a preset, or the checkpoint's when one is given), the
/// tokenizer, the device, faces of the synthetic world at the model's image size, and a typical training sequence
/// (prompt + a chain of about 130 completion tokens + EOS, the length of the demo pipeline's chains).</summary>
public sealed class BenchSetup
{
    /// <summary>Seven clauses in the style of the reasoning chains; with the answer they make about 130 completion tokens.</summary>
    private const string Clause = "In the depth map the face region is flat with no facial relief. This points to Spoof Face.";

    public BenchSetup(string preset, string checkpoint, string manifest, int seed, Device dev, int faces = 32)
    {
        Device = dev;
        Seed = seed;
        Checkpoint = string.IsNullOrEmpty(checkpoint) ? "" : CheckpointFolder.Resolve(checkpoint);
        if (Checkpoint != "")
        {
            var (m, tok, _) = Model.Checkpoint.Load(Checkpoint, dev);
            Config = m.Config; Tokenizer = tok;
            m.Dispose();
        }
        else
        {
            Config = ModelConfig.Preset(preset, GrammarStore.DefaultDataDir());
            Tokenizer = Tokenizer.Build(GrammarStore.Default);
        }
        var samples = Manifest.Load(manifest).Take(faces).ToList();
        if (samples.Count < faces) throw new InvalidDataException($"{manifest}: {samples.Count} samples, the benchmarks need {faces}");
        Faces = ImageLoader.LoadBatch(samples, Config.ImageSize);
        Completion = TypicalCompletion(Tokenizer);
    }

    /// <summary>The completion tokens of the typical chain (six clauses and the answer, without EOS).</summary>
    public static int[] TypicalCompletion(Tokenizer tok) =>
        tok.Encode(GrammarModule.renderText(string.Join(" ", Enumerable.Repeat(Clause, 6)), ListModule.OfSeq(new[] { TaxonomyModule.LiveName })));

    /// <summary>Training items of the given faces: prompt + <paramref name="completion"/> + EOS each.</summary>
    public static List<TokenizedChain> TypicalChains(Tokenizer tok, IReadOnlyList<FaceTensors> faces, int[] completion) =>
        faces.Select((face, i) =>
        {
            var prompt = Prompt.Encode(tok, face);
            return new TokenizedChain(prompt.Concat(completion).Append(tok.Eos).ToArray(), prompt.Length, $"bench{i}", face);
        }).ToList();

    public ModelConfig Config { get; }
    public Tokenizer Tokenizer { get; }
    public Device Device { get; }
    public int Seed { get; }
    /// <summary>The checkpoint folder in use ("" = fresh weights of the preset).</summary>
    public string Checkpoint { get; }
    public IReadOnlyList<FaceTensors> Faces { get; }
    /// <summary>The completion tokens of the typical chain (without EOS).</summary>
    public int[] Completion { get; }

    /// <summary>The model: the checkpoint's weights, or fresh ones from the seed.</summary>
    public PaFasModel NewModel()
    {
        if (Checkpoint != "") return Model.Checkpoint.Load(Checkpoint, Device).Model;
        var m = new PaFasModel(Config, Tokenizer.VocabSize, Seed);
        m.to(Device);
        return m;
    }

    /// <summary>Training items for the first <paramref name="batch"/> faces: prompt + typical completion + EOS (all of one length).</summary>
    public List<TokenizedChain> Chains(int batch) =>
        TypicalChains(Tokenizer, Enumerable.Range(0, batch).Select(i => Faces[i % Faces.Count]).ToList(), Completion);

    /// <summary>Text tokens per training sequence (prompt + completion + EOS); every face of the world has all three modalities.</summary>
    public int TextTokens => Chains(1)[0].Tokens.Length;

    /// <summary>A checkpoint folder to load from: the given one, or the fresh model written under <paramref name="tmp"/>.</summary>
    public string CheckpointOrFresh(string tmp)
    {
        if (Checkpoint != "") return Checkpoint;
        var dir = Path.Combine(tmp, "fresh-" + Config.Name);
        if (!File.Exists(Path.Combine(dir, Model.Checkpoint.MetaFile)))
        {
            using var m = NewModel();
            Model.Checkpoint.Save(dir, m, Tokenizer, CheckpointMeta.Now("sft", 0));
        }
        return dir;
    }
}
