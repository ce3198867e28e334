using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Evaluation;
using PaFas.Host.Inference;
using PaFas.Host.Interop;
using PaFas.Host.IO;
using PaFas.Host.Model;

namespace PaFas.Host.Commands;

/// <summary><c>pafas score</c>: live scores of a manifest's samples, written to the file <c>--out</c> as JSON lines
/// (id, score, label, attack, domain) or, when its name ends in .csv, as CSV with those columns (either is the input
/// of <c>pafas metrics</c>); with <c>--completions</c>, the rewards and FAS metrics of any model's
/// completions (<see cref="CompletionScorer"/>).</summary>
public static class ScoreCommand
{
    public static int Run(ScoreOptions a, ILogger log)
    {
        if (a.Completions != "") return RunCompletions(a, log);
        OutputGuard.File("--out", a.OutPath, GuardedInput.File("--data", a.DataFile), GuardedInput.Model("--model", a.ModelDir));
        var drop = a.Drop.ToArray();
        var samples = EvalRunner.Filter(Manifest.Load(a.DataFile, new ManifestOptions { Root = a.Root, CheckFiles = true }), a.Domains, a.DataFile, "scored");
        using var m = LoadedModel.Load(CheckpointFolder.Resolve(a.ModelDir), TorchRuntime.ResolveDevice(a.Device));
        var outFile = a.OutPath;
        var partial = outFile + ".partial";
        var rows = new List<ScoreRow>();
        try
        {
            for (int i = 0; i < samples.Count; i += a.Batch)
            {
                var chunk = samples.Skip(i).Take(a.Batch).ToList();
                var faces = ImageLoader.LoadBatch(chunk, m.Config.ImageSize).Select(f => drop.Length == 0 ? f : f.Drop(drop)).ToList();
                var raw = m.Run(faces, a.MaxNew);
                for (int k = 0; k < chunk.Count; k++)
                    rows.Add(new ScoreRow(chunk[k].Id, new Scored(raw[k].LiveScore, chunk[k].IsLive, chunk[k].IsLive ? "" : chunk[k].Label[^1], chunk[k].Domain)));
                log.LogInformation("score: {Done}/{Total}", rows.Count, samples.Count);
            }
        }
        catch (Exception e)
        {
            // The scores made so far are saved beside the output (never as the output: a CSV that silently lacks
            // samples would give wrong metrics); OUT is left as it was.
            string note = $"no score was made before the error; {outFile} was not changed";
            if (rows.Count == 0 && File.Exists(partial)) File.Delete(partial); // an earlier run's, not this one's
            if (rows.Count > 0)
            {
                ScoreFile.Write(partial, rows);
                note = $"the {rows.Count} of {samples.Count} scores made before the error are in {partial}; {outFile} was not changed";
            }
            throw Unfinished.Wrap(e, note, log);
        }
        ScoreFile.Write(outFile, rows);
        if (File.Exists(partial)) File.Delete(partial); // left by an earlier failed run
        Console.WriteLine(outFile);
        return 0;
    }

    private static int RunCompletions(ScoreOptions a, ILogger log)
    {
        var g = GrammarStore.Default;
        var cfg = Rewards.paper(a.RewardMode);
        OutputGuard.Folder("--out", a.OutPath, null, GuardedInput.File("--completions", a.Completions), GuardedInput.File("--data", a.DataFile));
        var lines = CompletionScorer.Load(a.Completions, g);
        var manifest = a.DataFile == "" ? null : Manifest.Load(a.DataFile, new ManifestOptions { Root = a.Root, Grammar = g });
        var report = CompletionScorer.Score(lines, manifest, g, cfg);
        var ids = (manifest ?? Array.Empty<SampleRecord>()).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        int unmatched = manifest == null ? 0 : lines.Count(l => !ids.Contains(l.Id));
        if (unmatched > 0) log.LogWarning("score: {N} completion ids are not in {Manifest}", unmatched, a.DataFile);
        CompletionScorer.Write(a.OutPath, report, a.Completions);
        Console.Write(CompletionScorer.Summary(report));
        Console.WriteLine($"report: {Path.Combine(a.OutPath, "report.md")}");
        return 0;
    }
}
