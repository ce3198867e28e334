using PaFas.Host.Model;

namespace PaFas.Host.Data;

/// <summary>One face of the pretraining stream: the model's input and what the renderer actually drew (no label
/// leaves this record: the leaf is kept only for reports).</summary>
public sealed record StreamFace(long Index, FaceTensors Face, IReadOnlyList<string> Cues, DomainSpec Sensor, int RenderSize, string Leaf);

/// <summary>An unlimited stream of faces rendered on the fly by the synthetic world, each under a camera drawn from
/// <see cref="SensorRanges"/> and at a drawn resolution, then quantised and resized exactly as a written world is
/// loaded (<see cref="SyntheticWorld.ToFace"/>). Face i depends only on (seed, i): deterministic, resumable, and the
/// same in any order or thread count.</summary>
public sealed class PerceptionStream
{
    public PerceptionStream(SensorRanges ranges, int seed, int imageSize)
    {
        if (imageSize < 16) throw new ArgumentException($"image size {imageSize} is too small (at least 16)");
        Ranges = ranges; Seed = seed; ImageSize = imageSize;
    }

    public SensorRanges Ranges { get; }
    public int Seed { get; }
    public int ImageSize { get; }

    /// <summary>Face number <paramref name="index"/> of the stream.</summary>
    public StreamFace At(long index)
    {
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index));
        // two 31-bit halves of the index, so every long index has its own seed
        var rng = new Random(SyntheticWorld.SampleSeed(SyntheticWorld.SampleSeed(Seed, "pretrain", (int)(index & 0x7fffffff)), "hi", (int)(index >> 31)));
        var sensor = Ranges.Draw(rng);
        var leaf = Ranges.DrawLeaf(rng);
        int size = (int)Math.Round(Ranges.Resolution.Draw(rng));
        var r = SyntheticWorld.Render(sensor, leaf, size, rng.Next(), $"R_{index:D9}");
        return new StreamFace(index, SyntheticWorld.ToFace(r, ImageSize), r.Cues, sensor, size, leaf);
    }

    /// <summary>Faces [first, first + count) rendered in parallel (<paramref name="threads"/> 0 = all cores), in order.</summary>
    public StreamFace[] Range(long first, int count, int threads)
    {
        var result = new StreamFace[count];
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, count, po, i => result[i] = At(first + i));
        return result;
    }
}
