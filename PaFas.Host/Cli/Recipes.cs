using System.Globalization;
using System.Text.Json;
using PaFas.Host.Data;

namespace PaFas.Host.Cli;

/// <summary>The recipes of data/recipes.json (demo, paper): for each, one section per command (synth, split,
/// augment, sft, grpo, eval) of flag -> value, applied over the command's defaults. <c>pafas pipeline --recipe</c>
/// uses every section; <c>pafas sft/grpo --recipe</c> their own.</summary>
public static class Recipes
{
    /// <summary>The recipe name that applies nothing (every default).</summary>
    public const string None = "default";

    private static readonly Lazy<(string File, Dictionary<string, Dictionary<string, Dictionary<string, string>>> All)> Data =
        new(() => Load(Path.Combine(GrammarStore.DefaultDataDir(), "recipes.json")));

    /// <summary>The recipes' names, in the file's order.</summary>
    public static IReadOnlyList<string> Names => Data.Value.All.Keys.ToArray();

    /// <summary>The file the recipes come from.</summary>
    public static string File => Data.Value.File;

    /// <summary>The flags a recipe sets for one command (none for <see cref="None"/> or a section it lacks).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Section(string recipe, string section) =>
        recipe != None && Data.Value.All.TryGetValue(recipe, out var r) && r.TryGetValue(section, out var s)
            ? s.ToArray() : Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Options of a command with a recipe's section applied over <paramref name="options"/>; an entry
    /// that is not a flag of the command fails naming the file.</summary>
    public static T Apply<T>(T options, string recipe, string section) where T : class
    {
        try { return OptionBinder.With(options, Section(recipe, section)); }
        catch (CommandLineException e) { throw new InvalidDataException($"{File}: recipe {recipe}, section {section}: {e.Message}"); }
    }

    private static (string, Dictionary<string, Dictionary<string, Dictionary<string, string>>>) Load(string file)
    {
        if (!System.IO.File.Exists(file)) throw new FileNotFoundException($"{file}: not found", file);
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var all = new Dictionary<string, Dictionary<string, Dictionary<string, string>>>();
        if (!doc.RootElement.TryGetProperty("recipes", out var recipes) || recipes.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{file}: no \"recipes\" object");
        foreach (var r in recipes.EnumerateObject())
        {
            var sections = new Dictionary<string, Dictionary<string, string>>();
            foreach (var s in r.Value.EnumerateObject().Where(s => s.Value.ValueKind == JsonValueKind.Object))
                sections[s.Name] = s.Value.EnumerateObject().ToDictionary(f => f.Name, f => Text(file, f.Value));
            all[r.Name] = sections;
        }
        return (file, all);
    }

    private static string Text(string file, JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Number => v.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new InvalidDataException($"{file}: a recipe value must be a string, number or boolean (got {v.ValueKind})"),
    };
}
