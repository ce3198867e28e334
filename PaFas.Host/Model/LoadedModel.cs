using static TorchSharp.torch;

namespace PaFas.Host.Model;

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

    /// <summary>Greedy completions (at most <paramref name="maxNewTokens"/> tokens) and live scores, all faces in
    /// one batch (<see cref="Rollouts.Run"/>).</summary>
    public Rollout[] Run(IReadOnlyList<FaceTensors> faces, int maxNewTokens) =>
        Rollouts.Run(Model, Tokenizer, faces, RolloutOptions.Greedy(maxNewTokens));

    public void Dispose() => Model.Dispose();
}
