using System.Buffers.Binary;
using System.Runtime.InteropServices;
using StbImageSharp;

namespace PaFas.Host.Data;

/// <summary>A decoded image: interleaved (HWC) floats in [0, 1]; <see cref="BitDepth"/> is 8 or 16.
/// <see cref="SourceChannels"/> is the file's own channel count (1 gray, 2 gray + alpha, 3 colour or palette,
/// 4 colour + alpha or CMYK) before conversion to <see cref="Channels"/>; <see cref="ChannelSpread"/> is, for a
/// colour file, the mean over pixels of max - min of its R, G, B values in [0, 1] (0 when the three channels are
/// equal, as in a gray picture stored as RGB), and 0 for a gray file.</summary>
public sealed record DecodedImage(int Width, int Height, int Channels, float[] Pixels, int BitDepth, int SourceChannels, float ChannelSpread);

/// <summary>What a file's header says, read without decoding pixels: container, size, bit depth and channel count
/// (1 gray, 2 gray + alpha, 3 colour or palette, 4 colour + alpha or CMYK JPEG).</summary>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height, int BitDepth, int Channels);

/// <summary>The container formats accepted for face images.</summary>
public enum ImageFormat { Png, Jpeg }

/// <summary>PNG (8- and 16-bit) and JPEG decoding with StbImageSharp, hardened for untrusted files: the
/// container structure (PNG signature, chunk lengths and CRCs, IHDR; JPEG markers and segment lengths, frame
/// header, EOI) is checked before decoding, dimensions are capped, and every failure becomes an
/// <see cref="InvalidDataException"/> that names the file.</summary>
public static class ImageDecoding
{
    /// <summary>Largest accepted width or height.</summary>
    public const int MaxDimension = 8192;
    /// <summary>Largest accepted pixel count (width x height).</summary>
    public const long MaxPixels = 16L * 1024 * 1024;
    /// <summary>Largest accepted file size in bytes.</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    private static readonly byte[] PngSignature = { 137, 80, 78, 71, 13, 10, 26, 10 };

    /// <summary>Reads and decodes a PNG/JPEG file to 1 (gray) or 3 (RGB) channels.</summary>
    public static DecodedImage Decode(string path, int channels)
    {
        byte[] data;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new FileNotFoundException($"{path}: image file not found", path);
            if (info.Length > MaxFileBytes) throw new InvalidDataException($"{path}: image file is too large ({info.Length} bytes)");
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException and not FileNotFoundException || e is UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read image ({e.Message})", e);
        }
        return Decode(data, channels, path);
    }

    /// <summary>Decodes PNG/JPEG bytes to 1 (gray) or 3 (RGB) channels; <paramref name="name"/> is used in errors.
    /// 16-bit PNGs keep their precision (values / 65535). A gray file asked for as RGB is replicated; a colour file
    /// asked for as gray is converted with the luma weights (77 R + 150 G + 29 B) / 256, which leave equal channels
    /// unchanged. Whether such a conversion is acceptable is the caller's decision (see
    /// <see cref="DecodedImage.SourceChannels"/>, <see cref="DecodedImage.ChannelSpread"/> and
    /// <see cref="ImageLoader"/>'s slot rules).</summary>
    public static DecodedImage Decode(byte[] data, int channels, string name)
    {
        if (channels != 1 && channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), "1 or 3");
        var header = CheckStructure(data, name);
        try
        {
            bool colour = header.Channels >= 3;
            int comp = colour ? 3 : 1; // decode in the file's own colour space (alpha dropped), convert below
            int w, h, depth;
            int[] raw;
            if (header.Format == ImageFormat.Png && header.BitDepth == 16) { (w, h, raw) = Decode16(data, comp, name); depth = 16; }
            else
            {
                var r = ImageResult.FromMemory(data, colour ? ColorComponents.RedGreenBlue : ColorComponents.Grey);
                if (r == null || r.Data == null || r.Width <= 0 || r.Height <= 0 || r.Data.Length < (long)r.Width * r.Height * comp)
                    throw new InvalidDataException("decoder returned no pixels");
                (w, h, depth) = (r.Width, r.Height, 8);
                raw = new int[w * h * comp];
                for (int i = 0; i < raw.Length; i++) raw[i] = r.Data[i];
            }
            return Convert(raw, w, h, comp, channels, depth, header.Channels);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (e is InvalidDataException ide && ide.Message.StartsWith(name, StringComparison.Ordinal)) throw;
            throw new InvalidDataException($"{name}: cannot decode {header.Format} image ({e.Message})", e);
        }
    }

    /// <summary>Integer samples (comp = 1 or 3 interleaved) to floats with the asked channel count; measures the
    /// channel spread of colour input. Values are integers of 8 or 16 bits, so every output is finite in [0, 1].</summary>
    private static DecodedImage Convert(int[] raw, int w, int h, int comp, int channels, int bitDepth, int sourceChannels)
    {
        float scale = bitDepth == 16 ? 65535f : 255f;
        int n = w * h;
        var px = new float[n * channels];
        double spread = 0;
        if (comp == 3)
        {
            for (int i = 0; i < n; i++)
            {
                int r = raw[3 * i], g = raw[3 * i + 1], b = raw[3 * i + 2];
                spread += Math.Max(r, Math.Max(g, b)) - Math.Min(r, Math.Min(g, b));
                if (channels == 3) { px[3 * i] = r / scale; px[3 * i + 1] = g / scale; px[3 * i + 2] = b / scale; }
                else px[i] = ((r * 77 + g * 150 + b * 29) >> 8) / scale;
            }
            spread /= (double)n * scale;
        }
        else
            for (int i = 0; i < n; i++)
            {
                float v = raw[i] / scale;
                if (channels == 1) px[i] = v; else px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = v;
            }
        return new DecodedImage(w, h, channels, px, bitDepth, sourceChannels, (float)spread);
    }

    private static unsafe (int W, int H, int[] Raw) Decode16(byte[] data, int comp, string name)
    {
        using var ms = new MemoryStream(data, writable: false);
        var ctx = new StbImage.stbi__context(ms);
        int w, h, fileComp;
        ushort* p = StbImage.stbi__load_and_postprocess_16bit(ctx, &w, &h, &fileComp, comp);
        if (p == null) throw new InvalidDataException($"{name}: cannot decode 16-bit PNG");
        try
        {
            if (w <= 0 || h <= 0 || (long)w * h > MaxPixels) throw new InvalidDataException($"{name}: bad decoded size {w}x{h}");
            var raw = new int[w * h * comp];
            for (int i = 0; i < raw.Length; i++) raw[i] = p[i];
            return (w, h, raw);
        }
        finally { Marshal.FreeHGlobal((IntPtr)p); }
    }

    /// <summary>Checks that a file is a structurally sound PNG or JPEG (without decoding pixels) and returns its header.</summary>
    public static ImageHeader CheckFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image file not found", path);
        var len = new FileInfo(path).Length;
        if (len > MaxFileBytes) throw new InvalidDataException($"{path}: image file is too large ({len} bytes)");
        return CheckStructure(File.ReadAllBytes(path), path);
    }

    /// <summary>Validates the container structure and returns format, size, bit depth and channel count; throws
    /// <see cref="InvalidDataException"/> naming <paramref name="name"/> otherwise.</summary>
    public static ImageHeader CheckStructure(byte[] data, string name)
    {
        if (data.Length >= 8 && data.AsSpan(0, 8).SequenceEqual(PngSignature)) return CheckPng(data, name);
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return CheckJpeg(data, name);
        throw new InvalidDataException($"{name}: not a PNG or JPEG file (unknown signature)");
    }

    private static void CheckDims(long w, long h, string name)
    {
        if (w <= 0 || h <= 0) throw new InvalidDataException($"{name}: image has an empty size {w}x{h}");
        if (w > MaxDimension || h > MaxDimension || w * h > MaxPixels)
            throw new InvalidDataException($"{name}: image size {w}x{h} exceeds the limit ({MaxDimension} per side, {MaxPixels} pixels)");
    }

    private static ImageHeader CheckPng(byte[] d, string name)
    {
        int pos = 8, w = 0, h = 0, depth = 0, chunks = 0, channels = 0;
        bool ihdr = false, idat = false;
        while (true)
        {
            if (pos + 12 > d.Length) throw new InvalidDataException($"{name}: truncated PNG (no IEND chunk)");
            uint len = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(pos));
            if (len > int.MaxValue || pos + 12L + len > d.Length)
                throw new InvalidDataException($"{name}: truncated or corrupt PNG (chunk at byte {pos} declares {len} bytes)");
            var type = System.Text.Encoding.ASCII.GetString(d, pos + 4, 4);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(pos + 8 + (int)len));
            if (Crc32.Compute(d.AsSpan(pos + 4, 4 + (int)len)) != crc)
                throw new InvalidDataException($"{name}: corrupt PNG (CRC mismatch in chunk '{type}' at byte {pos})");
            if (++chunks > 100_000) throw new InvalidDataException($"{name}: PNG has too many chunks");
            if (chunks == 1)
            {
                if (type != "IHDR" || len != 13) throw new InvalidDataException($"{name}: corrupt PNG (first chunk is not a valid IHDR)");
                w = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(pos + 8)));
                h = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(pos + 12)));
                depth = d[pos + 16];
                int colour = d[pos + 17];
                CheckDims(w, h, name);
                bool okDepth = colour switch
                {
                    0 => depth is 1 or 2 or 4 or 8 or 16,
                    3 => depth is 1 or 2 or 4 or 8,
                    2 or 4 or 6 => depth is 8 or 16,
                    _ => false,
                };
                if (!okDepth) throw new InvalidDataException($"{name}: unsupported PNG colour type {colour} / bit depth {depth}");
                channels = colour switch { 0 => 1, 4 => 2, 6 => 4, _ => 3 }; // 2 RGB, 3 palette (RGB entries)
                if (d[pos + 18] != 0 || d[pos + 19] != 0 || d[pos + 20] > 1) throw new InvalidDataException($"{name}: unsupported PNG compression/filter/interlace method");
                ihdr = true;
            }
            else if (type == "IDAT") idat = true;
            else if (type == "IEND")
            {
                if (!ihdr || !idat) throw new InvalidDataException($"{name}: corrupt PNG (no image data)");
                return new ImageHeader(ImageFormat.Png, w, h, depth, channels);
            }
            pos += 12 + (int)len;
        }
    }

    private static ImageHeader CheckJpeg(byte[] d, string name)
    {
        int pos = 2, w = 0, h = 0, channels = 0;
        bool frame = false, scan = false;
        while (true)
        {
            if (pos >= d.Length) throw new InvalidDataException($"{name}: truncated JPEG (no end-of-image marker)");
            if (d[pos] != 0xFF) throw new InvalidDataException($"{name}: corrupt JPEG (expected a marker at byte {pos})");
            while (pos < d.Length && d[pos] == 0xFF) pos++; // fill bytes
            if (pos >= d.Length) throw new InvalidDataException($"{name}: truncated JPEG");
            int m = d[pos++];
            if (m == 0xD9)
            {
                if (!frame || !scan) throw new InvalidDataException($"{name}: corrupt JPEG (no frame or scan before end-of-image)");
                return new ImageHeader(ImageFormat.Jpeg, w, h, 8, channels);
            }
            if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue; // standalone markers
            if (m == 0x00 || m == 0xD8) throw new InvalidDataException($"{name}: corrupt JPEG (unexpected marker 0x{m:X2} at byte {pos - 1})");
            if (pos + 2 > d.Length) throw new InvalidDataException($"{name}: truncated JPEG");
            int len = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(pos));
            if (len < 2 || pos + len > d.Length) throw new InvalidDataException($"{name}: truncated or corrupt JPEG (segment 0x{m:X2} at byte {pos} declares {len} bytes)");
            bool isSof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
            if (isSof)
            {
                if (m != 0xC0 && m != 0xC1 && m != 0xC2) throw new InvalidDataException($"{name}: unsupported JPEG coding (marker 0x{m:X2}; only baseline/progressive Huffman)");
                if (len < 8) throw new InvalidDataException($"{name}: corrupt JPEG frame header");
                int precision = d[pos + 2];
                h = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(pos + 3));
                w = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(pos + 5));
                int nc = d[pos + 7];
                if (precision != 8) throw new InvalidDataException($"{name}: unsupported JPEG precision {precision}");
                CheckDims(w, h, name);
                if (nc is not (1 or 3 or 4) || len != 8 + 3 * nc) throw new InvalidDataException($"{name}: corrupt JPEG frame header ({nc} components)");
                for (int c = 0; c < nc; c++)
                {
                    int hv = d[pos + 9 + 3 * c], tq = d[pos + 10 + 3 * c];
                    if ((hv >> 4) is < 1 or > 4 || (hv & 15) is < 1 or > 4 || tq > 3) throw new InvalidDataException($"{name}: corrupt JPEG component parameters");
                }
                if (frame) throw new InvalidDataException($"{name}: corrupt JPEG (two frame headers)");
                frame = true;
                channels = nc;
            }
            pos += len;
            if (m == 0xDA)
            {
                if (!frame) throw new InvalidDataException($"{name}: corrupt JPEG (scan before frame header)");
                scan = true;
                // entropy-coded data: runs until a marker that is not a stuffed 0xFF00 or a restart marker
                while (true)
                {
                    if (pos + 1 >= d.Length) throw new InvalidDataException($"{name}: truncated JPEG (scan data runs to the end of the file)");
                    if (d[pos] == 0xFF && d[pos + 1] != 0x00 && !(d[pos + 1] >= 0xD0 && d[pos + 1] <= 0xD7) && d[pos + 1] != 0xFF) break;
                    pos++;
                }
            }
        }
    }
}

/// <summary>CRC-32 (ISO-HDLC, as PNG uses).</summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
