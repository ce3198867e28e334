using System.Reflection;
using System.Text;

namespace PaFas.Host.Cli;

/// <summary>A command line that names no command or a bad value: the message names the flag or token.</summary>
public sealed class CommandLineException(string message) : ArgumentException(message);

/// <summary>One flag of an options type: its property, attribute and rules.</summary>
public sealed record OptionInfo(PropertyInfo Property, FlagAttribute Flag, IReadOnlyList<RuleAttribute> Rules)
{
    public string Name => Flag.Name;
    public Type Type => Property.PropertyType;
    public bool IsSwitch => Values.IsSwitch(Type);
}

/// <summary>Binds flags to an options type by reflection over its <see cref="FlagAttribute"/> properties: parses
/// values (<see cref="Values"/>), applies a recipe (<see cref="RecipeAttribute"/>) before the explicit flags, checks
/// every rule, and writes the help text. The options type is the one place of each knob: default (the property's
/// initial value), help, rules; the pipeline, the trainers and the tests construct the same types.</summary>
public static class OptionBinder
{
    private static readonly Dictionary<Type, IReadOnlyList<OptionInfo>> Cache = new();

    /// <summary>The flags of an options type: its own first, then those of its base types (the global ones last).</summary>
    public static IReadOnlyList<OptionInfo> Options(Type t)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(t, out var known)) return known;
            int Depth(Type? x) { int d = 0; for (; x != null; x = x.BaseType) d++; return d; }
            var list = t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Select(p => (p, f: p.GetCustomAttribute<FlagAttribute>()))
                .Where(x => x.f != null)
                .OrderByDescending(x => Depth(x.p.DeclaringType)).ThenBy(x => x.p.MetadataToken)
                .Select(x => new OptionInfo(x.p, x.f!, x.p.GetCustomAttributes<RuleAttribute>().ToArray()))
                .ToArray();
            var dup = list.GroupBy(o => o.Name).FirstOrDefault(g => g.Count() > 1);
            if (dup != null) throw new InvalidOperationException($"{t.Name}: two properties bind --{dup.Key}");
            return Cache[t] = list;
        }
    }

    public static OptionInfo? Find(Type t, string flag) => Options(t).FirstOrDefault(o => o.Name == flag);

    /// <summary>A copy of <paramref name="options"/> with <c>--flag text</c> applied (the same reading as the
    /// command line; a <see cref="CommandLineException"/> names the flag).</summary>
    public static T With<T>(T options, IEnumerable<KeyValuePair<string, string>> flags) where T : class
    {
        var copy = Clone(options);
        foreach (var (flag, text) in flags) Set(copy, flag, text);
        return copy;
    }

    /// <summary>Options from flags: the type's defaults, then its recipe (if it has a recipe flag and it is
    /// given), then the flags in order (a repeated flag: the last wins); then every rule is checked.</summary>
    public static object Bind(Type t, IReadOnlyList<(string Flag, string? Text)> flags)
    {
        var o = Activator.CreateInstance(t) ?? throw new InvalidOperationException(t.Name);
        var recipe = Options(t).FirstOrDefault(x => x.Rules.OfType<RecipeAttribute>().Any());
        if (recipe != null && flags.LastOrDefault(f => f.Flag == recipe.Name) is { Text: { } name })
        {
            Set(o, recipe.Name, name);
            Check(o, recipe);
            var section = recipe.Rules.OfType<RecipeAttribute>().First().Section;
            foreach (var (k, v) in Recipes.Section((string)recipe.Property.GetValue(o)!, section)) Set(o, k, v);
        }
        foreach (var (flag, text) in flags)
        {
            var opt = Find(t, flag) ?? throw new CommandLineException($"unknown option '--{flag}'");
            if (opt.IsSwitch && text == null) opt.Property.SetValue(o, true);
            else if (text == null) throw new CommandLineException($"--{flag} needs a value");
            else Set(o, flag, text);
        }
        Validate(o);
        return o;
    }

    private static void Set(object o, string flag, string text)
    {
        var opt = Find(o.GetType(), flag) ?? throw new CommandLineException($"unknown option '--{flag}'");
        if (opt.Property.IsDefined(typeof(LowercaseAttribute))) text = text.ToLowerInvariant();
        try { opt.Property.SetValue(o, Values.Parse(opt.Type, text)); }
        catch (FormatException e) { throw new CommandLineException($"--{flag} {e.Message}"); }
    }

    private static void Check(object o, OptionInfo opt)
    {
        var v = opt.Property.GetValue(o);
        foreach (var r in opt.Rules)
            if (r.Problem(v) is { } p) throw new CommandLineException($"--{opt.Name} {p}");
    }

    /// <summary>Throws a <see cref="CommandLineException"/> naming the first flag whose value breaks a rule: the
    /// rules on each property, then the options' own rules across flags (<see cref="CommonOptions.Rules"/>).</summary>
    public static void Validate(object o)
    {
        foreach (var opt in Options(o.GetType())) Check(o, opt);
        if (o is CommonOptions c && c.Rules().FirstOrDefault() is { } problem) throw new CommandLineException(problem);
    }

    /// <summary>Every flag and its value as text, in the order of the help (config.json, logs, tests).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Describe(object o) =>
        Options(o.GetType()).Select(x => KeyValuePair.Create(x.Name, Values.Show(x.Type, x.Property.GetValue(o)))).ToArray();

    /// <summary>Every flag and its value as JSON (numbers and switches typed, the rest as their flag text): the
    /// "options" of a run folder's config.json, named as on the command line.</summary>
    public static System.Text.Json.Nodes.JsonObject ToJson(object o)
    {
        var json = new System.Text.Json.Nodes.JsonObject();
        foreach (var x in Options(o.GetType()))
        {
            var v = x.Property.GetValue(o);
            json[x.Name] = v switch
            {
                int i => System.Text.Json.Nodes.JsonValue.Create(i),
                double d when double.IsFinite(d) => System.Text.Json.Nodes.JsonValue.Create(d),
                bool b => System.Text.Json.Nodes.JsonValue.Create(b),
                null when x.Type != typeof(string) => null,
                _ => System.Text.Json.Nodes.JsonValue.Create(Values.Show(x.Type, v)),
            };
        }
        return json;
    }

    /// <summary>The flags whose values differ between two options of the same type.</summary>
    public static IReadOnlyList<string> Differences(object a, object b) =>
        Options(a.GetType()).Where(x => !Values.Same(x.Type, x.Property.GetValue(a), x.Property.GetValue(b))).Select(x => x.Name).ToArray();

    private static T Clone<T>(T o) where T : class =>
        (T)(o.GetType().GetMethod("<Clone>$")?.Invoke(o, null) ?? throw new InvalidOperationException($"{o.GetType().Name} is not a record"));

    /// <summary>The help text of a command: usage line, then one line per flag with its default.</summary>
    public static string Help(string command, string summary, Type t)
    {
        var defaults = Activator.CreateInstance(t)!;
        var sb = new StringBuilder();
        sb.Append($"USAGE: pafas {command} [options]\n\n{summary}\n\nOPTIONS:\n\n");
        var rows = Options(t).Select(o => (Left: "--" + o.Name + (o.IsSwitch ? "" : $" <{Placeholder(o)}>"), Right: HelpLine(o, defaults))).ToList();
        rows.Add(("--help", "display this list of options"));
        int w = rows.Max(r => r.Left.Length) + 2;
        foreach (var (left, right) in rows) sb.Append("    ").Append(left.PadRight(w)).Append(right).Append('\n');
        return sb.ToString();
    }

    private static string Placeholder(OptionInfo o) =>
        o.Flag.Value != "" ? o.Flag.Value
        : Values.Choices(o.Type) is { } c ? string.Join("|", c)
        : o.Type == typeof(int) || o.Type == typeof(int?) ? "n"
        : o.Type == typeof(double) ? "x"
        : o.Type == typeof(IReadOnlyList<string>) ? "a,b,..." : "text";

    private static string HelpLine(OptionInfo o, object defaults)
    {
        if (o.Flag.DefaultText != "") return $"{o.Flag.Help} (default {o.Flag.DefaultText})";
        if (o.IsSwitch) return o.Flag.Help;
        var d = Values.Show(o.Type, o.Property.GetValue(defaults));
        return d == "" ? o.Flag.Help : $"{o.Flag.Help} (default {d})";
    }
}
