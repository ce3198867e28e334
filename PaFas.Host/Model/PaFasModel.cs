using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PaFas.Host.Model;

/// <summary>The PA-FAS vision-language model: <see cref="VisionEncoder"/> gives a visual prefix, followed by the
/// prompt and completion tokens, read by a decoder-only transformer in the Qwen2/Llama style (RMSNorm, rotary
/// positions, SwiGLU, grouped-query attention, optional tied embeddings). Visual tokens attend to each other
/// bidirectionally; text attends causally to the visual prefix and earlier text; padding is masked. Position
/// ids count only real tokens, so left and right padding give the same outputs.</summary>
public sealed class PaFasModel : nn.Module
{
    private readonly VisionEncoder vision;
    private readonly Embedding embed;
    private readonly ModuleList<Block> layers;
    private readonly RmsNorm norm;
    private readonly Linear? head;

    /// <summary>Builds a model with deterministic initial weights (normal, std 0.02, from <paramref name="seed"/>).</summary>
    public PaFasModel(ModelConfig cfg, int vocabSize, long seed = 0) : base("PaFasModel")
    {
        TorchRuntime.EnsureLoaded();
        Config = cfg.Validate();
        if (vocabSize <= Tokenizer.Specials.Length) throw new ArgumentException($"vocabulary size {vocabSize} is too small");
        VocabSize = vocabSize;
        vision = new VisionEncoder(cfg);
        embed = nn.Embedding(vocabSize, cfg.Dim);
        layers = new ModuleList<Block>();
        for (int i = 0; i < cfg.Layers; i++)
            layers.Add(new Block(cfg.Dim, cfg.Heads, cfg.KvHeads, cfg.MlpHidden, cfg.NormEps));
        norm = new RmsNorm(cfg.Dim, cfg.NormEps);
        register_module("vision", vision);
        register_module("embed", embed);
        register_module("layers", layers);
        register_module("norm", norm);
        if (!cfg.TieEmbeddings)
        {
            head = nn.Linear(cfg.Dim, vocabSize, hasBias: false);
            register_module("head", head);
        }
        Initialize(seed);
    }

    public ModelConfig Config { get; }
    public int VocabSize { get; }

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>The device of the weights.</summary>
    public Device Device
    {
        get
        {
            using var scope = torch.NewDisposeScope();   // the weight getter may hand out a new wrapper
            return embed.weight!.device;
        }
    }

    private void Initialize(long seed)
    {
        using var _ = torch.no_grad();
        var gen = new torch.Generator((ulong)seed);
        int depth = Config.Layers + Config.VisionLayers;
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight")) p.fill_(1.0);
            else if (name.EndsWith(".bias")) p.zero_();
            else
            {
                var std = name.EndsWith("wo.weight") || name.EndsWith("down.weight") ? 0.02 / Math.Sqrt(2.0 * Math.Max(1, depth)) : 0.02;
                nn.init.normal_(p, 0.0, std, gen);
            }
        }
    }

    /// <summary>Logits over the text positions: tokens int64 [B,T] (right- or left-padded with Pad), attention
    /// bool [B,T] (true = real token; null = all real) -> [B,T,V], where logits[:,t] predicts tokens[:,t+1].</summary>
    public Tensor Logits(VisionBatch images, Tensor tokens, Tensor? attention = null) => Forward(images, tokens, attention, null);

    /// <summary>A cache for <paramref name="batch"/> sequences of up to <paramref name="capacity"/> positions
    /// (visual prefix included; at most <see cref="ModelConfig.MaxSeq"/>).</summary>
    public KvCache NewCache(int batch, int capacity)
    {
        if (capacity > Config.MaxSeq)
            throw new ArgumentException($"cache capacity {capacity} exceeds MaxSeq {Config.MaxSeq}");
        using var scope = torch.NewDisposeScope();
        var dev = Device;
        var dt = embed.weight!.dtype;
        var k = new Tensor[Config.Layers];
        var v = new Tensor[Config.Layers];
        for (int i = 0; i < Config.Layers; i++)
        {
            k[i] = torch.zeros(new long[] { batch, Config.KvHeads, capacity, Config.HeadDim }, dtype: dt, device: dev).DetachFromDisposeScope();
            v[i] = torch.zeros(new long[] { batch, Config.KvHeads, capacity, Config.HeadDim }, dtype: dt, device: dev).DetachFromDisposeScope();
        }
        var valid = torch.zeros(new long[] { batch, capacity }, dtype: ScalarType.Bool, device: dev).DetachFromDisposeScope();
        return new KvCache(k, v, valid, capacity);
    }

    /// <summary>The forward pass. Without a cache (or with an empty one) it prefills: images are required and
    /// the visual prefix comes first. With a filled cache, <paramref name="tokens"/> continue every sequence
    /// (images are ignored). Returns logits over the given text positions [B,T,V].</summary>
    public Tensor Forward(VisionBatch? images, Tensor tokens, Tensor? attention, KvCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        var cfg = Config;
        long b = tokens.shape[0], t = tokens.shape[1];
        int vn = cfg.VisualTokens;
        var dev = Device;
        attention ??= torch.ones(new long[] { b, t }, dtype: ScalarType.Bool, device: dev);
        if (attention.dtype != ScalarType.Bool) attention = attention.to_type(ScalarType.Bool);
        bool prefill = cache is null || cache.Length == 0;
        var x = embed.forward(tokens);
        Tensor keyValidNew, positions;
        int offset;
        if (prefill)
        {
            if (images is null) throw new ArgumentException("the first forward pass needs the images");
            if (images.Count != b) throw new ArgumentException($"{images.Count} faces but {b} token sequences");
            var vis = vision.forward(images).to_type(x.dtype);
            x = torch.cat(new[] { vis, x }, 1);
            keyValidNew = torch.cat(new[] { torch.ones(new long[] { b, vn }, dtype: ScalarType.Bool, device: dev), attention }, 1);
            using var offsetS = ((long)(vn - 1)).ToScalar();
            var textPos = Ops.Add(torch.cumsum(attention.to_type(ScalarType.Int64), 1), offsetS);
            positions = torch.cat(new[] { torch.arange(vn, dtype: ScalarType.Int64, device: dev).unsqueeze(0).expand(b, vn), textPos }, 1);
            offset = 0;
        }
        else
        {
            if (cache!.K[0].shape[0] != b) throw new ArgumentException($"the cache holds {cache.K[0].shape[0]} sequences, got {b}");
            keyValidNew = attention;
            positions = Ops.Add(cache.LastPos!.unsqueeze(1), torch.cumsum(attention.to_type(ScalarType.Int64), 1));
            offset = cache.Length;
        }
        long s = x.shape[1];
        int total = offset + (int)s;
        if (total > cfg.MaxSeq)
            throw new ArgumentException($"sequence of {total} positions ({vn} visual + text) exceeds MaxSeq {cfg.MaxSeq}");
        if (cache is not null && total > cache.Capacity)
            throw new ArgumentException($"sequence of {total} positions exceeds the cache capacity {cache.Capacity}");

        Tensor keyValid;
        if (cache is not null)
        {
            cache.KeyValid.narrow(1, offset, s).copy_(keyValidNew);
            keyValid = cache.KeyValid.narrow(1, 0, total);
        }
        else keyValid = keyValidNew;
        Tensor mask;
        if (s == 1 && offset >= vn)
            mask = keyValid.unsqueeze(1).unsqueeze(1);     // [B,1,1,L]: one new text position may see every earlier one
        else
        {
            var qi = torch.arange(offset, total, dtype: ScalarType.Int64, device: dev).unsqueeze(1);   // [S,1]
            var kj = torch.arange(total, dtype: ScalarType.Int64, device: dev).unsqueeze(0);          // [1,L]
            var allowed = kj.le(qi).logical_or(kj.lt(vn));                                          // [S,L]
            mask = allowed.unsqueeze(0).unsqueeze(0).logical_and(keyValid.unsqueeze(1).unsqueeze(1)); // [B,1,S,L]
        }

        var (cos, sin) = Rope.Tables(positions, cfg.HeadDim, cfg.RopeTheta);
        for (int i = 0; i < layers.Count; i++)
            x = layers[i].Forward(x, cos, sin, mask, cache?.K[i], cache?.V[i], offset);
        if (cache is not null)
        {
            cache.Length = total;
            cache.LastPos?.Dispose();
            cache.LastPos = positions.select(1, -1).clone().DetachFromDisposeScope();
        }
        var text = norm.forward(x.narrow(1, s - t, t));
        var logits = head is null ? F.linear(text, embed.weight!) : head.forward(text);
        return logits.MoveToOuterDisposeScope();
    }
}

/// <summary>Tensor additions with an explicit, never-finalized alpha. TorchSharp's <c>a + b</c> and <c>add(x)</c> pass an implicitly
/// created Scalar alpha = 1 that the GC may finalize while libtorch still reads it; under concurrent load that
/// surfaced as a libtorch "toFloat" error in 8-thread prediction.</summary>
internal static class Ops
{
    private static readonly Scalar One = 1.ToScalar();

    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a + s; TorchSharp's one-argument <c>add(Scalar)</c> also creates an implicit alpha.</summary>
    public static Tensor Add(Tensor a, Scalar s) => a.add(s, One);

    public static Tensor Sub(Tensor a, Tensor b)
    {
        using var nb = b.neg();
        return a.add(nb, One);
    }
}
