module PaFas.Tests.LimitsTests

// Issue 19: bounded inputs, expected failures as exit 1 / 2 with one line, checks before work, score files read by
// their header, meaningful splits.

open System
open System.Diagnostics
open System.IO
open Expecto
open Microsoft.Extensions.Logging.Abstractions
open PaFas.Core
open PaFas.Host
open PaFas.Host.Data
open PaFas.Host.Evaluation
open PaFas.Host.IO

let private tempDir = Gen.tempDir "limits"
let private main (argv: string list) = Program.Main(List.toArray argv)

/// A small synthetic world (4 domains x 6, 32 px), made once.
let private world =
    lazy (SyntheticWorld.Generate(SynthOptions(Out = tempDir "world", PerDomain = 6, Size = 32, Seed = 3)).ManifestPath)

/// The world's manifest with the RGB file of line <paramref name="line"/> (1-based) replaced.
let private withRgb (name: string) (line: int) (rgb: string) =
    let lines = File.ReadAllLines world.Value
    let s = Manifest.Load(world.Value).[line - 1]
    lines[line - 1] <- Manifest.ToJson(SampleRecord(s.Id, rgb, s.Depth, s.Ir, s.Label, s.Attack, s.Domain, s.Cues, ""))
    let p = Path.Combine(Path.GetDirectoryName world.Value, name)
    File.WriteAllLines(p, lines)
    p

let private invalid what parts f = Gen.expectMessage<InvalidDataException> what parts f

let private writeLines (dir: string) (name: string) (text: string) =
    let p = Path.Combine(dir, name)
    File.WriteAllText(p, text)
    p

let tests =
    testList
        "Limits"
        [ test "exit codes: a bad command line found by the host is 2, bad input 1, a parallel loader's error counts as its own" {
              Expect.equal (Program.ExitCodeOf(UsageException "--out x is --data x")) 2 "usage"
              Expect.equal (Program.ExitCodeOf(AggregateException(InvalidDataException "m.jsonl:3: bad"))) 1 "wrapped bad input"
              Expect.equal (Program.ExitCodeOf(AggregateException(NullReferenceException()))) 3 "wrapped bug"
              Expect.equal (Program.OneLine(Program.Unwrap(AggregateException(InvalidDataException "m.jsonl:3: bad")))) "m.jsonl:3: bad" "the inner message"
              let d = tempDir "rf"
              let log = NullLogger.Instance
              (PaFas.Host.Training.RunFolder.Open(d, false, false, log)).WriteConfig("sft", {| lr = 1e-3 |}, "tiny", 1)
              let e = Expect.throwsC (fun () -> PaFas.Host.Training.RunFolder.Open(d, false, false, log) |> ignore) id
              Expect.equal (Program.ExitCodeOf e) 2 "an existing run without --resume/--force"
          }

          test "--threads above cores x 4 is refused at once where threads are applied (exit 2); the limit itself passes" {
              let sw = Stopwatch.StartNew()
              Expect.equal (main [ "--threads"; "100000"; "inspect"; "--data"; world.Value ]) 2 "100000 threads"
              Expect.isLessThan sw.Elapsed.TotalSeconds 10.0 "fails fast"
              Expect.throwsT<UsageException> (fun () -> PaFas.Host.Model.TorchRuntime.SetThreads(ThreadLimit.Max + 1)) "TorchRuntime checks it too"
              ThreadLimit.Check ThreadLimit.Max
              Expect.equal (main [ "--threads"; string ThreadLimit.Max; "inspect"; "--data"; world.Value ]) 0 "at the limit"
          }

          test "text inputs: /dev/zero, an overlong line and an oversized file fail fast with a message, in bounded memory" {
              if File.Exists "/dev/zero" then
                  let before = GC.GetTotalAllocatedBytes false
                  let sw = Stopwatch.StartNew()
                  invalid "/dev/zero" [ "/dev/zero:1"; "line longer" ] (fun () -> Manifest.Load "/dev/zero" |> ignore)
                  Expect.isLessThan sw.Elapsed.TotalSeconds 10.0 "fast"
                  Expect.isLessThan (GC.GetTotalAllocatedBytes false - before) (64L <<< 20) "under 64 MiB allocated"
                  Expect.equal (main [ "inspect"; "--data"; "/dev/zero" ]) 1 "inspect exits 1"
              let d = tempDir "text"
              let long = writeLines d "long.jsonl" ("{\"id\":\"a\"}\n" + String('x', TextLimits.MaxLineChars + 1) + "\n")
              invalid "long line" [ long + ":2" ] (fun () -> Manifest.Load long |> ignore)
              let longScores = writeLines d "long.csv" ("0.5,1\n" + String('x', TextLimits.MaxLineChars + 1) + "\n")
              invalid "long line in scores" [ longScores + ":2" ] (fun () -> ScoreFile.Read longScores |> ignore)
              let big = Path.Combine(d, "big.jsonl")
              do (use fs = File.Create big in fs.SetLength(TextLimits.MaxFileBytes + 1L)) // sparse: no disk used
              invalid "big file" [ big; "larger than" ] (fun () -> Manifest.Load big |> ignore)
              let crlf = writeLines d "crlf.csv" "score,label\r\n0.9,1\r\n0.1,0"
              Expect.equal (ScoreFile.Read crlf).Length 2 "CRLF and a last line without newline are read"
          }

          test "score files: a header in any column order is read by its names; conflicting labels of one id are refused; duplicates warned" {
              let d = tempDir "scores"
              let reordered = writeLines d "r.csv" "label,id,score,domain\n1,a,0.9,C\n0,b,0.2,C\nlive,c,0.8,W\n"
              let xs = ScoreFile.Read reordered
              Expect.equal (xs |> Array.map (fun x -> x.Score, x.IsLive, x.Domain)) [| 0.9, true, "C"; 0.2, false, "C"; 0.8, true, "W" |] "by name"
              invalid "no score column" [ "r2.csv:1"; "'score'" ] (fun () -> ScoreFile.Read(writeLines d "r2.csv" "label,value\n1,0.9\n") |> ignore)
              let conflict = writeLines d "c.jsonl" "{\"id\":\"x\",\"score\":0.9,\"label\":1}\n{\"id\":\"y\",\"score\":0.1,\"label\":0}\n{\"id\":\"x\",\"score\":0.3,\"label\":\"spoof\"}\n"
              invalid "conflict" [ conflict + ":3"; "'x'"; "line 1" ] (fun () -> ScoreFile.Read conflict |> ignore)
              let warnings = Collections.Generic.List<string>()
              let dup = writeLines d "d.csv" "id,score,label\nx,0.9,1\ny,0.1,0\nx,0.8,1\n"
              Expect.equal (ScoreFile.Read(dup, Action<string> warnings.Add)).Length 3 "every line counted"
              Expect.equal warnings.Count 1 "one warning"
              Expect.stringContains warnings[0] "'x' at lines 2 and 4" "names the id and lines"
              let args = PaFas.Host.Commands.MetricsOptions(Scores = conflict, Threads = 1)
              Expect.throwsT<InvalidDataException> (fun () -> PaFas.Host.Commands.MetricsCommand.Run(args, NullLogger.Instance) |> ignore) "metrics refuses"
              // what score writes, metrics reads back (JSONL by default, CSV by extension), ids included
              let rows = [ ScoreRow("a", { Score = 0.75; IsLive = true; Attack = ""; Domain = "C" })
                           ScoreRow("b", { Score = 0.25; IsLive = false; Attack = "Flat Print Attack"; Domain = "W" }) ]
              for name in [ "s.jsonl"; "s.csv"; "s.partial" ] do
                  let p = Path.Combine(d, name)
                  ScoreFile.Write(p, rows)
                  Expect.equal (ScoreFile.ReadRows p |> Seq.toList) rows (name + " round trip")
          }

          test "split: 12 sources at --val-fraction 0.15 no longer put 8 of them in validation; a one-class validation split is refused; small ones warned" {
              let sample (domain: string) (i: int) (live: bool) =
                  SampleRecord(sprintf "%s-%02d" domain i, "x.png", null, null,
                               (if live then [| "Real Face" |] else [| "Spoof Face"; "External Spoofing Attacks"; "Presentation Media Attacks"; "Print Attacks"; "Flat Print Attack" |]),
                               (if live then "" else "Flat Print Attack"), domain, null, "m.jsonl")
              let make (lives: bool) fraction (warn: Action<string>) =
                  let all = ResizeArray [ for d in [ "C"; "P"; "S"; "W" ] do for i in 0..3 -> sample d i (if lives then true else i % 2 = 0) ]
                  ProtocolSplit.Make(all, "p1-W", [| "C"; "P"; "S" |], [| "W" |], fraction, 1, "m.jsonl", warn)
              Expect.equal (ProtocolSplit.ValidationCount(12, 0.15)) 2 "round(12 x 0.15) = 2, not 8"
              Expect.equal (ProtocolSplit.ValidationCount(120, 0.15)) 18 "large sets unchanged"
              invalid "one-class validation" [ "m.jsonl"; "validation split"; "no spoof" ] (fun () -> make true 0.15 null |> ignore)
              let warnings = Collections.Generic.List<string>()
              let struct (train, valid, test) = make false 0.5 (Action<string> warnings.Add)
              Expect.equal (train.Count, valid.Count, test.Count) (6, 6, 4) "half and half; W is the test set"
              Expect.equal warnings.Count 1 "a warning: too small to rely on"
              Expect.stringContains warnings[0] "too small" "says why"
          }

          test "eval: a validation set without spoofs is blamed, before the model loads; so is a one-class test set" {
              let d = tempDir "eval"
              let run = Path.Combine(d, "no-model") // never loaded: the check comes first
              Directory.CreateDirectory run |> ignore
              let lives = Manifest.Load world.Value |> Seq.filter (fun s -> s.IsLive) |> Seq.toList
              let livePath = Path.Combine(Path.GetDirectoryName world.Value, "lives.jsonl")
              Manifest.WriteJsonl(livePath, lives)
              let args data valFile =
                  EvalOptions(Model = run, Data = data, Val = valFile, Out = Path.Combine(d, "out"), Batch = 8, MaxNew = 8, ChainsPerAttack = 0, Threads = 1)
              invalid "validation" [ livePath; "validation split has no spoof" ] (fun () ->
                  PaFas.Host.Commands.EvalCommand.Run(args world.Value livePath, NullLogger.Instance) |> ignore)
              invalid "test" [ livePath; "test split has no spoof" ] (fun () ->
                  PaFas.Host.Commands.EvalCommand.Run(args livePath world.Value, NullLogger.Instance) |> ignore)
              Expect.isFalse (Directory.Exists(Path.Combine(d, "out"))) "nothing written"
          }

          test "annotate --skip-bad skips a line whose image is missing or corrupt, as inspect does; without it the line is named" {
              let dir = Path.GetDirectoryName world.Value
              let garbage = Path.Combine(dir, "garbage.png")
              File.WriteAllText(garbage, "not a png")
              let bad = withRgb "bad-missing.jsonl" 2 (Path.Combine(dir, "nope.png"))
              let bad = (let lines = File.ReadAllLines bad
                         let s = Manifest.Load(world.Value).[4]
                         lines[4] <- Manifest.ToJson(SampleRecord(s.Id, garbage, s.Depth, s.Ir, s.Label, s.Attack, s.Domain, s.Cues, ""))
                         File.WriteAllLines(bad, lines)
                         bad)
              let out = Path.Combine(tempDir "ann", "a.jsonl")
              let args skip = PaFas.Host.Commands.AnnotateOptions(Data = bad, Out = out, SkipBad = skip, Threads = 1)
              invalid "no --skip-bad" [ bad + ":2"; "nope.png" ] (fun () -> PaFas.Host.Commands.AnnotateCommand.Run(args false, NullLogger.Instance) |> ignore)
              Expect.isFalse (File.Exists out) "nothing written"
              Expect.equal (PaFas.Host.Commands.AnnotateCommand.Run(args true, NullLogger.Instance)) 0 "--skip-bad"
              Expect.equal (File.ReadAllLines out).Length ((Manifest.Load world.Value).Count - 2) "two lines skipped"
          }

          test "sft and grpo: a bad image in the chains or the data fails before the run starts (exit 1, file:line), the run folder untouched" {
              let dir = Path.GetDirectoryName world.Value
              let garbage = Path.Combine(dir, "garbage2.png")
              File.WriteAllText(garbage, "not a png")
              let bad = withRgb "bad-grpo.jsonl" 3 garbage
              let chains = Path.Combine(tempDir "chains", "chains.jsonl")
              let a = PaFas.Host.Augmentation.AugmentOptions(Data = bad, Out = chains, Paths = 1, Labelled = 0, Alpha = 1.5, Threads = 1)
              Expect.equal (PaFas.Host.Commands.AugmentCommand.Run(a, NullLogger.Instance)) 0 "augment does not read pixels"
              let out = Path.Combine(tempDir "run", "sft")
              Expect.equal (main [ "sft"; "--chains"; chains; "--out"; out; "--steps"; "1"; "--model-size"; "tiny"; "--threads"; "1" ]) 1 "sft exits 1"
              Expect.isFalse (Directory.Exists out) "sft: no run folder"
              invalid "sft message" [ chains + ":"; garbage ] (fun () -> PaFas.Host.Training.TrainingInputs.Check(chains, ""))
              Expect.equal (main [ "grpo"; "--data"; bad; "--init"; out; "--out"; out + "-grpo"; "--steps"; "1" ]) 1 "grpo exits 1"
              Expect.isFalse (Directory.Exists(out + "-grpo")) "grpo: no run folder"
              invalid "grpo message" [ bad + ":3"; garbage ] (fun () -> PaFas.Host.Training.TrainingInputs.Check(bad, ""))
              PaFas.Host.Training.TrainingInputs.Check(bad, "", [| "W" |]) // the bad line is in domain C: not read with --domains W
          }

          test "predict's threshold: explicit, --threshold-from (folder or file), the model folder's, else 0.5, always with its source" {
              let d = tempDir "thr"
              let model, ck, ev = Path.Combine(d, "run"), Path.Combine(d, "run", "final"), Path.Combine(d, "eval")
              for x in [ ck; ev ] do Directory.CreateDirectory x |> ignore
              let resolve v from = PaFas.Host.Inference.ThresholdChoice.Resolve(model, ck, v, from)
              let t0 = resolve (Nullable()) ""
              Expect.equal t0.Value 0.5 "default"
              Expect.stringContains t0.From "no threshold.json" "says it is the default and why"
              File.WriteAllText(Path.Combine(model, "threshold.json"), "{\"threshold\": 0.7665}")
              Expect.equal (resolve (Nullable()) "").Value 0.7665 "the model folder's"
              File.WriteAllText(Path.Combine(ev, "threshold.json"), "{\"threshold\": 0.25, \"from_validation\": true}")
              let t2 = resolve (Nullable()) ev
              Expect.equal (t2.Value, t2.From) (0.25, Path.Combine(ev, "threshold.json")) "--threshold-from a folder"
              Expect.equal (resolve (Nullable()) (Path.Combine(ev, "threshold.json"))).Value 0.25 "--threshold-from a file"
              Expect.equal (resolve (Nullable 0.9) "").From "--threshold" "explicit"
              Expect.throwsT<FileNotFoundException> (fun () -> resolve (Nullable()) (Path.Combine(d, "none")) |> ignore) "missing"
              File.WriteAllText(Path.Combine(ev, "threshold.json"), "{\"threshold\": 7}")
              invalid "out of range" [ "threshold.json" ] (fun () -> resolve (Nullable()) ev |> ignore)
          }

          test "log lines written to a file or pipe carry no ANSI escape codes" {
              let dll = typeof<Program>.Assembly.Location
              let psi = ProcessStartInfo("dotnet", sprintf "\"%s\" inspect --data \"%s\" --verbose" dll world.Value)
              psi.RedirectStandardError <- true
              psi.RedirectStandardOutput <- true
              use p = Process.Start psi
              let err = p.StandardError.ReadToEndAsync()
              let out = p.StandardOutput.ReadToEnd()
              p.WaitForExit()
              Expect.equal p.ExitCode 0 "inspect succeeds"
              Expect.stringContains err.Result "dbug" "there are log lines"
              Expect.isFalse (err.Result.Contains '\u001b' || out.Contains '\u001b') "no escape codes"
          } ]

/// Commands that run the model (an untrained tiny checkpoint: only the files are tested).
let libtorchTests =
    testList
        "Limits with a model"
        [ test "score --out new.jsonl writes that file (JSON lines with ids, read back by metrics); .csv gives CSV; a folder is refused" {
              let f = EvalTests.fixture.Force()
              let d = tempDir "score"
              let score out =
                  let a = PaFas.Host.Commands.ScoreOptions(Model = f.Checkpoint, Data = f.Manifest, Out = out, Batch = 8, MaxNew = 4, Threads = 1)
                  PaFas.Host.Commands.ScoreCommand.Run(a, NullLogger.Instance)
              let jsonl = Path.Combine(d, "new.jsonl")
              Expect.equal (score jsonl) 0 "score"
              Expect.isTrue (File.Exists jsonl) "a file, not a folder"
              let rows = ScoreFile.ReadRows jsonl
              Expect.equal rows.Count 20 "every sample"
              Expect.equal (rows |> Seq.map (fun r -> r.Id) |> Set.ofSeq) (Manifest.Load f.Manifest |> Seq.map (fun s -> s.Id) |> Set.ofSeq) "the ids"
              let csv = Path.Combine(d, "s.csv")
              Expect.equal (score csv) 0 "score to CSV"
              Expect.stringStarts (File.ReadAllText csv) "score,label,attack,domain,id\n" "CSV header"
              Expect.equal (ScoreFile.Read csv |> Array.map (fun x -> x.Score)) (ScoreFile.Read jsonl |> Array.map (fun x -> x.Score)) "the same scores"
              Expect.throwsT<UsageException> (fun () -> score d |> ignore) "a folder as --out"
              Expect.equal (PaFas.Host.Commands.ScoreOptions().OutPath) "runs/scores.jsonl" "the default is a JSONL file"
          }

          test "eval writes threshold.json into its own output; predict takes it with --threshold-from and says so" {
              let f = EvalTests.fixture.Force()
              let out = Path.Combine(tempDir "thr-eval", "eval")
              let modelThreshold = Path.Combine(f.Checkpoint, "threshold.json")
              let before = if File.Exists modelThreshold then Some(File.ReadAllText modelThreshold) else None
              let a =
                  EvalOptions(Model = f.Checkpoint, Data = f.Manifest, Val = f.Manifest, Out = out, Domains = [| "W" |], ValDomains = [| "C" |],
                              Batch = 8, MaxNew = 4, ChainsPerAttack = 0, Threads = 1)
              let r = PaFas.Host.Commands.EvalCommand.Run(a, NullLogger.Instance)
              Expect.equal r 0 "eval"
              Expect.isTrue (File.Exists(Path.Combine(out, "threshold.json"))) "in its own folder"
              Expect.equal (if File.Exists modelThreshold then Some(File.ReadAllText modelThreshold) else None) before "the model folder's threshold untouched"
              use fas = PaFas.Host.Inference.FaceAntiSpoofer.Load(f.Checkpoint, "cpu", Nullable(), out)
              Expect.equal fas.Threshold (PaFas.Host.Inference.ThresholdChoice.Read(Path.Combine(out, "threshold.json"))) "the eval's threshold"
              Expect.equal fas.ThresholdFrom (Path.Combine(out, "threshold.json")) "says where it came from"
          } ]
