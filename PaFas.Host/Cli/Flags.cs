using System.Globalization;

namespace PaFas.Host.Cli;

/// <summary>Marks an options property as the command-line flag <c>--Name</c>. The property's initial value is the
/// flag's default; <see cref="Help"/> is its line in <c>pafas CMD --help</c>. Properties without it are not
/// options (test hooks, cancellation).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FlagAttribute(string name, string help) : Attribute
{
    /// <summary>The flag without its leading dashes: "steps" for <c>--steps</c>.</summary>
    public string Name { get; } = name;
    public string Help { get; } = help;
    /// <summary>The value's placeholder in the help ("n", "file"); "" = from the type.</summary>
    public string Value { get; init; } = "";
    /// <summary>Text that replaces "(default X)" in the help, for defaults that depend on other options.</summary>
    public string DefaultText { get; init; } = "";
}

/// <summary>A rule on one option's value. <see cref="Problem"/> returns null when the value is fine, else what is
/// wrong, phrased to follow the flag ("must be at least 1 (got 0)").</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public abstract class RuleAttribute : Attribute
{
    public abstract string? Problem(object? value);

    protected static string G(double v) => v.ToString("G", CultureInfo.InvariantCulture);
}

/// <summary>An integer of at least <c>min</c>.</summary>
public sealed class AtLeastAttribute(int min) : RuleAttribute
{
    public override string? Problem(object? value) =>
        value is int v && v < min ? $"must be at least {min} (got {v})" : null;
}

/// <summary>A finite number in a range; each bound is inclusive or not.</summary>
public sealed class RangeAttribute(double min, double max, bool minInclusive = true, bool maxInclusive = true) : RuleAttribute
{
    public override string? Problem(object? value)
    {
        if (value is not double v) return null;
        bool ok = double.IsFinite(v) && (minInclusive ? v >= min : v > min) && (maxInclusive ? v <= max : v < max);
        return ok ? null : $"must be {Text()} (got {G(v)})";
    }

    private string Text()
    {
        if (double.IsPositiveInfinity(max)) return min == 0 && !minInclusive ? "greater than 0" : minInclusive ? $"at least {G(min)}" : $"greater than {G(min)}";
        return $"in {(minInclusive ? "[" : "(")}{G(min)}, {G(max)}{(maxInclusive ? "]" : ")")}";
    }
}

/// <summary>A finite number greater than 0.</summary>
public sealed class PositiveAttribute() : RuleAttributeProxy(new RangeAttribute(0, double.PositiveInfinity, minInclusive: false));

/// <summary>A finite number of at least 0.</summary>
public sealed class NonNegativeAttribute() : RuleAttributeProxy(new RangeAttribute(0, double.PositiveInfinity));

/// <summary>A rule defined by another rule.</summary>
public abstract class RuleAttributeProxy(RuleAttribute inner) : RuleAttribute
{
    public override string? Problem(object? value) => inner.Problem(value);
}

/// <summary>A path or name that must not be empty.</summary>
public sealed class NotEmptyAttribute : RuleAttribute
{
    public override string? Problem(object? value) =>
        value is string s && string.IsNullOrWhiteSpace(s) ? "needs a value (got an empty one)" : null;
}

/// <summary>One of a fixed list of words (compared in lower case).</summary>
public sealed class OneOfAttribute(params string[] choices) : RuleAttribute
{
    public IReadOnlyList<string> Choices { get; } = choices;

    public override string? Problem(object? value) =>
        value is string s && !Choices.Contains(s) ? $"must be one of {string.Join(" | ", Choices)} (got '{s}')" : null;
}

/// <summary>A .NET regular expression ("" passes: none).</summary>
public sealed class RegexAttribute : RuleAttribute
{
    public override string? Problem(object? value)
    {
        if (value is not string s || s == "") return null;
        try { _ = new System.Text.RegularExpressions.Regex(s); return null; }
        catch (ArgumentException e) { return $"is not a valid regular expression: {e.Message}"; }
    }
}

/// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
public sealed class DeviceAttribute : RuleAttribute
{
    public override string? Problem(object? value)
    {
        if (value is not string s) return null;
        bool ok = s == "cpu" || s == "cuda" || (s.StartsWith("cuda:") && s.Length > 5 && s[5..].All(char.IsAsciiDigit));
        return ok ? null : $"must be cpu, cuda or cuda:N (got '{s}')";
    }
}

/// <summary>A model size preset of data/models.json (the one list of sizes); "" passes when
/// <c>allowEmpty</c> (= "the recipe's").</summary>
public sealed class ModelSizeAttribute(bool allowEmpty = false) : RuleAttribute
{
    public override string? Problem(object? value)
    {
        if (value is not string s || (allowEmpty && s == "")) return null;
        var names = PaFas.Host.Model.ModelConfig.PresetNames(PaFas.Host.Data.GrammarStore.DefaultDataDir());
        return names.Contains(s) ? null : $"must be one of {string.Join(" | ", names)} (data/models.json; got '{s}')";
    }
}

/// <summary>The name of a recipe of data/recipes.json, or "default" (no recipe). Applied by the binder before
/// the explicit flags, so that explicit flags win; <c>section</c> is the part of the recipe this command takes
/// ("" = the whole recipe, for the pipeline).</summary>
public sealed class RecipeAttribute(string section) : RuleAttribute
{
    public string Section { get; } = section;

    public override string? Problem(object? value) =>
        value is string s && s != Recipes.None && !Recipes.Names.Contains(s)
            ? $"must be {Recipes.None} or one of {string.Join(" | ", Recipes.Names)} (data/recipes.json; got '{s}')"
            : null;
}

/// <summary>The flag's text is read in lower case (device names, formats, preset names).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class LowercaseAttribute : Attribute;
