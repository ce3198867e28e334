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
         let cfg = ModelConfig.Preset("tiny", Gen.dataDir)
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

        test "eval reports every reasoning measure; metrics.json agrees with the per-sample lines" {
            let f = fixture.Force()
            let out = Path.Combine(f.Dir, "eval-reasoning")
            let r = EvalRunner.Run(evalOptions f out [], NullLogger.Instance)
            let md = File.ReadAllText(Path.Combine(out, "report.md"))
            for name in [ "chain conclusion = true leaf"; "chain conclusion live/spoof = truth"; "written answer = true label"
                          "written answer live/spoof = truth"; "consistency (conclusion = answer)"; "answer live/spoof = score verdict"
                          "self-contradicting chains"; "faithfulness (cited cues that are true)" ] do
                Expect.stringContains md name (name + " in report.md")
            use doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "metrics.json")))
            let q = doc.RootElement.GetProperty("reasoning")
            let lines = File.ReadAllLines(Path.Combine(out, "predictions.jsonl")) |> Array.map (fun l -> (JsonDocument.Parse l).RootElement)
            let share (field: string) =
                float (lines |> Array.filter (fun e -> e.GetProperty(field).ValueKind = JsonValueKind.True) |> Array.length) / float lines.Length
            for key, field in [ "consistency", "consistent"; "answer_score_agreement", "answer_agrees_with_score"
                                "conclusion_score_agreement", "conclusion_agrees_with_score"; "all_agree", "all_agree"
                                "self_contradiction_rate", "self_contradictory"; "answer_live_spoof_accuracy", "answer_live_correct"
                                "conclusion_live_spoof_accuracy", "conclusion_live_correct" ] do
                Expect.floatClose Accuracy.high (q.GetProperty(key).GetDouble()) (share field) (key + " = the share of lines with " + field)
            Expect.equal (q.GetProperty("chains").GetInt32()) 10 "ten chains"
            Expect.equal r.Quality.Chains 10 "the summary counts them"
            for e in lines do
                let agree = e.GetProperty("all_agree").GetBoolean()
                let t (k: string) = e.GetProperty(k).ValueKind = JsonValueKind.True
                Expect.equal agree (t "consistent" && t "answer_agrees_with_score" && t "conclusion_agrees_with_score") "all_agree = the three agreements"
        }

        test "the report's reasoning numbers on crafted completions (no model)" {
            let g = Gen.grammar
            let tx = g.Taxonomy
            let flat = Taxonomy.labelOf tx "Flat Print Attack"
            let say steps = steps |> List.map (Grammar.sentence g) |> String.concat " "
            let start = Start Modality.all
            let sample id (label: string list) (cues: string list) =
                SampleRecord(id, "r.png", "d.png", "i.png", List.toArray label, "", "W", List.toArray cues, "crafted")
            let rows =
                [ // agrees everywhere, cites a true cue
                  sample "live" [ Taxonomy.LiveName ] [ "ir:pupil" ], Grammar.renderText (say [ start; Observe(Gen.cue Modality.Ir "pupil"); Forward Taxonomy.LiveName ]) [ Taxonomy.LiveName ], 0.9
                  // issue 16: the chain concludes a screen, the answer says live, the score says spoof
                  sample "incons" flat [ "depth:flat" ], Grammar.renderText (say [ start; Forward "Spoof Face"; Forward "External Spoofing Attacks"; Forward "Presentation Media Attacks"; Forward "Replay Attacks"; Forward "Screen Replay Attack" ]) [ Taxonomy.LiveName ], 0.2
                  sample "junk" flat [ "depth:flat" ], "no chain at all", 0.1
                  // right answer and conclusion, but pupil and no pupil cited together (one of two cited cues is true)
                  sample "contra" flat [ "ir:nopupil" ], Grammar.render g { Steps = [ start; Observe(Gen.cue Modality.Ir "nopupil"); Forward Taxonomy.LiveName; Reflect(Taxonomy.LiveName, Gen.cue Modality.Ir "pupil") ] @ (flat |> List.map Forward); Answer = flat }, 0.3 ]
                |> List.map (fun (s, text, score) ->
                    let face = FaceTensors(1, Array.zeroCreate 3, Array.zeroCreate 1, Array.zeroCreate 1)
                    Generated(s, text, score, Judge.completion g text, EvalRunner.TruthOf(s, face)))
            let assessed = EvalRunner.Assess(g, rows, 0.5)
            let q = Diagnosis.summarize (assessed |> Seq.map (fun r -> r.Diagnosis))
            let report = Metrics.reportAt 0.5 false None (EvalRunner.ToScored assessed) |> function Ok r -> r | Error e -> failwith e
            let out = tempDir "crafted"
            ReportWriter.Write(out, EvalOptions(Model = "m", Data = "crafted.jsonl", Out = out), "m", report, q, assessed)
            use doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "metrics.json")))
            let j = doc.RootElement.GetProperty("reasoning")
            let num (k: string) = j.GetProperty(k).GetDouble()
            Expect.equal (num "format_failure_rate") 0.25 "junk"
            Expect.equal (num "consistency") 0.5 "live and contra"
            Expect.equal (num "answer_score_agreement") 0.5 "live and contra (junk has no answer)"
            Expect.equal (num "conclusion_score_agreement") 0.75 "all but junk"
            Expect.equal (num "all_agree") 0.5 "live and contra"
            Expect.equal (num "answer_live_spoof_accuracy") 0.5 "live and contra"
            Expect.equal (num "answer_leaf_accuracy") 0.5 "live and contra"
            Expect.equal (num "conclusion_live_spoof_accuracy") 0.75 "the screen conclusion is a spoof"
            Expect.equal (num "conclusion_leaf_accuracy") 0.5 "live and contra"
            Expect.equal (num "self_contradiction_rate") 0.25 "contra"
            Expect.equal (num "faithfulness") (2.0 / 3.0) "pupil (live) and nopupil (contra) true, pupil (contra) not"
            let md = File.ReadAllText(Path.Combine(out, "report.md"))
            Expect.stringContains md "| consistency (conclusion = answer) | 50.00% (2/4); 3 chains have a conclusion |" "consistency row"
            Expect.stringContains md "| faithfulness (cited cues that are true) | 66.67% (2/3) over 4 samples with ground-truth cues |" "faithfulness row"
            let samples = File.ReadAllText(Path.Combine(out, "samples.md"))
            Expect.stringContains samples "DISAGREEMENT: chain conclusion differs from the answer; answer disagrees with the score verdict" "the inconsistent sample says so"
        }

        test "faithfulness is n/a, not 0%, for a manifest without ground-truth cues" {
            let f = fixture.Force()
            let samples = Manifest.Load(f.Manifest, ManifestOptions()) |> Seq.toArray
            let p = Path.Combine(f.Dir, "nocues.jsonl")
            File.WriteAllLines(p, samples |> Array.map (fun s -> Manifest.ToJson(SampleRecord(s.Id, s.Rgb, s.Depth, s.Ir, s.Label, s.Attack, s.Domain, null, ""))))
            let out = Path.Combine(f.Dir, "eval-nocues")
            EvalRunner.Run(evalOptions { f with Manifest = p } out [], NullLogger.Instance) |> ignore
            Expect.stringContains (File.ReadAllText(Path.Combine(out, "report.md"))) "| faithfulness (cited cues that are true) | n/a (the manifest has no ground-truth cues) |" "n/a"
            use doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(out, "metrics.json")))
            Expect.equal (doc.RootElement.GetProperty("reasoning").GetProperty("faithfulness").ValueKind) JsonValueKind.Null "null in metrics.json"
            Expect.equal (doc.RootElement.GetProperty("reasoning").GetProperty("samples_with_truth_cues").GetInt32()) 0 "no sample with cues"
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
            for k in [ "format_valid"; "conclusion"; "consistent"; "answer_agrees_with_score"; "conclusion_agrees_with_score"; "all_agree"; "self_contradictory" ] do
                Expect.isTrue (fst (doc.RootElement.TryGetProperty k)) (k + " in the JSON line")
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
