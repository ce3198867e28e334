using System.Buffers.Binary;
using System.IO.Compression;
using StbImageWriteSharp;

namespace PaFas.Host.Data;

/// <summary>PNG encoding: 8-bit RGB and gray through StbImageWriteSharp, 16-bit gray (depth maps) with
/// zlib + CRC-32. Output is deterministic for the same pixels.</summary>
public static class PngWriter
{
    /// <summary>8-bit RGB, interleaved (HWC) bytes.</summary>
    public static byte[] EncodeRgb(byte[] rgb, int width, int height) => Encode8(rgb, width, height, 3);

    /// <summary>8-bit gray bytes.</summary>
    public static byte[] EncodeGray(byte[] gray, int width, int height) => Encode8(gray, width, height, 1);

    private static byte[] Encode8(byte[] px, int width, int height, int channels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width));
        if (px.Length != width * height * channels) throw new ArgumentException($"expected {width * height * channels} bytes, got {px.Length}");
        using var ms = new MemoryStream();
        new ImageWriter().WritePng(px, width, height, channels == 3 ? ColorComponents.RedGreenBlue : ColorComponents.Grey, ms);
        return ms.ToArray();
    }

    /// <summary>16-bit gray PNG (big-endian samples, filter 'Up', zlib).</summary>
    public static byte[] EncodeGray16(ushort[] gray, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width));
        if (gray.Length != width * height) throw new ArgumentException($"expected {width * height} samples, got {gray.Length}");
        int stride = width * 2;
        var raw = new byte[(stride + 1) * height];
        var prev = new byte[stride];
        var row = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) BinaryPrimitives.WriteUInt16BigEndian(row.AsSpan(2 * x), gray[y * width + x]);
            int o = y * (stride + 1);
            raw[o] = 2; // Up filter: depth rows are similar
            for (int i = 0; i < stride; i++) raw[o + 1 + i] = (byte)(row[i] - prev[i]);
            (prev, row) = (row, prev);
        }
        byte[] z;
        using (var zs = new MemoryStream())
        {
            using (var zl = new ZLibStream(zs, CompressionLevel.Optimal, leaveOpen: true)) zl.Write(raw);
            z = zs.ToArray();
        }
        using var ms = new MemoryStream();
        ms.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(0), (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 16; ihdr[9] = 0; // bit depth 16, gray
        WriteChunk(ms, "IHDR", ihdr);
        WriteChunk(ms, "IDAT", z);
        WriteChunk(ms, "IEND", Array.Empty<byte>());
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> b4 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b4, (uint)data.Length);
        s.Write(b4);
        var td = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, 0, 4, td, 0);
        data.CopyTo(td, 4);
        s.Write(td);
        BinaryPrimitives.WriteUInt32BigEndian(b4, Crc32.Compute(td));
        s.Write(b4);
    }

    /// <summary>Floats in [0, 1] (clamped) to bytes.</summary>
    public static byte[] ToBytes(ReadOnlySpan<float> v)
    {
        var b = new byte[v.Length];
        for (int i = 0; i < v.Length; i++) b[i] = (byte)Math.Clamp((int)MathF.Round(v[i] * 255f), 0, 255);
        return b;
    }

    /// <summary>Channel-first RGB floats (3 x H x W) to interleaved bytes.</summary>
    public static byte[] ChwToHwcBytes(ReadOnlySpan<float> chw, int width, int height)
    {
        int n = width * height;
        var b = new byte[3 * n];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < n; i++) b[3 * i + c] = (byte)Math.Clamp((int)MathF.Round(chw[c * n + i] * 255f), 0, 255);
        return b;
    }

    public static void WriteRgb(string path, byte[] rgb, int width, int height) => File.WriteAllBytes(path, EncodeRgb(rgb, width, height));
    public static void WriteGray(string path, byte[] gray, int width, int height) => File.WriteAllBytes(path, EncodeGray(gray, width, height));
    public static void WriteGray16(string path, ushort[] gray, int width, int height) => File.WriteAllBytes(path, EncodeGray16(gray, width, height));
}
