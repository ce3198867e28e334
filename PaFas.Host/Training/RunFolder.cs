using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PaFas.Host.IO;

namespace PaFas.Host.Training;

/// <summary>What a checkpoint of a run folder remembers besides the weights (trainer_state.json): enough to
/// continue deterministically.</summary>
public sealed record TrainerState
{
    public string Stage { get; init; } = "";
    /// <summary>Optimiser steps done.</summary>
    public int Step { get; init; }
    public int Seed { get; init; }
    /// <summary>Best validation metric so far (higher is better) and its step; null before the first validation.</summary>
    public double? BestMetric { get; init; }
    public int BestStep { get; init; }
    public string BestMetricName { get; init; } = "";
    public long SamplesSeen { get; init; }
    public long TokensSeen { get; init; }
    public double ElapsedSeconds { get; init; }
    /// <summary>Whether optimizer.bin (AdamW moments) was written next to the weights.</summary>
    public bool HasOptimizerState { get; init; }
    public string SavedUtc { get; init; } = "";
}

/// <summary>A run folder: <c>config.json</c> (every setting + provenance), <c>metrics.jsonl</c> (append-only),
/// checkpoints <c>last/</c> <c>best/</c> <c>final/</c> (each written to a temp folder and swapped in, so a crash
/// never leaves a half checkpoint), plots and <c>tb/</c> (TensorBoard).</summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json", MetricsFile = "metrics.jsonl", StateFile = "trainer_state.json",
        OptimizerFile = "optimizer.bin", Last = "last", Best = "best", Final = "final", TensorBoardDir = "tb";

    /// <summary>The entries a run folder holds (and --force deletes).</summary>
    public static readonly string[] RunEntries =
        { ConfigFile, MetricsFile, Last, Best, Final, TensorBoardDir, "loss.png", "reasoning.png", "reward.png", "zero_std.png", "samples.md" };

    private RunFolder(string dir, TrainerState? resumeState)
    {
        Dir = dir;
        ResumeState = resumeState;
    }

    public string Dir { get; }
    public string ConfigPath => Path.Combine(Dir, ConfigFile);
    public string MetricsPath => Path.Combine(Dir, MetricsFile);
    public string LastDir => Path.Combine(Dir, Last);
    public string BestDir => Path.Combine(Dir, Best);
    public string FinalDir => Path.Combine(Dir, Final);
    /// <summary>The state of last/ when resuming; null for a fresh run.</summary>
    public TrainerState? ResumeState { get; }
    public bool IsResuming => ResumeState != null;

    /// <summary>Opens <paramref name="dir"/> for a run. A folder that already holds a run is refused unless
    /// <paramref name="resume"/> (continue from last/) or <paramref name="force"/> (delete its run files and start over).</summary>
    public static RunFolder Open(string dir, bool resume, bool force, ILogger log)
    {
        var full = Path.GetFullPath(dir);
        Directory.CreateDirectory(full);
        ClaimLock(full);
        RecoverInterruptedSwaps(full, log);
        bool hasRun = RunEntries.Take(5).Any(e => File.Exists(Path.Combine(full, e)) || Directory.Exists(Path.Combine(full, e)));
        if (force)
        {
            foreach (var e in RunEntries)
            {
                var p = Path.Combine(full, e);
                if (Directory.Exists(p)) Directory.Delete(p, recursive: true);
                else if (File.Exists(p)) File.Delete(p);
            }
            if (hasRun) log.LogWarning("{Dir}: --force: deleted the previous run's files", full);
            return new RunFolder(full, null);
        }
        if (resume)
        {
            var last = Path.Combine(full, Last);
            var state = ReadState(last);
            if (state == null)
            {
                if (hasRun)
                    throw new PaFas.Host.IO.UsageException(
                        $"{full}: --resume: there is no usable last/ checkpoint ({Path.Combine(last, StateFile)} missing); use --force to start over");
                log.LogWarning("{Dir}: --resume given but the folder holds no run; starting a fresh run", full);
                return new RunFolder(full, null);
            }
            return new RunFolder(full, state);
        }
        if (hasRun)
        {
            bool finished = Directory.Exists(Path.Combine(full, Final));
            throw new PaFas.Host.IO.UsageException(
                $"{full}: already holds a{(finished ? " finished" : "n unfinished")} run; pass --resume to continue it or --force to overwrite it");
        }
        return new RunFolder(full, null);
    }

    /// <summary>Reads trainer_state.json of a checkpoint folder; null when absent.</summary>
    public static TrainerState? ReadState(string checkpointDir)
    {
        var f = Path.Combine(checkpointDir, StateFile);
        if (!File.Exists(f)) return null;
        try { return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(f), Json.Options); }
        catch (JsonException e) { throw new InvalidDataException($"{f}: malformed trainer state ({e.Message})", e); }
    }

    /// <summary>Writes config.json: the options, the stage, and provenance (seed, preset, versions, machine). When
    /// resuming, settings that differ from the earlier config.json are logged as warnings.</summary>
    public void WriteConfig(string stage, object options, string preset, int seed, IReadOnlyDictionary<string, string>? extra = null, ILogger? log = null)
    {
        var newOptions = options is PaFas.Host.Cli.CommonOptions flags ? PaFas.Host.Cli.OptionBinder.ToJson(flags)
            : JsonSerializer.SerializeToNode(options, options.GetType(), Json.Options) as JsonObject;
        if (IsResuming && log != null && ReadConfigOptions() is { } before && newOptions != null)
            foreach (var (k, v) in newOptions)
            {
                if (k is "resume" or "force") continue;
                var old = before[k]?.ToJsonString() ?? "null";
                var now = v?.ToJsonString() ?? "null";
                if (old != now) log.LogWarning("{Dir}: resuming with {Key} = {Now} (the run started with {Old})", Dir, k, now, old);
            }
        var root = new JsonObject
        {
            ["stage"] = stage,
            ["preset"] = preset,
            ["seed"] = seed,
            ["options"] = newOptions,
            ["provenance"] = new JsonObject
            {
                ["pafas_version"] = VersionOf(typeof(RunFolder).Assembly),
                ["core_version"] = VersionOf(typeof(PaFas.Core.Modality).Assembly),
                ["torchsharp_version"] = VersionOf(typeof(TorchSharp.torch).Assembly),
                ["dotnet"] = Environment.Version.ToString(),
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["processors"] = Environment.ProcessorCount,
                ["written_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            },
        };
        if (IsResuming) root["resumed_from_step"] = ResumeState!.Step;
        if (extra != null)
        {
            var ex = new JsonObject();
            foreach (var (k, v) in extra) ex[k] = v;
            root["extra"] = ex;
        }
        AtomicFile.WriteAllText(ConfigPath, root.ToJsonString(Json.Options));
    }

    /// <summary>The options stored in config.json of an earlier run (for warnings on resume), or null.</summary>
    public JsonObject? ReadConfigOptions()
    {
        if (!File.Exists(ConfigPath)) return null;
        try { return JsonNode.Parse(File.ReadAllText(ConfigPath))?["options"] as JsonObject; }
        catch (JsonException) { return null; }
    }

    /// <summary>Writes a checkpoint folder atomically: <paramref name="writeModel"/> writes the model into a
    /// fresh temp folder (it must create it), then the optimiser state and trainer_state.json are added, then
    /// the folder replaces <paramref name="name"/> (last, best or final).</summary>
    public string SaveCheckpoint(string name, Action<string> writeModel, TrainerState state, Action<string>? writeOptimizer = null)
    {
        var target = Path.Combine(Dir, name);
        var tmp = Path.Combine(Dir, $".tmp-{name}-{Environment.ProcessId}");
        var old = Path.Combine(Dir, $".old-{name}");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        writeModel(tmp);
        if (!Directory.Exists(tmp)) throw new InvalidOperationException($"{tmp}: the checkpoint writer did not create the folder");
        bool hasOpt = false;
        if (writeOptimizer != null)
        {
            writeOptimizer(Path.Combine(tmp, OptimizerFile));
            hasOpt = File.Exists(Path.Combine(tmp, OptimizerFile));
        }
        var st = state with { HasOptimizerState = hasOpt, SavedUtc = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture) };
        AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(st, Json.Options));
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(target)) Directory.Move(target, old);
        Directory.Move(tmp, target);
        if (Directory.Exists(old)) Directory.Delete(old, true);
        return target;
    }

    /// <summary>Name of the file that records which process is training in the folder.</summary>
    public const string LockFile = ".lock";

    /// <summary>Refuses a folder in which another live process is training (two writers would corrupt each other's
    /// checkpoint swaps); a lock left by a dead process (a crash, SIGKILL) is taken over.</summary>
    private static void ClaimLock(string dir)
    {
        var path = Path.Combine(dir, LockFile);
        if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out int pid) && pid != Environment.ProcessId && IsAlive(pid))
            throw new IOException($"{dir}: another process (pid {pid}) is training in this run folder; wait for it or stop it (the lock of a process that died is taken over)");
        AtomicFile.WriteAllText(path, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>A crash between the two renames of <see cref="SaveCheckpoint"/> leaves .old-NAME without NAME:
    /// put it back. Leftover temp folders are deleted.</summary>
    private static void RecoverInterruptedSwaps(string dir, ILogger log)
    {
        foreach (var name in new[] { Last, Best, Final })
        {
            var target = Path.Combine(dir, name);
            var old = Path.Combine(dir, $".old-{name}");
            if (!Directory.Exists(old)) continue;
            if (Directory.Exists(target)) Directory.Delete(old, true);
            else
            {
                Directory.Move(old, target);
                log.LogWarning("{Dir}: restored {Name}/ from an interrupted checkpoint swap", dir, name);
            }
        }
        foreach (var t in Directory.GetDirectories(dir, ".tmp-*")) Directory.Delete(t, true);
    }

    private static string VersionOf(Assembly a) =>
        a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "?";
}

/// <summary>JSON settings of the run files (snake_case names, NaN/inf written as strings).</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static readonly JsonSerializerOptions Line = new(Options) { WriteIndented = false };
}

/// <summary>metrics.jsonl: one JSON object per logged step (always with "step" and "stage"), appended and flushed
/// line by line; optionally mirrored to TensorBoard event files.</summary>
public sealed class MetricsLog : IDisposable
{
    private readonly string _path;
    private readonly TorchSharp.Modules.SummaryWriter? _tb;

    /// <summary>Opens the log; when resuming at <paramref name="resumeStep"/>, lines of later steps (written after
    /// the last checkpoint by the interrupted run) are dropped so the log matches the restored state.</summary>
    public MetricsLog(string path, int resumeStep, string? tensorBoardDir, ILogger log)
    {
        _path = path;
        if (File.Exists(path))
        {
            var lines = File.ReadAllLines(path);
            var kept = lines.Where(l => !string.IsNullOrWhiteSpace(l) && StepOf(l) is int s && s <= resumeStep).ToList();
            if (kept.Count != lines.Count(l => !string.IsNullOrWhiteSpace(l)))
            {
                AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
                log.LogInformation("{Path}: dropped {N} lines written after step {Step}", path, lines.Length - kept.Count, resumeStep);
            }
        }
        if (tensorBoardDir != null)
        {
            try { _tb = TorchSharp.torch.utils.tensorboard.SummaryWriter(tensorBoardDir, "pafas", false); }
            catch (Exception e) { log.LogWarning("TensorBoard event files disabled: {Error}", e.Message); }
        }
    }

    public string Path => _path;

    private static int? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt32(out var v) ? v : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>Appends one line. Values: numbers, strings, bools or string arrays; non-finite numbers are written
    /// as "NaN"/"Infinity" strings (JSON has no NaN).</summary>
    public void Append(string stage, int step, IReadOnlyDictionary<string, object?> values)
    {
        var obj = new JsonObject { ["step"] = step, ["stage"] = stage };
        foreach (var (k, v) in values)
        {
            obj[k] = v switch
            {
                null => null,
                double d when !double.IsFinite(d) => d.ToString(CultureInfo.InvariantCulture),
                float f when !float.IsFinite(f) => f.ToString(CultureInfo.InvariantCulture),
                _ => JsonSerializer.SerializeToNode(v, v.GetType()),
            };
            if (_tb != null && v is double x && double.IsFinite(x)) _tb.add_scalar($"{stage}/{k}", (float)x, step);
        }
        obj["time_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture);
        using var fs = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var w = new StreamWriter(fs);
        w.Write(obj.ToJsonString(Json.Line));
        w.Write('\n');
    }

    /// <summary>Reads the numeric fields of every line (non-numeric fields skipped; "NaN" strings read as NaN).</summary>
    public static List<Dictionary<string, double>> Read(string path)
    {
        var rows = new List<Dictionary<string, double>>();
        if (!File.Exists(path)) return rows;
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{n}: malformed metrics line ({e.Message})", e); }
            using (doc)
            {
                var d = new Dictionary<string, double>();
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Number) d[p.Name] = p.Value.GetDouble();
                    else if (p.Value.ValueKind == JsonValueKind.String &&
                             double.TryParse(p.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) &&
                             !double.IsFinite(x)) d[p.Name] = x;
                }
                rows.Add(d);
            }
        }
        return rows;
    }

    /// <summary>TorchSharp's SummaryWriter writes each event as it comes; nothing to flush.</summary>
    public void Dispose() { }
}
