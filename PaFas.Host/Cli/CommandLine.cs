namespace PaFas.Host.Cli;

/// <summary>A subcommand: its name, one-line summary, options type and handler.</summary>
public sealed record CommandSpec(string Name, string Summary, Type OptionsType, Func<CommonOptions, Microsoft.Extensions.Logging.ILogger, int> Run)
{
    public static CommandSpec Of<T>(string name, string summary, Func<T, Microsoft.Extensions.Logging.ILogger, int> run)
        where T : CommonOptions, new() => new(name, summary, typeof(T), (o, log) => run((T)o, log));
}

/// <summary>What a command line asks for.</summary>
public abstract record Parsed
{
    /// <summary>Run a command with these options.</summary>
    public sealed record Run(CommandSpec Command, CommonOptions Options) : Parsed;
    /// <summary><c>pafas --version</c>.</summary>
    public sealed record Version : Parsed;
    /// <summary>Help that was asked for (stdout, exit 0).</summary>
    public sealed record Help(string Text, string Subcommand) : Parsed;
    /// <summary>A bad line: one message naming the option or token (stderr, exit 2).</summary>
    public sealed record Error(string Message, string Subcommand) : Parsed;
}

/// <summary>The <c>pafas</c> command line: <c>pafas [global options] COMMAND [options]</c>, global options also
/// after the command, <c>--name value</c> or <c>--name=value</c>, <c>help [COMMAND]</c>, <c>--help</c>/<c>-h</c>,
/// <c>--version</c>. Total: any string array gives a <see cref="Parsed"/>, never an exception.</summary>
public static class CommandLine
{
    public const string Title = "PA-FAS: interpretable multimodal face anti-spoofing (reasoning-path augmentation, answer shuffling, GRPO).";

    public static IReadOnlyList<CommandSpec> Commands => PaFas.Host.Commands.CommandTable.All;

    public static IReadOnlyList<string> Names => Commands.Select(c => c.Name).ToArray();

    public static CommandSpec? Find(string name) => Commands.FirstOrDefault(c => c.Name == name);

    /// <summary>The top-level help: usage, the global options and the subcommands.</summary>
    public static string Usage()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append($"USAGE: pafas [global options] <command> [options]\n\n{Title}\n\nCOMMANDS:\n\n");
        int w = Commands.Max(c => c.Name.Length) + 2;
        foreach (var c in Commands) sb.Append("    ").Append(c.Name.PadRight(w)).Append(c.Summary).Append('\n');
        sb.Append("\nGLOBAL OPTIONS (before or after the command):\n\n");
        foreach (var o in OptionBinder.Options(typeof(CommonOptions))) sb.Append($"    --{o.Name,-10} {o.Flag.Help}\n");
        sb.Append("    --version    print the version and exit\n    --help       display this help\n\nRun 'pafas <command> --help' for a command's options.\n");
        return sb.ToString();
    }

    /// <summary>Parses a command line (nulls read as empty tokens).</summary>
    public static Parsed Parse(string[]? argv)
    {
        var tokens = Normalise(argv ?? Array.Empty<string>());
        if (tokens is ["help"]) tokens = new List<string> { "--help" };
        else if (tokens is ["help", var sub] && Find(sub) != null) tokens = new List<string> { sub, "--help" };
        else if (tokens is ["help", var bad, ..] && Find(bad) == null) return new Parsed.Error($"unknown subcommand '{bad}'; use one of: {string.Join(", ", Names)}", "");
        string subName = tokens.FirstOrDefault(t => Find(t) != null) ?? "";
        try
        {
            return ParseTokens(tokens);
        }
        catch (CommandLineException e)
        {
            return new Parsed.Error(e.Message, subName);
        }
    }

    private static Parsed ParseTokens(List<string> tokens)
    {
        var globals = typeof(CommonOptions);
        CommandSpec? command = null;
        var flags = new List<(string, string?)>();
        bool help = false, version = false;
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t is "--help" or "-h") { help = true; continue; }
            if (t == "--version" && command == null) { version = true; continue; }
            if (t == "-v") { flags.Add(("verbose", null)); continue; }
            if (t.StartsWith("--") && t.Length > 2)
            {
                var name = t[2..];
                var opt = OptionBinder.Find(command?.OptionsType ?? globals, name)
                    ?? throw new CommandLineException(command == null && Names.Any(n => OptionBinder.Find(Find(n)!.OptionsType, name) != null)
                        ? $"--{name} goes after the command name" : $"unknown option '{t}'");
                if (opt.IsSwitch) flags.Add((name, null));
                else if (i + 1 < tokens.Count && !(tokens[i + 1].StartsWith("--") && tokens[i + 1].Length > 2)) flags.Add((name, tokens[++i]));
                else throw new CommandLineException($"{t} needs a value");
                continue;
            }
            if (command == null && Find(t) is { } c) { command = c; continue; }
            throw new CommandLineException(command == null
                ? $"unknown subcommand '{t}'; use one of: {string.Join(", ", Names)}"
                : $"unexpected argument '{t}' (options are --name value)");
        }
        if (help) return command == null ? new Parsed.Help(Usage(), "") : new Parsed.Help(OptionBinder.Help(command.Name, command.Summary, command.OptionsType), command.Name);
        if (version) return new Parsed.Version();
        if (command == null) throw new CommandLineException($"no subcommand given; use one of: {string.Join(", ", Names)}");
        return new Parsed.Run(command, (CommonOptions)OptionBinder.Bind(command.OptionsType, flags));
    }

    /// <summary><c>--name=value</c> -> <c>--name value</c>; nulls become "".</summary>
    private static List<string> Normalise(string[] argv)
    {
        var list = new List<string>();
        foreach (var raw in argv)
        {
            var a = raw ?? "";
            int eq = a.IndexOf('=');
            if (a.StartsWith("--") && eq > 2) { list.Add(a[..eq]); list.Add(a[(eq + 1)..]); }
            else list.Add(a);
        }
        return list;
    }
}
