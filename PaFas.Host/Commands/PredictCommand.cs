using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Evaluation;
using PaFas.Host.Inference;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas predict</c>: the verdict, taxonomy path, live score and reasoning for one face
/// (<c>--rgb/--depth/--ir</c>) or for every sample of a manifest (<c>--list</c>, JSON lines).</summary>
public static class PredictCommand
{
    public static int Run(PredictOptions a, ILogger log)
    {
        if (a.Out != "")
            OutputGuard.File("--out", a.Out, GuardedInput.File("--list", a.List), GuardedInput.File("--rgb", a.Rgb), GuardedInput.File("--depth", a.Depth),
                GuardedInput.File("--ir", a.Ir), GuardedInput.File("--threshold-from", a.ThresholdFrom), GuardedInput.Model("--model", a.Model));
        using var fas = FaceAntiSpoofer.Load(a.Model, a.Device, a.Threshold, a.ThresholdFrom);
        fas.MaxNewTokens = a.MaxNew;
        log.LogInformation("predict: model {Source}, threshold {T:F4} from {From}", fas.Source, fas.Threshold, fas.ThresholdFrom);
        if (a.List != "") return RunList(a, fas, log);
        var p = fas.Predict(new FaceImages(Nul(a.Rgb), Nul(a.Depth), Nul(a.Ir)));
        if (a.Json || a.Out != "")
        {
            var line = Json(a.Rgb != "" ? a.Rgb : a.Depth != "" ? a.Depth : a.Ir, p);
            if (a.Out == "") Console.WriteLine(line); else { AtomicFile.WriteAllText(a.Out, line + "\n"); Console.WriteLine(a.Out); }
            return 0;
        }
        Console.WriteLine($"verdict:    {(p.IsLive ? "LIVE" : "SPOOF")} (live score {p.LiveScore:F4}, threshold {fas.Threshold:F4} from {fas.ThresholdFrom})");
        Console.WriteLine($"answer:     {(p.Label.Count == 0 ? "(the model's answer did not parse)" : string.Join(" > ", p.Label))}");
        Console.WriteLine($"conclusion: {p.Conclusion ?? "(the chain has no conclusion)"}");
        Console.WriteLine($"agreement:  {ReasoningReport.AgreementText(p.Agreement)}" +
                          (p.SelfContradictory ? " (the chain contradicts itself)" : ""));
        Console.WriteLine($"reasoning:  {p.Reasoning}");
        if (!p.FormatValid) Console.WriteLine($"completion: {p.Completion}");
        return 0;
    }

    /// <summary>Every sample of a manifest. The files' headers are checked first (a bad line fails before any
    /// model work). With --out the lines are written atomically at the end; if a sample fails part-way (a file
    /// whose pixels break a slot rule, one changed since the check), the predictions made before it are saved to
    /// <c>OUT.partial</c>, OUT is left as it was, and the error names the sample's file:line and the partial file.
    /// Without --out each batch's lines are printed (flushed) as they are made.</summary>
    private static int RunList(PredictOptions a, FaceAntiSpoofer fas, ILogger log)
    {
        var samples = Manifest.Load(a.List, new ManifestOptions { Root = a.Root, CheckFiles = true });
        var partial = a.Out == "" ? "" : a.Out + ".partial";
        var sb = new StringBuilder();
        int done = 0;
        const int batch = 32;
        try
        {
            for (int i = 0; i < samples.Count; i += batch)
            {
                var chunk = samples.Skip(i).Take(batch).ToList();
                var preds = fas.PredictBatch(ImageLoader.LoadBatch(chunk, fas.ImageSize));
                for (int k = 0; k < chunk.Count; k++)
                {
                    var line = Json(chunk[k].Id, preds[k]);
                    if (a.Out == "") Console.WriteLine(line); else sb.Append(line).Append('\n');
                }
                if (a.Out == "") Console.Out.Flush();
                done += chunk.Count;
                log.LogInformation("predict: {Done}/{Total}", done, samples.Count);
            }
        }
        catch (Exception e)
        {
            string note;
            if (a.Out == "") note = $"{done} of {samples.Count} predictions were printed before the error";
            else if (done == 0)
            {
                if (File.Exists(partial)) File.Delete(partial); // an earlier run's, not this one's
                note = $"no prediction was made before the error; {a.Out} was not changed";
            }
            else
            {
                AtomicFile.WriteAllText(partial, sb.ToString());
                note = $"the {done} of {samples.Count} predictions made before the error are in {partial}; {a.Out} was not changed";
            }
            throw Unfinished.Wrap(e, note, log);
        }
        if (a.Out != "")
        {
            AtomicFile.WriteAllText(a.Out, sb.ToString());
            if (File.Exists(partial)) File.Delete(partial); // left by an earlier failed run; OUT now supersedes it
            Console.WriteLine(a.Out);
        }
        return 0;
    }

    private static string? Nul(string s) => s == "" ? null : s;

    /// <summary>One prediction as a JSON line.</summary>
    public static string Json(string id, Prediction p) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = id,
        ["verdict"] = p.IsLive ? "live" : "spoof",
        ["live_score"] = p.LiveScore,
        ["label"] = p.Label,
        ["reasoning"] = p.Reasoning,
        ["completion"] = p.Completion,
    }.Concat(ReasoningReport.AgreementFields(GrammarStore.Default, p.Judgement, p.Agreement)).ToDictionary());
}

/// <summary>The error of a command that stopped part-way, with a note saying what became of the results made
/// before it. Expected failures (bad input, I/O) keep their type, so the exit code stays the same; any other
/// exception is rethrown as is after the note is logged.</summary>
internal static class Unfinished
{
    public static Exception Wrap(Exception e, string note, ILogger log)
    {
        var msg = $"{e.Message} ({note})";
        switch (e)
        {
            case FileNotFoundException f: return new FileNotFoundException(msg, f.FileName, e);
            case InvalidDataException: return new InvalidDataException(msg, e);
            case ArgumentException: return new ArgumentException(msg, e);
            case IOException: return new IOException(msg, e);
            default:
                log.LogError("{Note}", note);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
                return e; // not reached
        }
    }
}
