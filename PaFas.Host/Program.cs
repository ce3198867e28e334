using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PaFas.Host.Cli;
using PaFas.Host.IO;
using PaFas.Host.Model;

namespace PaFas.Host;

/// <summary>The <c>pafas</c> program: parses the command line (<see cref="CommandLine"/>: each command's options
/// type, PaFas.Host/Cli), sets up logging and threads, and runs the command's handler (PaFas.Host/Commands).</summary>
/// <remarks>Exit codes: 0 success (and help / --version); 1 an expected failure (missing or malformed file, bad
/// argument value, I/O or permission error), reported on one line; 2 a bad command line (the message names the option,
/// or a <see cref="IO.UsageException"/>: an output that is an input, --threads above the limit, a device this build
/// lacks, a run folder in use without --resume/--force); 3 an unexpected error, a bug (PAFAS_TRACE=1 prints its
/// stack trace); 130 cancelled by Ctrl-C.</remarks>
public static class Program
{
    private static readonly CancellationTokenSource Cts = new();

    /// <summary>Cancelled at the first Ctrl-C (a second Ctrl-C ends the process at once). Long-running commands
    /// watch it, write a checkpoint and stop.</summary>
    public static CancellationToken Cancellation => Cts.Token;

    /// <summary>The program's version (the assembly's informational version).</summary>
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Program).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public static int Main(string[] args)
    {
        switch (CommandLine.Parse(args))
        {
            case Parsed.Help h:
                Console.Out.WriteLine(h.Text);
                return 0;
            case Parsed.Version:
                Console.Out.WriteLine($"pafas {Version}");
                return 0;
            case Parsed.Error e:
                Console.Error.WriteLine($"pafas: {e.Message}");
                Console.Error.WriteLine(e.Subcommand == ""
                    ? "Run 'pafas --help' for the subcommands."
                    : $"Run 'pafas {e.Subcommand} --help' for its options.");
                return 2;
            case Parsed.Run r:
                return Execute(r.Command, r.Options);
            default:
                throw new InvalidOperationException("unknown parse result");
        }
    }

    /// <summary>Runs a command with console logging; maps exceptions to exit codes.</summary>
    public static int Execute(CommandSpec command, CommonOptions options)
    {
        var name = command.Name;
        var trace = Environment.GetEnvironmentVariable("PAFAS_TRACE") is "1" or "true";
        Console.CancelKeyPress += OnCancel;
        var factory = CreateLoggerFactory(options.Verbose);
        var log = factory.CreateLogger("pafas");
        Exception? failure = null;
        int code;
        try
        {
            log.LogDebug("{Name}: {Args}", name, string.Join(" ", OptionBinder.Describe(options).Select(kv => $"--{kv.Key} {kv.Value}")));
            ThreadLimit.Check(options.Threads);
            if (options.Threads > 0) TorchRuntime.SetThreads(options.Threads);
            code = command.Run(options, log);
        }
        catch (Exception e)
        {
            failure = e;
            code = ExitCodeOf(e);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
            factory.Dispose(); // flushes the console logger before the error line below
        }
        if (failure != null) Report(name, failure, code, trace);
        return code;
    }

    /// <summary>Console logging: simple formatter, one line per message with a timestamp, all to stderr so that
    /// a command's own output on stdout (JSON lines, reports) stays clean.</summary>
    public static ILoggerFactory CreateLoggerFactory(bool verbose) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                // Colours (ANSI escape codes) only on a terminal: the log goes to stderr, and the logger's own check
                // looks at stdout, so `pafas ... 2> log` would otherwise fill the file with escape codes.
                o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
            });
            b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });

    /// <summary>A bad command line exits 2; expected failures (bad input files or values, I/O) 1; cancellation 130;
    /// anything else 3. An AggregateException (from parallel loading) counts as its first inner exception.</summary>
    public static int ExitCodeOf(Exception e) => Unwrap(e) switch
    {
        OperationCanceledException => 130,
        IO.UsageException => 2,
        FileNotFoundException or InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException => 1,
        _ => 3,
    };

    /// <summary>The first inner exception of an AggregateException (parallel loops wrap what a worker threw).</summary>
    public static Exception Unwrap(Exception e)
    {
        while (e is AggregateException a && a.InnerExceptions.Count > 0) e = a.InnerExceptions[0];
        return e;
    }

    private static void Report(string name, Exception e, int code, bool trace)
    {
        var err = Console.Error;
        e = Unwrap(e);
        switch (code)
        {
            case 130:
                err.WriteLine($"pafas {name}: cancelled");
                break;
            case 1 or 2:
                err.WriteLine($"pafas {name}: error: {OneLine(e)}");
                break;
            default:
                err.WriteLine($"pafas {name}: unexpected {e.GetType().Name}: {OneLine(e)}");
                if (!trace) err.WriteLine("(set PAFAS_TRACE=1 for the stack trace)");
                break;
        }
        if (trace) err.WriteLine(e.ToString());
    }

    /// <summary>The message on one line; a FileNotFoundException whose message lacks the file gets it added.</summary>
    public static string OneLine(Exception e)
    {
        var msg = e.Message;
        if (e is FileNotFoundException f && !string.IsNullOrEmpty(f.FileName) && !msg.Contains(f.FileName))
            msg = $"{f.FileName}: {msg}";
        return string.Join(" ", msg.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r').Trim()));
    }

    private static void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (Cts.IsCancellationRequested) return; // second Ctrl-C: let the process end
        e.Cancel = true;
        Console.Error.WriteLine("pafas: stopping after the current step (Ctrl-C again to abort now)");
        Cts.Cancel();
    }
}
