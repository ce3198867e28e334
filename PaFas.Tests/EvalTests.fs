module PaFas.Tests.EvalTests

open System
open System.IO
open System.Text.Json
open System.Threading.Tasks
open Expecto
open Microsoft.Extensions.Logging.Abstractions
open TorchSharp
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Model
open PaFas.Host.Evaluation
open PaFas.Host.Inference

let private tempDir = Gen.tempDir "eval"

/// A tiny world (two domains, 32 px) and an untrained tiny checkpoint: enough to exercise every file and API
/// of evaluation and prediction (the numbers of an untrained model are near chance; only their shape is tested).
type Fixture = { Dir: string; Manifest: string; Checkpoint: string }

let fixture =
    lazy
        (let dir = tempDir "fx"
         let synth = SyntheticWorld.Generate(SynthOptions(Out = Path.Combine(dir, "world"), PerDomain = 10, Size = 32, Seed = 11, Domains = [| "C"; "W" |]))
         torch.set_num_threads 1
         let cfg = ModelConfig.Preset "tiny"
         let tok = Tokenizer.Build Gen.grammar
         use m = new PaFasModel(cfg, tok.VocabSize, 7L)
         let ck = Path.Combine(dir, "run", "final")
         Checkpoint.Save(ck, m, tok, CheckpointMeta.Now("sft", 0, null))
         { Dir = dir; Manifest = synth.ManifestPath; Checkpoint = Path.Combine(dir, "run") })

let private evalOptions (f: Fixture) (out: string) (drop: Modality list) =
    EvalOptions(Model = f.Checkpoint, Data = f.Manifest, Val = f.Manifest, Out = out, Drop = Array.ofList drop,
                Domains = [| "W" |], ValDomains = [| "C" |], MaxNew = 24, Batch = 8)

let private evalArgs model data (protocol: string) out =
    EvalOptions(Model = model, Data = data, Val = data, Out = out, Batch = 8, MaxNew = 8, Protocol = (Protocols.tryFind protocol).Value,
                ChainsPerAttack = 1, Seed = 0)

/// A 40-line manifest of the fixture's faces (ids s00..s39); line 37 (if given) gets that depth file, line 5 that RGB file.
let private manifest40 (f: Fixture) (name: string) (depth37: string) (rgb5: string) =
    let samples = Manifest.Load(f.Manifest, ManifestOptions()) |> Seq.toArray
    let line i =
        let s = samples[i % samples.Length]
        let rgb = if i = 4 && not (isNull rgb5) then rgb5 else s.Rgb
        let depth = if i = 36 && not (isNull depth37) then depth37 else s.Depth
        Manifest.ToJson(SampleRecord(sprintf "s%02d" i, rgb, depth, s.Ir, s.Label, s.Attack, s.Domain, s.Cues, ""))
    let p = Path.Combine(f.Dir, name)
    File.WriteAllLines(p, Array.init 40 line)
    p

let private expectInvalid (what: string) (parts: string list) (f: unit -> int) =
    try
        f () |> ignore
        failtestf "%s: no error" what
    with :? InvalidDataException as e ->
        for part in parts do Expect.stringContains e.Message part (sprintf "%s: the error names it" what)

let tests =
    testList "Eval" [
        test "eval writes report.md, metrics.json, plots, samples and predictions; threshold from validation" {
            let f = fixture.Force()
            let out = Path.Combine(f.Dir, "eval")
            let r = EvalRunner.Run(evalOptions f out [], NullLogger.Instance)
            for name in [ "report.md"; "metrics.json"; "roc.png"; "scores.png"; "samples.md"; "predictions.jsonl"; "threshold.json" ] do
                Expect.isTrue (File.Exists(Path.Combine(out, name))) (name + " written")
            Expect.isTrue r.Report.ThresholdFromValidation "threshold comes from the validation domain"
            Expect.equal (r.Report.Lives + r.Report.Spoofs) 10 "all W samples scored"
            Expect.isTrue (r.Report.Hter >= 0.0 && r.Report.Hter <= 1.0) "HTER in [0, 1]"
            use doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "metrics.json")))
            Expect.floatClose Accuracy.high (doc.RootElement.GetProperty("hter").GetDouble()) r.Report.Hter "metrics.json holds the HTER"
            Expect.equal (File.ReadAllLines(Path.Combine(out, "predictions.jsonl")).Length) 10 "one prediction line per test sample"
            let png = File.ReadAllBytes(Path.Combine(out, "roc.png"))
            Expect.sequenceEqual png[0..3] [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy |] "roc.png is a PNG"
            Expect.stringContains (File.ReadAllText(Path.Combine(out, "report.md"))) "HTER" "report has the metrics table"
        }

        test "eval with depth and IR dropped never gives the model those modalities" {
            let f = fixture.Force()
            let out = Path.Combine(f.Dir, "eval-drop")
            let r = EvalRunner.Run(evalOptions f out [ Modality.Depth; Modality.Ir ], NullLogger.Instance)
            Expect.equal r.Test.Count 10 "every W sample evaluated without depth and IR"
            Expect.stringContains (File.ReadAllText(Path.Combine(out, "report.md"))) "missing at test: depth,ir" "the report says what was dropped"
        }

        test "metrics from a CSV of scores match the core's report, with a validation threshold" {
            let dir = tempDir "csv"
            let test = Path.Combine(dir, "test.csv")
            File.WriteAllText(test, "score,label,attack\n0.9,1,\n0.8,1,\n0.35,1,\n0.7,0,print\n0.2,0,print\n0.1,0,replay\n# a comment\n\n")
            let xs = ScoreFile.Read test
            Expect.equal xs.Length 6 "six rows"
            let r = Metrics.report None xs |> function Ok r -> r | Error e -> failwith e
            Expect.floatClose Accuracy.high r.Auc (8.0 / 9.0) "AUC = 8 of 9 live-spoof pairs ordered"
            let v = Path.Combine(dir, "val.jsonl")
            File.WriteAllText(v, "{\"score\": 0.6, \"label\": \"live\"}\n{\"score\": 0.4, \"label\": \"spoof\", \"attack\": \"print\"}\n")
            let args = PaFas.Host.Commands.MetricsOptions(Scores = test, ValScores = v, Out = Path.Combine(dir, "out"))
            Expect.equal (PaFas.Host.Commands.MetricsCommand.Run(args, NullLogger.Instance)) 0 "metrics command succeeds"
            use doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", "metrics.json")))
            Expect.isTrue (doc.RootElement.GetProperty("threshold_from_validation").GetBoolean()) "validation threshold used"
            // threshold 0.6 (validation EER threshold): lives 0.9, 0.8 accepted, 0.35 rejected; spoof 0.7 accepted.
            Expect.floatClose Accuracy.high (doc.RootElement.GetProperty("bpcer").GetDouble()) (1.0 / 3.0) "BPCER at the validation threshold"
        }

        test "score-file errors name the file and line (bad label, non-finite score)" {
            let dir = tempDir "bad"
            for i, body in [ 0, "0.5,1\n0.3,maybe\n"; 1, "0.5,1\nNaN,0\n" ] do
                let p = Path.Combine(dir, sprintf "s%d.csv" i)
                File.WriteAllText(p, body)
                try
                    ScoreFile.Read p |> ignore
                    failtest "expected an error"
                with :? InvalidDataException as e -> Expect.stringContains e.Message (p + ":2") "names file:line"
        }

        test "FaceAntiSpoofer: 8 threads at once give the same predictions as one at a time" {
            let f = fixture.Force()
            let samples = Manifest.Load(f.Manifest, ManifestOptions()) |> Seq.take 8 |> Seq.toArray
            use fas = FaceAntiSpoofer.Load(f.Checkpoint)
            fas.MaxNewTokens <- 16
            let images = samples |> Array.map (fun s -> FaceImages(s.Rgb, s.Depth, s.Ir))
            let sequential = images |> Array.map fas.Predict
            let concurrent = Array.zeroCreate images.Length
            Parallel.For(0, 8, ParallelOptions(MaxDegreeOfParallelism = 8), fun i -> concurrent[i] <- fas.Predict images[i]) |> ignore
            for i in 0 .. 7 do
                Expect.equal concurrent[i].Completion sequential[i].Completion "same completion"
                Expect.floatClose Accuracy.high concurrent[i].LiveScore sequential[i].LiveScore "same live score"
                Expect.isTrue (concurrent[i].LiveScore >= 0.0 && concurrent[i].LiveScore <= 1.0) "score in [0, 1]"
        }

        test "FaceAntiSpoofer: 1,000 predictions from 8 threads equal the sequential ones" {
            let f = fixture.Force()
            let samples = Manifest.Load(f.Manifest, ManifestOptions()) |> Seq.toArray
            use fas = FaceAntiSpoofer.Load(f.Checkpoint)
            fas.MaxNewTokens <- 6
            let images = samples |> Array.map (fun s -> FaceImages(s.Rgb, s.Depth, s.Ir))
            let expected = images |> Array.map fas.Predict
            let got = Array.zeroCreate 1000
            Parallel.For(0, 1000, ParallelOptions(MaxDegreeOfParallelism = 8), fun i -> got[i] <- fas.Predict images[i % images.Length]) |> ignore
            for i in 0 .. 999 do
                let e = expected[i % images.Length]
                Expect.equal got[i].Completion e.Completion "same completion"
                Expect.equal got[i].LiveScore e.LiveScore "same live score, bit for bit"
        }

        test "FaceAntiSpoofer: a face without any image is rejected; a missing file is named" {
            let f = fixture.Force()
            use fas = FaceAntiSpoofer.Load(f.Checkpoint)
            Expect.throwsT<ArgumentException> (fun () -> fas.Predict(FaceImages()) |> ignore) "no modality"
            try
                fas.Predict(FaceImages(Rgb = "/nonexistent/a.png")) |> ignore
                failtest "expected an error"
            with e -> Expect.stringContains e.Message "/nonexistent/a.png" "names the file"
        }

        test "predict --list writes one JSON line per sample" {
            let f = fixture.Force()
            let out = Path.Combine(f.Dir, "pred.jsonl")
            let args = PaFas.Host.Commands.PredictOptions(Model = f.Checkpoint, List = f.Manifest, Out = out, Json = true, MaxNew = 12)
            Expect.equal (PaFas.Host.Commands.PredictCommand.Run(args, NullLogger.Instance)) 0 "predict succeeds"
            let lines = File.ReadAllLines out
            Expect.equal lines.Length 20 "20 samples"
            use doc = JsonDocument.Parse(lines[0])
            let v = doc.RootElement.GetProperty("verdict").GetString()
            Expect.isTrue (v = "live" || v = "spoof") "verdict"
        }
    
        test "eval --protocol: a split left empty by an absent domain is an error naming the file and the domain, before the model loads" {
            let f = fixture.Force()
            let out = Path.Combine(f.Dir, "eval-absent")
            let run protocol () = PaFas.Host.Commands.EvalCommand.Run(evalArgs "/nonexistent/model" f.Manifest protocol out, NullLogger.Instance)
            // the fixture has domains C and W; p1-P tests on P, p3-CW takes its threshold from P and S
            expectInvalid "p1-P" [ f.Manifest; "test split is empty"; "domain P"; "C, W" ] (run "p1-P")
            expectInvalid "p3-CW" [ f.Manifest; "validation split is empty"; "P or S"; "C, W" ] (run "p3-CW")
            let empty = Path.Combine(f.Dir, "empty.jsonl")
            File.WriteAllText(empty, "# nothing here\n\n")
            expectInvalid "empty manifest" [ empty; "no samples" ] (fun () -> PaFas.Host.Commands.EvalCommand.Run(evalArgs f.Checkpoint empty "p1-W" out, NullLogger.Instance))
            Expect.isFalse (Directory.Exists out) "nothing written"
        }

        test "predict --list and score: a sample failing part-way keeps the finished results in OUT.partial and leaves OUT as it was" {
            let f = fixture.Force()
            let samples = Manifest.Load(f.Manifest, ManifestOptions())
            let colour = samples[0].Rgb // a colour picture: passes the header check in the depth slot, fails on its pixels
            let bad = manifest40 f "bad40.jsonl" colour null
            let predOut, scoreOut = Path.Combine(f.Dir, "p40.jsonl"), Path.Combine(f.Dir, "s40.csv")
            File.WriteAllText(predOut, "an earlier run\n")
            File.WriteAllText(scoreOut, "score,label\n0.5,1\n")
            let predict list out = PaFas.Host.Commands.PredictCommand.Run(PaFas.Host.Commands.PredictOptions(Model = f.Checkpoint, List = list, Out = out, Json = true, MaxNew = 4), NullLogger.Instance)
            let score data out = PaFas.Host.Commands.ScoreCommand.Run(PaFas.Host.Commands.ScoreOptions(Model = f.Checkpoint, Data = data, Out = out, Batch = 8, MaxNew = 4), NullLogger.Instance)
            // predict works in batches of 32, score here in batches of 8: line 37 fails after 32 samples in both
            expectInvalid "predict" [ bad + ":37"; colour; "depth slot holds a colour image"; "32 of 40"; predOut + ".partial"; "was not changed" ] (fun () -> predict bad predOut)
            Expect.equal (File.ReadAllText predOut) "an earlier run\n" "OUT unchanged"
            let partial = File.ReadAllLines(predOut + ".partial")
            Expect.equal (partial |> Array.map (fun l -> (JsonDocument.Parse l).RootElement.GetProperty("id").GetString())) (Array.init 32 (sprintf "s%02d")) "the 32 finished predictions, in order"
            expectInvalid "score" [ bad + ":37"; colour; "32 of 40"; scoreOut + ".partial"; "was not changed" ] (fun () -> score bad scoreOut)
            Expect.equal (File.ReadAllText scoreOut) "score,label\n0.5,1\n" "OUT unchanged"
            Expect.equal (ScoreFile.Read(scoreOut + ".partial")).Length 32 "the 32 finished scores, readable by pafas metrics"
            // a line whose headers break a rule fails before any work, naming file:line; no partial file from it
            let gray = samples |> Seq.pick (fun s -> Option.ofObj s.Depth)
            let early = manifest40 f "early40.jsonl" null gray
            expectInvalid "predict, header" [ early + ":5"; gray; "RGB slot" ] (fun () -> predict early (Path.Combine(f.Dir, "e.jsonl")))
            Expect.isFalse (File.Exists(Path.Combine(f.Dir, "e.jsonl.partial"))) "no partial file"
            // once the data is fixed, OUT is written and the stale partial file removed
            let good = manifest40 f "good40.jsonl" null null
            Expect.equal (score good scoreOut) 0 "score succeeds"
            Expect.equal (ScoreFile.Read scoreOut).Length 40 "all 40 scores"
            Expect.isFalse (File.Exists(scoreOut + ".partial")) "stale partial removed"
            Expect.equal (predict good predOut) 0 "predict succeeds"
            Expect.equal (File.ReadAllLines predOut).Length 40 "all 40 predictions"
            Expect.isFalse (File.Exists(predOut + ".partial")) "stale partial removed"
        }
    ]
