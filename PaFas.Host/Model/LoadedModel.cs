using PaFas.Host.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>Raw model output for a batch of faces: the greedy completions' texts and their live scores.</summary>
public sealed record RawOutput(string[] Texts, double[] LiveScores);

/// <summary>A checkpoint loaded for inference: greedy chains + live scores for faces.</summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(PaFasModel model, Tokenizer tok, CheckpointMeta meta, Device dev)
    {
        Model = model; Tokenizer = tok; Meta = meta; Device = dev;
    }

    public PaFasModel Model { get; }
    public Tokenizer Tokenizer { get; }
    public CheckpointMeta Meta { get; }
    public Device Device { get; }
    public ModelConfig Config => Model.Config;

    /// <summary>Loads and verifies a checkpoint folder (see <see cref="Checkpoint.Load"/>).</summary>
    public static LoadedModel Load(string checkpointDir, Device dev)
    {
        var (m, tok, meta) = Checkpoint.Load(checkpointDir, dev);
        return new LoadedModel(m, tok, meta, dev);
    }

    /// <summary>Wraps an in-memory model (e.g. during training).</summary>
    public static LoadedModel From(PaFasModel m, Tokenizer tok, CheckpointMeta meta) => new(m, tok, meta, m.Device);

    /// <summary>Greedy completions (at most <paramref name="maxNewTokens"/> tokens) and live scores, in one batch.</summary>
    public RawOutput Run(IReadOnlyList<FaceTensors> faces, int maxNewTokens)
    {
        if (faces.Count == 0) return new RawOutput(Array.Empty<string>(), Array.Empty<double>());
        using var scope = torch.NewDisposeScope();
        using var images = VisionBatch.From(faces, Device);
        var prompts = faces.Select(f => Prompt.Encode(Tokenizer, f)).ToList();
        var gen = Generator.Generate(Model, Tokenizer, images, prompts, new GenerationOptions(MaxNewTokens: maxNewTokens));
        var scores = LiveScore.Compute(Model, Tokenizer, images, prompts, gen.Completions);
        return new RawOutput(gen.Texts, scores);
    }

    public void Dispose() => Model.Dispose();
}
