using PaFas.Core;

namespace PaFas.Host.Model;

/// <summary>Decoded, resized images of one face, ready for the model. Pixel values are floats in [0, 1],
/// channel-first: RGB is 3 x S x S, depth and IR are 1 x S x S. A missing modality is null (the model uses
/// its learned "absent" embedding), never a black image.</summary>
public sealed class FaceTensors
{
    public FaceTensors(int size, float[]? rgb, float[]? depth, float[]? ir)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size));
        if (rgb != null && rgb.Length != 3 * size * size) throw new ArgumentException($"RGB must have 3x{size}x{size} values, got {rgb.Length}");
        if (depth != null && depth.Length != size * size) throw new ArgumentException($"depth must have {size}x{size} values, got {depth.Length}");
        if (ir != null && ir.Length != size * size) throw new ArgumentException($"IR must have {size}x{size} values, got {ir.Length}");
        if (rgb == null && depth == null && ir == null) throw new ArgumentException("a face needs at least one modality");
        CheckFinite(rgb, "RGB"); CheckFinite(depth, "depth"); CheckFinite(ir, "IR");
        Size = size; Rgb = rgb; Depth = depth; Ir = ir;
    }

    /// <summary>NaN or infinite pixels would flow through the model into NaN scores; refused here, where every
    /// face passes (decoded files cannot produce them: PNG/JPEG samples are integers, scaled and resized with
    /// finite weights; tensors built by callers can).</summary>
    private static void CheckFinite(float[]? v, string name)
    {
        if (v == null) return;
        for (int i = 0; i < v.Length; i++)
            if (!float.IsFinite(v[i])) throw new ArgumentException($"{name} value {i} is {v[i]}; pixel values must be finite");
    }

    public int Size { get; }
    public float[]? Rgb { get; }
    public float[]? Depth { get; }
    public float[]? Ir { get; }

    /// <summary>The modalities present (never empty: the constructor refuses a face without any).</summary>
    public Availability Availability => AvailabilityModule.ofPresence(Rgb != null, Depth != null, Ir != null).ResultValue;

    /// <summary>Whether the modality is present.</summary>
    public bool Has(Modality m) => AvailabilityModule.has(m, Availability);

    /// <summary>The same face with some modalities removed (Protocol 2).</summary>
    public FaceTensors Drop(IEnumerable<Modality> drop)
    {
        var d = drop.ToHashSet();
        return new FaceTensors(Size, d.Contains(Modality.Rgb) ? null : Rgb, d.Contains(Modality.Depth) ? null : Depth, d.Contains(Modality.Ir) ? null : Ir);
    }
}
