using PaFas.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>A batch of faces as tensors on a device: RGB [B,3,S,S], depth [B,1,S,S], IR [B,1,S,S] (zeros where
/// absent; the model never looks at those zeros) and <see cref="Present"/> bool [B,3] (RGB, depth, IR).
/// Owns its tensors.</summary>
public sealed class VisionBatch : IDisposable
{
    private VisionBatch(Tensor rgb, Tensor depth, Tensor ir, Tensor present, int size)
    {
        Rgb = rgb; Depth = depth; Ir = ir; Present = present; Size = size;
    }

    public Tensor Rgb { get; }
    public Tensor Depth { get; }
    public Tensor Ir { get; }
    /// <summary>bool [B,3]: whether RGB, depth, IR are present per sample.</summary>
    public Tensor Present { get; }
    /// <summary>Image side.</summary>
    public int Size { get; }
    public int Count => (int)Rgb.shape[0];
    public Device Device => Rgb.device;

    /// <summary>The images of one modality (index 0 RGB, 1 depth, 2 IR).</summary>
    public Tensor Images(int modality) => modality switch { 0 => Rgb, 1 => Depth, 2 => Ir, _ => throw new ArgumentOutOfRangeException(nameof(modality)) };

    /// <summary>Stacks faces (all of the same size) into tensors on <paramref name="dev"/>.</summary>
    public static VisionBatch From(IReadOnlyList<FaceTensors> faces, Device dev)
    {
        if (faces.Count == 0) throw new ArgumentException("a vision batch needs at least one face");
        TorchRuntime.EnsureLoaded();
        int s = faces[0].Size, n = faces.Count, px = s * s;
        for (int i = 1; i < n; i++)
            if (faces[i].Size != s) throw new ArgumentException($"face {i} is {faces[i].Size}x{faces[i].Size}, face 0 is {s}x{s}");
        var rgb = new float[n * 3 * px];
        var depth = new float[n * px];
        var ir = new float[n * px];
        var present = new bool[n * 3];
        for (int i = 0; i < n; i++)
        {
            var f = faces[i];
            if (f.Rgb != null) { Array.Copy(f.Rgb, 0, rgb, i * 3 * px, 3 * px); present[i * 3] = true; }
            if (f.Depth != null) { Array.Copy(f.Depth, 0, depth, i * px, px); present[i * 3 + 1] = true; }
            if (f.Ir != null) { Array.Copy(f.Ir, 0, ir, i * px, px); present[i * 3 + 2] = true; }
        }
        // the batch owns its tensors: a local scope frees the host copies, the device tensors leave it
        using var scope = torch.NewDisposeScope();
        return new VisionBatch(
            torch.tensor(rgb, new long[] { n, 3, s, s }).to(dev).DetachFromDisposeScope(),
            torch.tensor(depth, new long[] { n, 1, s, s }).to(dev).DetachFromDisposeScope(),
            torch.tensor(ir, new long[] { n, 1, s, s }).to(dev).DetachFromDisposeScope(),
            torch.tensor(present, new long[] { n, 3 }).to(dev).DetachFromDisposeScope(),
            s);
    }

    /// <summary>A new batch with the given rows (e.g. each face repeated G times for GRPO groups).</summary>
    public VisionBatch Select(IReadOnlyList<int> rows)
    {
        using var scope = torch.NewDisposeScope();
        var idx = torch.tensor(rows.Select(r => (long)r).ToArray(), dtype: ScalarType.Int64, device: Device);
        return new VisionBatch(
            Rgb.index_select(0, idx).DetachFromDisposeScope(),
            Depth.index_select(0, idx).DetachFromDisposeScope(),
            Ir.index_select(0, idx).DetachFromDisposeScope(),
            Present.index_select(0, idx).DetachFromDisposeScope(),
            Size);
    }

    /// <summary>Each face repeated <paramref name="times"/> times in a row (rows i*times .. i*times+times-1).</summary>
    public VisionBatch Repeat(int times) =>
        Select(Enumerable.Range(0, Count).SelectMany(i => Enumerable.Repeat(i, times)).ToList());

    public void Dispose()
    {
        Rgb.Dispose(); Depth.Dispose(); Ir.Dispose(); Present.Dispose();
    }
}
