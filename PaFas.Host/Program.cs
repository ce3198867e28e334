using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PaFas.Core;
using PaFas.Host.Commands;
using PaFas.Host.Model;

namespace PaFas.Host;

/// <summary>The <c>pafas</c> program: parses the command line with the core's grammar (<see cref="Cli"/>), sets up
/// logging and threads, and runs one command class per subcommand (PaFas.Host/Commands).</summary>
/// <remarks>Exit codes: 0 success (and help / --version); 1 an expected failure (missing or malformed file, bad
/// argument value, I/O or permission error), reported on one line; 2 a bad command line, or a command that is not implemented;
/// 3 an unexpected error (PAFAS_TRACE=1 prints its stack trace); 130 cancelled by Ctrl-C.</remarks>
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
        var parsed = Cli.parse(args);
        if (parsed.IsError)
        {
            var err = parsed.ErrorValue;
            if (err.IsHelp)
            {
                Console.Out.WriteLine(err.Message);
                return 0;
            }
            Console.Error.WriteLine($"pafas: {err.Message}");
            Console.Error.WriteLine(err.Subcommand == ""
                ? "Run 'pafas --help' for the subcommands."
                : $"Run 'pafas {err.Subcommand} --help' for its options.");
            return 2;
        }
        var command = parsed.ResultValue;
        if (command.IsVersion)
        {
            Console.Out.WriteLine($"pafas {Version}");
            return 0;
        }
        return Execute(command);
    }

    /// <summary>Runs a parsed command with console logging; maps exceptions to exit codes.</summary>
    public static int Execute(Command command)
    {
        var common = Cli.common(command);
        var name = Cli.commandName(command);
        var trace = Environment.GetEnvironmentVariable("PAFAS_TRACE") is "1" or "true";
        Console.CancelKeyPress += OnCancel;
        var factory = CreateLoggerFactory(common.Verbose);
        var log = factory.CreateLogger("pafas");
        Exception? failure = null;
        int code;
        try
        {
            log.LogDebug("{Name}: {Args}", name, System.Text.RegularExpressions.Regex.Replace(command.ToString(), @"\s+", " "));
            if (common.Threads > 0) TorchRuntime.SetThreads(common.Threads);
            code = Dispatch(command, log);
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

    private static int Dispatch(Command command, ILogger log) => command switch
    {
        Command.Synth c => SynthCommand.Run(c.Item, log),
        Command.Inspect c => InspectCommand.Run(c.Item, log),
        Command.Annotate c => AnnotateCommand.Run(c.Item, log),
        Command.Augment c => AugmentCommand.Run(c.Item, log),
        Command.Sft c => SftCommand.Run(c.Item, log),
        Command.Pretrain c => PretrainCommand.Run(c.Item, log),
        Command.Grpo c => GrpoCommand.Run(c.Item, log),
        Command.Eval c => EvalCommand.Run(c.Item, log),
        Command.Predict c => PredictCommand.Run(c.Item, log),
        Command.Metrics c => MetricsCommand.Run(c.Item, log),
        Command.Split c => SplitCommand.Run(c.Item, log),
        Command.Score c => ScoreCommand.Run(c.Item, log),
        Command.Export c => ExportCommand.Run(c.Item, log),
        Command.Pipeline c => PipelineCommand.Run(c.Item, log),
        Command.Bench c => BenchCommand.Run(c.Item, log),
        _ => throw new ArgumentException($"no handler for the command '{Cli.commandName(command)}'"),
    };

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
                o.ColorBehavior = LoggerColorBehavior.Default;
            });
            b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });

    /// <summary>Expected failures (bad input files or values, I/O) exit 1; cancellation 130; anything else 3.</summary>
    public static int ExitCodeOf(Exception e) => e switch
    {
        OperationCanceledException => 130,
        FileNotFoundException or InvalidDataException or ArgumentException or IOException or UnauthorizedAccessException => 1,
        _ => 3,
    };

    private static void Report(string name, Exception e, int code, bool trace)
    {
        var err = Console.Error;
        switch (code)
        {
            case 130:
                err.WriteLine($"pafas {name}: cancelled");
                break;
            case 1:
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
