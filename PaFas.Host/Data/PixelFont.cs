namespace PaFas.Host.Data;

/// <summary>A 3 x 5 pixel font (upper-case letters, digits, a little punctuation) for labels drawn into PNGs
/// (the annotation contact sheet); lower case is drawn as upper case, unknown characters as '?'.</summary>
public static class PixelFont
{
    public const int Width = 3, Height = 5;

    // each glyph: five rows of three pixels, top to bottom, '#' = ink
    private static readonly Dictionary<char, string> Glyphs = new()
    {
        ['A'] = ".#.#.#####.##.#", ['B'] = "##.#.###.#.###.", ['C'] = ".###..#..#...##", ['D'] = "##.#.##.##.###.",
        ['E'] = "####..##.#..###", ['F'] = "####..##.#..#..", ['G'] = ".###..#.##.#.##", ['H'] = "#.##.#####.##.#",
        ['I'] = "###.#..#..#.###", ['J'] = "..#..#..##.#.#.", ['K'] = "#.##.###.#.##.#", ['L'] = "#..#..#..#..###",
        ['M'] = "#.########.##.#", ['N'] = "##.#.##.##.##.#", ['O'] = ".#.#.##.##.#.#.", ['P'] = "##.#.###.#..#..",
        ['Q'] = ".#.#.##.###..##", ['R'] = "##.#.###.#.##.#", ['S'] = ".###...#...###.", ['T'] = "###.#..#..#..#.",
        ['U'] = "#.##.##.##.####", ['V'] = "#.##.##.##.#.#.", ['W'] = "#.##.########.#", ['X'] = "#.##.#.#.#.##.#",
        ['Y'] = "#.##.#.#..#..#.", ['Z'] = "###..#.#.#..###", ['0'] = "####.##.##.####", ['1'] = ".#.##..#..#.###",
        ['2'] = "##...#.#.#..###", ['3'] = "##...#.#...###.", ['4'] = "#.##.####..#..#", ['5'] = "####..##...###.",
        ['6'] = ".###..####.####", ['7'] = "###..#.#..#..#.", ['8'] = "####.#####.####", ['9'] = "####.####..###.",
        [':'] = "....#.....#....", ['.'] = ".............#.", ['-'] = "......###......", ['%'] = "#.#..#.#.#..#.#",
        ['/'] = "..#..#.#.#..#..", ['('] = ".#.#..#..#...#.", [')'] = ".#...#..#..#.#.", ['_'] = "............###",
        ['='] = "...###...###...", ['+'] = "....#.###.#....", ['*'] = "...#.#.#.#.#...", [','] = "..........#.#..",
        ['?'] = "##...#.#.....#.", ['!'] = ".#..#..#.....#.", ['|'] = ".#..#..#..#..#.", [' '] = "...............",
    };

    /// <summary>Whether pixel (x, y) of a character's glyph is ink.</summary>
    public static bool Ink(char c, int x, int y)
    {
        var g = Glyphs.GetValueOrDefault(char.ToUpperInvariant(c)) ?? Glyphs['?'];
        return g[y * Width + x] == '#';
    }

    /// <summary>Draws <paramref name="text"/> into an interleaved RGB byte image at (x, y), each font pixel a
    /// <paramref name="scale"/> x <paramref name="scale"/> block, one blank column between characters; clipped at
    /// the image's edges. Returns the x after the text.</summary>
    public static int Draw(byte[] img, int width, int height, int x, int y, string text, (byte R, byte G, byte B) colour, int scale = 2)
    {
        foreach (var ch in text)
        {
            for (int gy = 0; gy < Height; gy++)
                for (int gx = 0; gx < Width; gx++)
                {
                    if (!Ink(ch, gx, gy)) continue;
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                        {
                            int px = x + gx * scale + dx, py = y + gy * scale + dy;
                            if (px < 0 || py < 0 || px >= width || py >= height) continue;
                            int k = 3 * (py * width + px);
                            img[k] = colour.R; img[k + 1] = colour.G; img[k + 2] = colour.B;
                        }
                }
            x += (Width + 1) * scale;
        }
        return x;
    }
}
