module PaFas.Tests.PipelineTests

open System.IO
open Expecto
open Microsoft.Extensions.Logging.Abstractions
open PaFas.Host.Pipeline

let private tempDir = Gen.tempDir "pipeline"

let tests =
    testList "PaFas.Pipeline" [
        test "the whole job, tiny: the evaluated checkpoint carries the threshold, the summary names it and the recipe" {
            let out = tempDir "demo"
            let o = PipelineOptions(Out = out, PerDomain = 12, SftSteps = 4, GrpoSteps = 2, ModelSize = "tiny", FromScratch = true, Threads = 1)
            let r = PipelineRunner.Run(o, NullLogger.Instance)
            let grpo = Path.Combine(out, "grpo")
            let best = Path.Combine(grpo, "best")
            let evaluated = if Directory.Exists best then best else grpo
            Expect.isTrue (File.Exists(Path.Combine(evaluated, "threshold.json"))) "the evaluated checkpoint has its validation threshold"
            if Directory.Exists best then
                // grpo/ loads final/, whose weights are not the evaluated ones: no threshold there
                Expect.isFalse (File.Exists(Path.Combine(grpo, "threshold.json"))) "the run folder gets no threshold of another checkpoint"
            let summary = File.ReadAllText(Path.Combine(out, "pipeline.md"))
            Expect.stringContains summary evaluated "names the evaluated checkpoint"
            Expect.stringContains summary "answers not shuffled" "the demo recipe's chains keep their answers"
            Expect.stringContains summary "format + classification (hierarchical) + conclusion" "the demo recipe's reward"
            Expect.stringContains summary "answer/score agreement" "the reasoning measures"
            Expect.equal r.Samples.Count (r.Test.Lives + r.Test.Spoofs) "every held-out sample is scored"
        } ]
