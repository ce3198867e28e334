using PaFas.Core;

namespace PaFas.Host.Data;

/// <summary>Reads data/taxonomy.json and data/templates.json (next to the binary, or a given folder) and
/// compiles the core's grammar once.</summary>
public static class GrammarStore
{
    private static readonly Lazy<Grammar> Lazy = new(() => Load(DefaultDataDir()));

    /// <summary>The grammar of the data/ folder shipped with the program.</summary>
    public static Grammar Default => Lazy.Value;

    /// <summary>The data/ folder next to the binary (copied there by the build), else the repository's.</summary>
    public static string DefaultDataDir()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "data");
        if (File.Exists(Path.Combine(local, "taxonomy.json"))) return local;
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
        {
            var cand = Path.Combine(d.FullName, "data");
            if (File.Exists(Path.Combine(cand, "taxonomy.json"))) return cand;
        }
        throw new FileNotFoundException("data/taxonomy.json not found next to the program or in a parent folder");
    }

    /// <summary>Compiles the grammar from a folder holding taxonomy.json and templates.json.</summary>
    public static Grammar Load(string dataDir)
    {
        var tax = Path.Combine(dataDir, "taxonomy.json");
        var tpl = Path.Combine(dataDir, "templates.json");
        foreach (var f in new[] { tax, tpl })
            if (!File.Exists(f)) throw new FileNotFoundException($"{f}: not found", f);
        var t = TaxonomyModule.parse(File.ReadAllText(tax));
        if (t.IsError) throw new InvalidDataException($"{tax}: {t.ErrorValue}");
        var p = TemplatesModule.parse(File.ReadAllText(tpl));
        if (p.IsError) throw new InvalidDataException($"{tpl}: {p.ErrorValue}");
        var g = GrammarModule.create(t.ResultValue, p.ResultValue);
        if (g.IsError) throw new InvalidDataException($"{tax} + {tpl}: {g.ErrorValue}");
        return g.ResultValue;
    }
}
