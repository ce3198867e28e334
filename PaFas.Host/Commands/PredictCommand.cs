using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Inference;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas predict</c>: the verdict, taxonomy path, live score and reasoning for one face
/// (<c>--rgb/--depth/--ir</c>) or for every sample of a manifest (<c>--list</c>, JSON lines).</summary>
public static class PredictCommand
{
    public static int Run(PredictArgs a, ILogger log)
    {
        using var fas = FaceAntiSpoofer.Load(a.Model, a.Common.Device, a.Threshold >= 0 ? a.Threshold : null);
        fas.MaxNewTokens = a.MaxNew;
        log.LogInformation("predict: model {Source}, threshold {T:F4}", fas.Source, fas.Threshold);
        if (a.List != "")
        {
            var samples = Manifest.Load(a.List, new ManifestOptions { Root = a.Root });
            var sb = new StringBuilder();
            const int batch = 32;
            for (int i = 0; i < samples.Count; i += batch)
            {
                var chunk = samples.Skip(i).Take(batch).ToList();
                var preds = fas.PredictBatch(ImageLoader.LoadBatch(chunk, fas.ImageSize));
                for (int k = 0; k < chunk.Count; k++)
                {
                    var line = Json(chunk[k].Id, preds[k]);
                    if (a.Out == "") Console.WriteLine(line); else sb.Append(line).Append('\n');
                }
                log.LogInformation("predict: {Done}/{Total}", Math.Min(i + batch, samples.Count), samples.Count);
            }
            if (a.Out != "") { AtomicFile.WriteAllText(a.Out, sb.ToString()); Console.WriteLine(a.Out); }
            return 0;
        }
        var p = fas.Predict(new FaceImages(Nul(a.Rgb), Nul(a.Depth), Nul(a.Ir)));
        if (a.Json || a.Out != "")
        {
            var line = Json(a.Rgb != "" ? a.Rgb : a.Depth != "" ? a.Depth : a.Ir, p);
            if (a.Out == "") Console.WriteLine(line); else { AtomicFile.WriteAllText(a.Out, line + "\n"); Console.WriteLine(a.Out); }
            return 0;
        }
        Console.WriteLine($"verdict:    {(p.IsLive ? "LIVE" : "SPOOF")} (live score {p.LiveScore:F4}, threshold {fas.Threshold:F4})");
        Console.WriteLine($"answer:     {(p.Label.Count == 0 ? "(the model's answer did not parse)" : string.Join(" > ", p.Label))}");
        Console.WriteLine($"reasoning:  {p.Reasoning}");
        if (!p.FormatValid) Console.WriteLine($"completion: {p.Completion}");
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
        ["format_valid"] = p.FormatValid,
        ["reasoning"] = p.Reasoning,
        ["completion"] = p.Completion,
    });
}
