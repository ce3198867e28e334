using Microsoft.Extensions.Logging;
using PaFas.Host.Data;
using PaFas.Host.Interop;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas export</c>: training data for TRL / LLaVA / LLaMA-Factory / VLM-R1
/// (<see cref="TrainingDataExport"/>) or the model as safetensors (<see cref="SafetensorsExport"/>).</summary>
public static class ExportCommand
{
    public static int Run(ExportOptions a, ILogger log)
    {
        if (a.Format == "safetensors") OutputGuard.Folder("--out", a.Out, null, GuardedInput.Model("--model", a.Model));
        else OutputGuard.File("--out", TrainingDataExport.OutFile(a.Out, a.Format, a.Kind), GuardedInput.File("--data", a.DataFile));
        if (a.Format == "safetensors")
        {
            var file = SafetensorsExport.Export(a.Model, a.Out);
            log.LogInformation("export: {File} (+ config.json, tokenizer.json)", file);
            Console.WriteLine(file);
            return 0;
        }
        var r = TrainingDataExport.Write(a.Format, a.Kind, a.DataFile, a.Root, a.Out, GrammarStore.Default);
        if (r.Skipped > 0) log.LogWarning("export: {N} samples without a full taxonomy label skipped", r.Skipped);
        if (r.DatasetInfo != null) Console.WriteLine($"LLaMA-Factory dataset '{TrainingDataExport.LlamaFactoryName}': {r.DatasetInfo}");
        Console.WriteLine($"{r.OutFile} ({r.Lines} lines, {a.Format}, {a.Kind})");
        return 0;
    }
}
