module PaFas.Tests.BenchTests

open System.IO
open System.Text.Json
open Expecto
open Microsoft.Extensions.Logging.Abstractions
open TorchSharp
open PaFas.Core
open PaFas.Host.Bench
open PaFas.Host.Commands
open PaFas.Host.Model

let private tok = lazy (Tokenizer.Build Gen.grammar)

/// FLOPs of one forward pass counted from the model's own parameter shapes: every 2-D weight (and the patch
/// convolutions) times the tokens that pass through it, 2 per multiply-add, plus the attention products.
let private flopsFromShapes (cfg: ModelConfig) (textTokens: int) =
    use m = new PaFasModel(cfg, tok.Value.VocabSize, 1L)
    let nv = float cfg.VisualTokens
    let t = float textTokens
    let l = nv + t
    let mutable total = 0.0
    let mutable stems = 0.0
    for struct (name, p) in m.named_parameters () do
        let shape = p.shape
        if name.StartsWith "vision.stem_" && name.EndsWith ".weight" then
            let f = 2.0 * float cfg.PatchesPerModality * float (shape |> Array.fold (*) 1L)
            stems <- stems + f
            total <- total + f
        elif shape.Length = 2 && name.EndsWith ".weight" then
            let tokens =
                if name.StartsWith "vision." then nv
                elif name.StartsWith "layers." then l
                elif name = "embed.weight" then (if cfg.TieEmbeddings then t else 0.0)
                elif name = "head.weight" then t
                else failwithf "unexpected weight %s" name
            total <- total + 2.0 * tokens * float shape[0] * float shape[1]
    let attention = float cfg.Layers * 4.0 * l * l * float cfg.Dim + float cfg.VisionLayers * 4.0 * nv * nv * float cfg.VisionDim
    total + attention, stems

let tests =
    testSequenced
    <| testList
        "Bench"
        [ test "the analytic FLOP count equals the count from the model's parameter shapes" {
              let tiny = ModelConfig.Preset("tiny", Gen.dataDir)
              let small = ModelConfig.Preset("small", Gen.dataDir)
              let untied =
                  ModelConfig.FromJson(
                      tiny.ToJson().Replace("\"tieEmbeddings\": true", "\"tieEmbeddings\": false").Replace("\"kvHeads\": 2", "\"kvHeads\": 4")
                          .Replace("\"visionLayers\": 1", "\"visionLayers\": 2"))
              Expect.isFalse untied.TieEmbeddings "untied head"
              Expect.equal (untied.KvHeads, untied.VisionLayers) (4, 2) "variant"
              for cfg in [ tiny; small; untied ] do
                  for t in [ 1; 148 ] do
                      let expected, expectedStems = flopsFromShapes cfg t
                      let struct (f, s) = Flops.Forward(cfg, tok.Value.VocabSize, t)
                      Expect.floatClose Accuracy.veryHigh f expected $"{cfg.Name} forward, {t} text tokens"
                      Expect.floatClose Accuracy.veryHigh s expectedStems "stems"
                      Expect.floatClose Accuracy.veryHigh (Flops.TrainStep(cfg, tok.Value.VocabSize, t, 8)) (8.0 * (3.0 * expected - expectedStems)) "step"
          }
          test "bench sft on the tiny preset reports throughput, FLOP/s and the workload spec" {
              let dir = Gen.tempDir "bench" "sft"
              try
                  let args = PaFas.Host.Commands.BenchOptions(What = [| "sft" |], Out = dir, Repeat = 1, ModelSize = "tiny", Threads = 1, Seed = 3)
                  let report = BenchCommand.Measure(args, NullLogger.Instance)
                  report.Write(dir, 1)
                  use doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "bench.json")))
                  let results = doc.RootElement.GetProperty("results").EnumerateArray() |> Seq.map (fun e -> e.GetProperty("key").GetString(), e.GetProperty("median").GetDouble()) |> Map.ofSeq
                  for b in [ 1; 8; 32 ] do
                      for k in [ "step_ms"; "samples_per_s"; "tokens_per_s"; "gflops" ] do
                          let key = $"sft.b{b}.{k}"
                          Expect.isTrue (results.ContainsKey key) key
                          Expect.isGreaterThan results[key] 0.0 key
                  Expect.isGreaterThan results["matmul.peak_gflops"] 0.0 "matmul peak"
                  Expect.floatClose Accuracy.medium results["sft.b32.peak_fraction"] (results["sft.b32.gflops"] / results["matmul.peak_gflops"]) "fraction"
                  let spec = doc.RootElement.GetProperty("spec")
                  use m = new PaFasModel(ModelConfig.Preset("tiny", Gen.dataDir), tok.Value.VocabSize, 1L)
                  Expect.equal (spec.GetProperty("parameters").GetInt64()) m.ParameterCount "parameter count"
                  Expect.equal (spec.GetProperty("vocab").GetInt32()) tok.Value.VocabSize "vocabulary"
                  let t = spec.GetProperty("text_tokens").GetInt32()
                  Expect.floatClose Accuracy.veryHigh (spec.GetProperty("sft_flops_per_step").GetProperty("32").GetDouble())
                      (Flops.TrainStep(ModelConfig.Preset("tiny", Gen.dataDir), tok.Value.VocabSize, t, 32)) "FLOPs in the spec"
                  Expect.stringContains (File.ReadAllText(Path.Combine(dir, "bench.md"))) "sft.b32.tokens_per_s" "table"
              finally
                  Directory.Delete(dir, true)
          }
          test "a bench entry's median, quantiles and extremes" {
              let e = BenchEntry.Of("k", "n", "u", [ 3.0; 1.0; 2.0; 10.0 ])
              Expect.equal e.Median 2.5 "even count: mean of the middle two"
              Expect.equal (e.Min, e.Max) (1.0, 10.0) "extremes"
              Expect.equal e.Runs [| 3.0; 1.0; 2.0; 10.0 |] "runs kept in order"
              Expect.equal (BenchEntry.Quantile([| 1.0 .. 20.0 |], 0.95)) 19.0 "p95 by nearest rank"
              Expect.equal (BenchEntry.Quantile([| 1.0 .. 20.0 |], 0.5)) 10.0 "p50 by nearest rank"
              Expect.throwsT<System.ArgumentException> (fun () -> BenchEntry.Of("k", "n", "u", []) |> ignore) "no runs"
          } ]
