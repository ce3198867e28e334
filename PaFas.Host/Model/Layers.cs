using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PaFas.Host.Model;

/// <summary>Root-mean-square layer norm (no mean subtraction, no bias), computed in float32.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private static readonly long[] LastDim = { -1 };
    private readonly Parameter weight;
    // Scalars are held explicitly: an implicitly converted Scalar can be finalized by the GC while libtorch still
    // reads it (seen as a libtorch "toFloat" error under load). This one lives as long as the module.
    private readonly Scalar _eps;

    public RmsNorm(long dim, double eps) : base("RmsNorm")
    {
        _eps = eps.ToScalar();
        weight = nn.Parameter(torch.ones(dim));
        register_parameter("weight", weight);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        bool f32 = x.dtype == ScalarType.Float32;   // the usual case: no conversions (each is a native call)
        var xf = f32 ? x : x.to_type(ScalarType.Float32);
        var y = xf * torch.rsqrt(Ops.Add((xf * xf).mean(LastDim, keepdim: true), _eps));
        return ((f32 ? y : y.to_type(x.dtype)) * weight).MoveToOuterDisposeScope();
    }
}

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class SwiGlu : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate, up, down;

    public SwiGlu(long dim, long hidden) : base("SwiGlu")
    {
        gate = nn.Linear(dim, hidden, hasBias: false);
        up = nn.Linear(dim, hidden, hasBias: false);
        down = nn.Linear(hidden, dim, hasBias: false);
        register_module("gate", gate);
        register_module("up", up);
        register_module("down", down);
    }

    public override Tensor forward(Tensor x) => down.forward(F.silu(gate.forward(x)) * up.forward(x));
}

/// <summary>Multi-head attention with grouped key/value heads, optional rotary embeddings and an optional
/// preallocated key/value cache.</summary>
public sealed class Attention : nn.Module
{
    private readonly Linear wq, wk, wv, wo;
    private readonly int _heads, _kvHeads, _headDim;

    public Attention(int dim, int heads, int kvHeads) : base("Attention")
    {
        _heads = heads; _kvHeads = kvHeads; _headDim = dim / heads;
        wq = nn.Linear(dim, heads * _headDim, hasBias: false);
        wk = nn.Linear(dim, kvHeads * _headDim, hasBias: false);
        wv = nn.Linear(dim, kvHeads * _headDim, hasBias: false);
        wo = nn.Linear(heads * _headDim, dim, hasBias: false);
        register_module("wq", wq);
        register_module("wk", wk);
        register_module("wv", wv);
        register_module("wo", wo);
    }

    /// <param name="x">[B,S,D]</param>
    /// <param name="cos">[B,1,S,hd] or null (no rotary embedding)</param>
    /// <param name="sin">[B,1,S,hd] or null</param>
    /// <param name="mask">bool [B,1,S,L] (true = may attend) or null (full attention)</param>
    /// <param name="kCache">[B,KvH,Cap,hd] buffer written at [offset, offset+S), or null</param>
    /// <param name="vCache">same for values</param>
    /// <param name="offset">where the S new positions go in the cache</param>
    public Tensor Forward(Tensor x, Tensor? cos, Tensor? sin, Tensor? mask, Tensor? kCache, Tensor? vCache, int offset)
    {
        long b = x.shape[0], s = x.shape[1];
        var q = wq.forward(x).view(b, s, _heads, _headDim).transpose(1, 2);
        var k = wk.forward(x).view(b, s, _kvHeads, _headDim).transpose(1, 2);
        var v = wv.forward(x).view(b, s, _kvHeads, _headDim).transpose(1, 2);
        if (cos is not null && sin is not null)
        {
            q = Rope.Apply(q, cos, sin);
            k = Rope.Apply(k, cos, sin);
        }
        if (kCache is not null && vCache is not null)
        {
            kCache.narrow(2, offset, s).copy_(k);
            vCache.narrow(2, offset, s).copy_(v);
            k = kCache.narrow(2, 0, offset + s);
            v = vCache.narrow(2, 0, offset + s);
        }
        Tensor o;
        if (_heads != _kvHeads)
        {
            // Grouped-query attention without copying keys and values per query head: query head h uses key/value
            // head h / rep, so the rep query heads of a group are stacked as rep x S rows of one head
            // [B, KvH, rep S, hd] (a view when q is contiguous, as after the rotary embedding), with the mask rows
            // tiled to match. Each row's attention is the same as with repeat_interleave'd keys and values.
            int rep = _heads / _kvHeads;
            var qg = q.reshape(b, _kvHeads, rep * s, _headDim);
            var mg = mask is null || mask.shape[2] == 1 ? mask : mask.repeat(1, 1, rep, 1);
            o = F.scaled_dot_product_attention(qg, k, v, mg).reshape(b, _heads, s, _headDim);
        }
        else o = F.scaled_dot_product_attention(q, k, v, mask);
        return wo.forward(o.transpose(1, 2).reshape(b, s, _heads * _headDim));
    }
}

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x)).</summary>
public sealed class Block : nn.Module
{
    private readonly RmsNorm attnNorm, mlpNorm;
    private readonly Attention attn;
    private readonly SwiGlu mlp;

    public Block(int dim, int heads, int kvHeads, int hidden, double eps) : base("Block")
    {
        attnNorm = new RmsNorm(dim, eps);
        attn = new Attention(dim, heads, kvHeads);
        mlpNorm = new RmsNorm(dim, eps);
        mlp = new SwiGlu(dim, hidden);
        register_module("attn_norm", attnNorm);
        register_module("attn", attn);
        register_module("mlp_norm", mlpNorm);
        register_module("mlp", mlp);
    }

    public Tensor Forward(Tensor x, Tensor? cos, Tensor? sin, Tensor? mask, Tensor? kCache, Tensor? vCache, int offset)
    {
        var h = Ops.Add(x, attn.Forward(attnNorm.forward(x), cos, sin, mask, kCache, vCache, offset));
        return Ops.Add(h, mlp.forward(mlpNorm.forward(h)));
    }
}

/// <summary>Rotary position embeddings (half-rotation form, as in Llama/Qwen2).</summary>
public static class Rope
{
    /// <summary>cos and sin [B,1,S,headDim] for int64 positions [B,S].</summary>
    public static (Tensor Cos, Tensor Sin) Tables(Tensor positions, int headDim, double theta)
    {
        var inv = new float[headDim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = (float)Math.Pow(theta, -2.0 * i / headDim);
        var invFreq = torch.tensor(inv, device: positions.device);
        var freqs = positions.to_type(ScalarType.Float32).unsqueeze(-1) * invFreq;      // [B,S,hd/2]
        var emb = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);                   // [B,1,S,hd]
        return (emb.cos(), emb.sin());
    }

    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = torch.cat(new[] { -x2, x1 }, -1);
        if (cos.dtype != x.dtype) { cos = cos.to_type(x.dtype); sin = sin.to_type(x.dtype); }
        return Ops.Add(x * cos, rotated * sin);
    }
}

/// <summary>Vision side: per-modality patch-embedding stems (RGB 3 channels, depth 1, IR 1) with learned
/// position and modality embeddings; a learned "absent" embedding (<see cref="ModelConfig.AbsentTokens"/>
/// tokens tiled over the patch slots) replaces a missing modality per sample; bidirectional transformer
/// blocks over all visual tokens; an MLP projector into the language model's width.</summary>
public sealed class VisionEncoder : nn.Module<VisionBatch, Tensor>
{
    private static readonly int[] Channels = { 3, 1, 1 };
    private static readonly string[] Names = { "rgb", "depth", "ir" };
    private readonly ModelConfig _cfg;
    private readonly Conv2d[] stems;
    private readonly Parameter[] pos;
    private readonly Parameter modality, absent;
    private readonly ModuleList<Block> blocks;
    private readonly RmsNorm norm;
    private readonly Linear proj1, proj2;

    public VisionEncoder(ModelConfig cfg) : base("VisionEncoder")
    {
        _cfg = cfg;
        int vd = cfg.VisionDim, np = cfg.PatchesPerModality;
        stems = new Conv2d[3];
        pos = new Parameter[3];
        for (int m = 0; m < 3; m++)
        {
            stems[m] = nn.Conv2d(Channels[m], vd, cfg.PatchSize, stride: cfg.PatchSize);
            register_module("stem_" + Names[m], stems[m]);
            pos[m] = nn.Parameter(torch.zeros(np, vd));
            register_parameter("pos_" + Names[m], pos[m]);
        }
        modality = nn.Parameter(torch.zeros(3, vd));
        register_parameter("modality", modality);
        absent = nn.Parameter(torch.zeros(3, cfg.AbsentTokens, vd));
        register_parameter("absent", absent);
        blocks = new ModuleList<Block>();
        for (int i = 0; i < cfg.VisionLayers; i++)
            blocks.Add(new Block(vd, cfg.VisionHeads, cfg.VisionHeads, cfg.VisionMlpHidden, cfg.NormEps));
        register_module("blocks", blocks);
        norm = new RmsNorm(vd, cfg.NormEps);
        register_module("norm", norm);
        proj1 = nn.Linear(vd, cfg.Dim);
        proj2 = nn.Linear(cfg.Dim, cfg.Dim);
        register_module("proj1", proj1);
        register_module("proj2", proj2);
    }

    /// <summary>Visual prefix [B, VisualTokens, Dim].</summary>
    public override Tensor forward(VisionBatch images)
    {
        if (images.Size != _cfg.ImageSize)
            throw new ArgumentException($"images are {images.Size}x{images.Size}, the model expects {_cfg.ImageSize}x{_cfg.ImageSize}");
        int np = _cfg.PatchesPerModality;
        using var absentS = ((long)_cfg.AbsentTokens).ToScalar();
        var slots = torch.arange(np, dtype: ScalarType.Int64, device: images.Device).remainder(absentS);
        var parts = new Tensor[3];
        for (int m = 0; m < 3; m++)
        {
            var img = images.Images(m).to_type(stems[m].weight!.dtype);
            var t = Ops.Add(stems[m].forward(img).flatten(2).transpose(1, 2), pos[m]);        // [B,Np,VD]
            var a = Ops.Add(absent[m].index_select(0, slots), pos[m]);                         // [Np,VD]
            var present = images.Present.select(1, m).view(-1, 1, 1);                          // [B,1,1]
            parts[m] = Ops.Add(torch.where(present, t, a.unsqueeze(0).expand_as(t)), modality[m]);
        }
        var x = torch.cat(parts, 1);
        foreach (var b in blocks) x = b.Forward(x, null, null, null, null, null, 0);
        return proj2.forward(F.gelu(proj1.forward(norm.forward(x))));
    }
}

/// <summary>Preallocated key/value cache for generation: per layer [B, KvHeads, Capacity, HeadDim], the
/// validity of every cached position (false = padding) and each sample's last position id.</summary>
public sealed class KvCache : IDisposable
{
    internal KvCache(Tensor[] k, Tensor[] v, Tensor keyValid, int capacity)
    {
        K = k; V = v; KeyValid = keyValid; Capacity = capacity;
    }

    internal Tensor[] K { get; }
    internal Tensor[] V { get; }
    internal Tensor KeyValid { get; }
    internal Tensor? LastPos { get; set; }
    /// <summary>Positions filled so far (visual prefix + text).</summary>
    public int Length { get; internal set; }
    public int Capacity { get; }

    public void Dispose()
    {
        foreach (var t in K) t.Dispose();
        foreach (var t in V) t.Dispose();
        KeyValid.Dispose();
        LastPos?.Dispose();
    }
}
