namespace PaFas.Host.Cli;

/// <summary>The options every command takes (before or after its name), and the base of every command's options
/// type. A derived type declares each of its knobs once: a property with a <see cref="FlagAttribute"/> (flag name,
/// help), its initial value (the default) and <see cref="RuleAttribute"/>s; rules across flags go in
/// <see cref="Rules"/>.</summary>
public abstract record CommonOptions
{
    [Flag("threads", "libtorch intra-op and worker threads; 0 = libtorch's default"), AtLeast(0)]
    public int Threads { get; init; }

    [Flag("device", "cpu | cuda | cuda:N"), Device, Lowercase]
    public string Device { get; init; } = "cpu";

    [Flag("seed", "the seed of every random choice of the command")]
    public int Seed { get; init; } = 42;

    [Flag("verbose", "debug logging (also -v)")]
    public bool Verbose { get; init; }

    /// <summary>What is wrong across flags (each message names its flags); empty when nothing is.</summary>
    public virtual IEnumerable<string> Rules() => Array.Empty<string>();

    /// <summary>Throws <see cref="CommandLineException"/> (an <see cref="ArgumentException"/>) naming the first flag
    /// whose value breaks a rule.</summary>
    public void Validate() => OptionBinder.Validate(this);
}
