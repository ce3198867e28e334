module PaFas.Tests.TrainingTests

open System
open System.IO
open System.Text.Json
open System.Collections.Generic
open Expecto
open Microsoft.Extensions.Logging.Abstractions
open TorchSharp
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Model
open PaFas.Host.Training

let private log = NullLogger.Instance

let private tempDir = Gen.tempDir "train"

/// A tiny synthetic world (2 domains x 12 samples, 32 px) and PNRPS chains with answer shuffle, written with the
/// codec `pafas augment` writes with (ChainCodec).
type private World = { Dir: string; Manifest: string; Chains: string; Samples: int; ChainCount: int }

let private world =
    lazy
        (let dir = tempDir "world"
         let synth = SyntheticWorld.Generate(SynthOptions(Out = Path.Combine(dir, "synth"), PerDomain = 12, Size = 32, Seed = 3, Domains = [| "C"; "P" |]))
         let samples = Manifest.Load(synth.ManifestPath, ManifestOptions())
         let g = Gen.grammar
         let cfg = { Pnrps.defaultConfig with Paths = 3 }
         let chains =
             [ for s in samples do
                   let label = List.ofSeq s.Label
                   if Taxonomy.isValidLabel g.Taxonomy label then
                       let avail = s.Availability
                       let cues = (if isNull s.Cues then Seq.empty else Seq.ofList (List.ofSeq s.Cues)) |> Seq.choose Cue.tryParse |> Set.ofSeq
                       for p in Pnrps.sample g cfg (PaFas.Host.Augmentation.Augmenter.SampleSeed(5, s.Id)) { Label = label; Available = avail; Cues = cues } do
                           yield s, { SampleId = s.Id; Steps = p.Steps; Answer = p.Answer; TrueLabel = label } ]
         let byId = chains |> List.map fst |> List.distinctBy (fun s -> s.Id) |> List.map (fun s -> s.Id, s) |> dict
         let shuffled = Shuffle.apply AnswerShuffle 5 (chains |> List.map snd)
         let path = Path.Combine(dir, "chains.jsonl")
         let lines =
             shuffled
             |> List.mapi (fun i c ->
                 let s = byId[c.SampleId]
                 ChainCodec.encode g
                     { Id = sprintf "%s#%d" s.Id i; Chain = c; Rgb = Option.ofObj s.Rgb; Depth = Option.ofObj s.Depth; Ir = Option.ofObj s.Ir
                       Domain = s.Domain; Attack = s.Attack; Shuffle = "answer"; Seed = 5 })
         File.WriteAllLines(path, lines)
         { Dir = dir; Manifest = synth.ManifestPath; Chains = path; Samples = samples.Count; ChainCount = lines.Length })

/// SFT options of the tests (tiny preset, 8 chains per step); C# records have no F# copy-and-update.
type private Sft =
    static member Options(w: World, out: string, steps: int, ?valFraction, ?evalEvery, ?resume, ?maxBad, ?injectNaN: int -> bool,
                          ?cancel: System.Threading.CancellationToken, ?progress: IProgress<TrainingProgress>) =
        SftOptions(Chains = w.Chains, Out = out, ModelSize = "tiny", Steps = steps, Batch = 8, Lr = 3e-3, Warmup = Nullable 3, Schedule = ScheduleKind.Cosine,
                   EvalEvery = defaultArg evalEvery 0, SaveEvery = 5, LogEvery = 2, Seed = 7, Threads = 1, NoTensorBoard = true,
                   MaxNew = 24, ValFraction = defaultArg valFraction 0.0, Resume = defaultArg resume false,
                   MaxBadSteps = defaultArg maxBad 5, InjectNaN = (match injectNaN with Some f -> Func<int, bool> f | None -> null),
                   Cancel = defaultArg cancel System.Threading.CancellationToken.None, Progress = defaultArg progress null)

let private weightsSha (checkpointDir: string) =
    let struct (_, sha, _) = Checkpoint.ReadMeta checkpointDir
    sha

let private closeTo tol (a: float) (b: float) msg = Expect.isLessThanOrEqual (abs (a - b)) tol (sprintf "%s: %g vs %g" msg a b)

let private scheduleTests =
    testList
        "schedules"
        [ test "warm-up rises linearly to the base rate, constant stays there" {
              closeTo 1e-12 (LrSchedule.At(ScheduleKind.Constant, 1.0, 0, 100, 10)) 0.1 "step 0"
              closeTo 1e-12 (LrSchedule.At(ScheduleKind.Constant, 1.0, 4, 100, 10)) 0.5 "step 4"
              closeTo 1e-12 (LrSchedule.At(ScheduleKind.Constant, 1.0, 9, 100, 10)) 1.0 "step 9"
              closeTo 1e-12 (LrSchedule.At(ScheduleKind.Constant, 1.0, 99, 100, 10)) 1.0 "last step"
          }
          test "cosine starts at the base rate, is halfway at mid-decay and ends at the floor" {
              let at s = LrSchedule.At(ScheduleKind.Cosine, 2.0, s, 111, 10, 0.1)
              closeTo 1e-12 (at 10) 2.0 "end of warm-up"
              closeTo 1e-12 (at 60) 1.1 "mid decay = (2 + 0.2) / 2"
              closeTo 1e-12 (at 110) 0.2 "last step = floor"
              closeTo 1e-12 (LrSchedule.At(ScheduleKind.Linear, 2.0, 35, 111, 10, 0.1)) (2.0 - 1.8 * 0.25) "linear quarter"
          }
          Gen.prop "after the warm-up the rate never rises and stays within [floor, base]" (fun (s: int) (w: int) ->
              let total = 50 + abs (s % 200)
              let warm = abs (w % 20)
              [ ScheduleKind.Cosine; ScheduleKind.Linear; ScheduleKind.Constant ]
              |> List.forall (fun k ->
                  let lrs = [ warm .. total - 1 ] |> List.map (fun i -> LrSchedule.At(k, 1e-3, i, total, warm, 0.05))
                  List.pairwise lrs |> List.forall (fun (a, b) -> b <= a + 1e-15)
                  && lrs |> List.forall (fun x -> x >= 5e-5 - 1e-15 && x <= 1e-3 + 1e-15)))
          test "unknown schedule names are refused at the edge, naming the flag" {
              match PaFas.Host.Cli.CommandLine.Parse [| "sft"; "--schedule"; "step" |] with
              | :? PaFas.Host.Cli.Parsed.Error as e -> Expect.stringContains e.Message "--schedule" "names the flag"
              | r -> failtestf "expected an error, got %A" r
          }
          test "step seeds depend on seed, step and stream only" {
              Expect.equal (StepSeed.Derive(1, 5L, StepSeed.Batch)) (StepSeed.Derive(1, 5L, StepSeed.Batch)) "same inputs"
              let all = [ for s in 0..3 do for st in 0L..20L do for k in 1..4 -> StepSeed.Derive(s, st, k) ]
              Expect.equal (List.distinct all |> List.length) all.Length "no collisions on a small grid"
              Expect.isTrue (all |> List.forall (fun x -> x >= 0)) "non-negative"
          } ]

let private maskTests =
    testList
        "SFT loss masking"
        [ test "prompt targets do not change the loss; completion targets do" {
              TorchRuntime.EnsureLoaded()
              let face = FaceTensors(4, Array.zeroCreate 48, null, null)
              let chain (toks: int[]) pl = TokenizedChain(toks, pl, "s", face)
              let a = chain [| 1; 9; 10; 11; 12; 13; 2 |] 3
              let b = chain [| 1; 8; 8; 20; 21; 2 |] 4
              let v = 30L
              torch.manual_seed 1L |> ignore
              use logits = torch.randn(2L, 7L, v)
              let lossOf (items: TokenizedChain list) =
                  use batch = SftBatch.Build(ResizeArray items, 0, torch.CPU)
                  use l = SftLoss.Mean(logits, batch)
                  l.item<float32>() |> float, batch.Targets
              let baseLoss, targets = lossOf [ a; b ]
              Expect.equal targets (int64 (4 + 2)) "targets = completion tokens (eos included)"
              let a' = chain [| 1; 17; 3; 11; 12; 13; 2 |] 3
              let b' = chain [| 1; 5; 6; 20; 21; 2 |] 4
              let promptChanged, _ = lossOf [ a'; b' ]
              closeTo 1e-7 promptChanged baseLoss "changing prompt tokens"
              let a'' = chain [| 1; 9; 10; 11; 25; 13; 2 |] 3
              let completionChanged, _ = lossOf [ a''; b ]
              Expect.isGreaterThan (abs (completionChanged - baseLoss)) 1e-6 "changing a completion token changes the loss"
          }
          test "labels are the next completion token and ignore prompt and padding" {
              let face = FaceTensors(4, Array.zeroCreate 48, null, null)
              use batch = SftBatch.Build(ResizeArray [ TokenizedChain([| 1; 5; 6; 7; 2 |], 2, "s", face); TokenizedChain([| 1; 5; 2 |], 2, "t", face) ], 0, torch.CPU)
              let labels = batch.Labels.data<int64>().ToArray()
              Expect.equal labels [| -100L; 6L; 7L; 2L; -100L; -100L; 2L; -100L; -100L; -100L |] "aligned labels"
              let att = batch.Attention.data<bool>().ToArray()
              Expect.equal att [| true; true; true; true; true; true; true; true; false; false |] "attention"
          } ]

/// Random per-token inputs for the GRPO loss: n completions with lengths in [1, maxLen].
let private grpoCase (seed: int) =
    let rng = Random seed
    let n, maxLen = 2 + rng.Next 5, 3 + rng.Next 6
    let lengths = Array.init n (fun _ -> 1 + rng.Next maxLen)
    let mk () = Array.init n (fun _ -> Array.init maxLen (fun _ -> -0.2 - 2.0 * rng.NextDouble()))
    let logp, old, refl = mk (), mk (), mk ()
    let adv = Array.init n (fun _ -> rng.NextDouble() * 4.0 - 2.0)
    n, maxLen, lengths, logp, old, refl, adv

let private t2 (a: float[][]) = torch.tensor(Array.concat a, torch.ScalarType.Float64).reshape(int64 a.Length, int64 a[0].Length)

let private grpoTests =
    testList
        "GRPO loss"
        [ for agg in [ GrpoAgg; Bnpo; DrGrpo; Dapo ] do
              for beta in [ 0.0; 0.05 ] do
                  test (sprintf "TorchSharp loss = core aggregate of core token losses (%s, beta %g)" (Grpo.aggregationText agg) beta) {
                      TorchRuntime.EnsureLoaded()
                      for seed in 1..25 do
                          let n, maxLen, lengths, logp, old, refl, adv = grpoCase seed
                          let perToken =
                              Array.init n (fun i -> Array.init (lengths[i]) (fun t -> Grpo.tokenLoss 0.2 0.28 beta (logp[i][t]) (old[i][t]) (refl[i][t]) (adv[i])))
                          let expected = Grpo.aggregate agg maxLen perToken
                          let mask = Array.init n (fun i -> Array.init maxLen (fun t -> if t < lengths[i] then 1.0 else 0.0))
                          use lp = t2 logp
                          use ol = t2 old
                          use rl = t2 refl
                          use m = t2 mask
                          use a = torch.tensor(adv, torch.ScalarType.Float64)
                          let out = GrpoLoss.Compute(lp, ol, a, m, agg, maxLen, 0.2, 0.28, beta, (if beta > 0.0 then rl else null))
                          closeTo 1e-9 (out.Loss.item<float>()) expected (sprintf "seed %d" seed)
                          // Dapo with a global token count (one micro-batch of a larger step).
                          let globalTokens = Array.sum lengths + 7
                          let outG = GrpoLoss.Compute(lp, ol, a, m, agg, maxLen, 0.2, 0.28, beta, (if beta > 0.0 then rl else null), globalTokens = Nullable(int64 globalTokens))
                          closeTo 1e-9 (outG.Loss.item<float>()) (Grpo.aggregateGlobal agg maxLen globalTokens perToken) (sprintf "global, seed %d" seed)
                  }
          test "float32 loss agrees with the core within 1e-5" {
              for seed in 30..40 do
                  let n, maxLen, lengths, logp, old, _, adv = grpoCase seed
                  let perToken = Array.init n (fun i -> Array.init (lengths[i]) (fun t -> Grpo.tokenLoss 0.2 0.2 0.0 (logp[i][t]) (old[i][t]) 0.0 (adv[i])))
                  let mask = Array.init n (fun i -> Array.init maxLen (fun t -> if t < lengths[i] then 1.0 else 0.0))
                  use lp = (t2 logp).to_type(torch.ScalarType.Float32)
                  use ol = (t2 old).to_type(torch.ScalarType.Float32)
                  use m = t2 mask
                  use a = torch.tensor(adv |> Array.map float32)
                  let out = GrpoLoss.Compute(lp, ol, a, m, GrpoAgg, maxLen, 0.2, 0.2)
                  closeTo 1e-5 (float (out.Loss.item<float32>())) (Grpo.aggregate GrpoAgg maxLen perToken) (sprintf "seed %d" seed)
          }
          test "micro-batches with the step's normalisers sum to the whole-batch loss" {
              let n, maxLen, lengths, logp, old, _, adv = grpoCase 77
              let mask = Array.init n (fun i -> Array.init maxLen (fun t -> if t < lengths[i] then 1.0 else 0.0))
              for agg in [ GrpoAgg; Bnpo; DrGrpo; Dapo ] do
                  use lp = t2 logp
                  use ol = t2 old
                  use m = t2 mask
                  use a = torch.tensor(adv, torch.ScalarType.Float64)
                  let whole = GrpoLoss.Compute(lp, ol, a, m, agg, maxLen, 0.2, 0.2).Loss.item<float>()
                  let total = int64 (Array.sum lengths)
                  let part (s: int) (c: int) =
                      GrpoLoss.Compute(lp.narrow(0, int64 s, int64 c), ol.narrow(0, int64 s, int64 c), a.narrow(0, int64 s, int64 c), m.narrow(0, int64 s, int64 c),
                                       agg, maxLen, 0.2, 0.2, completions = Nullable(int64 n), globalTokens = Nullable total, batchTokens = Nullable total).Loss.item<float>()
                  closeTo 1e-12 (part 0 1 + part 1 (n - 1)) whole (Grpo.aggregationText agg)
          }
          test "episodes: G per prompt grouped once, rewards scored, the core's advantages, zero-std fraction and std" {
              let w = world.Force()
              let cfg = ModelConfig.Preset("tiny", Gen.dataDir)
              let tok = Tokenizer.Build Gen.grammar
              use m = new PaFasModel(cfg, tok.VocabSize, 3L)
              let samples = Manifest.Load(w.Manifest, ManifestOptions()) |> Seq.take 3 |> ResizeArray
              let faces = FaceCache(cfg.ImageSize)
              let rcfg = Rewards.paper Binary
              let settings = EpisodeSettings(4, GenerationOptions(MaxNewTokens = 10, Temperature = 1.0, Seed = 9L), rcfg, GroupScale, 1e-4)
              let b = GrpoEpisodes.Sample(m, tok, Gen.grammar, settings, samples, faces)
              Expect.equal b.Groups.Count 3 "one group per prompt"
              Expect.equal b.Episodes.Count 12 "P x G episodes"
              for gi in 0 .. 2 do
                  let g = b.Groups[gi]
                  Expect.equal g.Sample.Id samples[gi].Id "group order = prompt order"
                  Expect.equal g.Episodes.Count 4 "G episodes"
                  for e in g.Episodes do
                      Expect.equal e.Sample.Id g.Sample.Id "episode of its group's prompt"
                      Expect.equal e.Reward (Rewards.score Gen.grammar rcfg (List.ofSeq g.Sample.Label) e.Rollout.Text) "reward of its text"
                      Expect.sequenceEqual e.Sequence (e.Rollout.Sequence tok.Eos) "trained sequence"
                      Expect.equal e.CompletionTokens (e.Rollout.Completion.Length + (if e.Rollout.Ended then 1 else 0)) "completion tokens"
              let totals = b.Groups |> Seq.map (fun g -> g.Episodes |> Seq.map (fun e -> e.Reward.Total) |> Array.ofSeq) |> Array.ofSeq
              let adv = Grpo.advantages GroupScale 1e-4 totals |> Array.concat
              Expect.sequenceEqual (b.Episodes |> Seq.map (fun e -> e.Advantage)) adv "advantages from the core"
              Expect.equal b.ZeroStdFraction (Grpo.zeroStdFraction totals) "zero-std fraction from the core"
              Expect.equal b.RewardStd (Grpo.std Bessel (Array.concat totals)) "reward std from the core"
              Expect.equal b.HasSignal (adv |> Array.exists (fun a -> a <> 0.0)) "signal"
              let again = GrpoEpisodes.Sample(m, tok, Gen.grammar, settings, samples, faces)
              Expect.sequenceEqual (again.Episodes |> Seq.map (fun e -> e.Rollout.Text)) (b.Episodes |> Seq.map (fun e -> e.Rollout.Text)) "seeded"
          }
          test "clip fraction counts tokens clipped on the side that matters" {
              // ratio e^0.5 > 1.2 with A > 0 (clipped high); ratio e^-0.5 < 0.8 with A < 0 (clipped low); ratio 1 not clipped.
              use lp = torch.tensor([| 0.5; -0.5; 0.0; 0.5 |], torch.ScalarType.Float64).reshape(4L, 1L)
              use ol = torch.zeros([| 4L; 1L |], torch.ScalarType.Float64)
              use a = torch.tensor([| 1.0; -1.0; 1.0; -1.0 |], torch.ScalarType.Float64)
              use m = torch.ones([| 4L; 1L |], torch.ScalarType.Float64)
              let out = GrpoLoss.Compute(lp, ol, a, m, Bnpo, 1, 0.2, 0.2)
              closeTo 1e-12 out.HighClipFraction 0.25 "high"
              closeTo 1e-12 out.LowClipFraction 0.25 "low"
              closeTo 1e-12 out.ClipFraction 0.5 "total"
          } ]

let private runFolderTests =
    testList
        "run folder"
        [ test "a folder with a run is refused without --resume or --force; --force clears it" {
              let d = tempDir "rf"
              let rf = RunFolder.Open(d, false, false, log)
              rf.WriteConfig("sft", {| lr = 1e-3 |}, "tiny", 1)
              let msg = Expect.throwsC (fun () -> RunFolder.Open(d, false, false, log) |> ignore) (fun e -> e.Message)
              Expect.stringContains msg "--resume" "names the options"
              Expect.throwsT<PaFas.Host.IO.UsageException> (fun () -> RunFolder.Open(d, true, false, log) |> ignore) "resume without last/ (exit 2)"
              let rf2 = RunFolder.Open(d, false, true, log)
              Expect.isFalse (File.Exists rf2.ConfigPath) "config deleted by --force"
          }
          test "a run folder in which another live process trains is refused; the lock of a dead process is taken over" {
              let d = tempDir "lock"
              let lockPath = Path.Combine(d, RunFolder.LockFile)
              File.WriteAllText(lockPath, "1") // pid 1 is always alive
              let msg = Expect.throwsC (fun () -> RunFolder.Open(d, false, false, log) |> ignore) (fun e -> e.Message)
              Expect.stringContains msg "pid 1" "names the other process"
              use p = System.Diagnostics.Process.Start("true")
              p.WaitForExit()
              File.WriteAllText(lockPath, string p.Id) // a process that has exited
              RunFolder.Open(d, false, false, log) |> ignore
              Expect.equal (File.ReadAllText(lockPath).Trim()) (string Environment.ProcessId) "lock taken over"
          }
          test "checkpoint swap: a crash between the renames is repaired on open" {
              let d = tempDir "swap"
              let rf = RunFolder.Open(d, false, false, log)
              let write (content: string) (dir: string) = Directory.CreateDirectory dir |> ignore; File.WriteAllText(Path.Combine(dir, "w"), content)
              rf.SaveCheckpoint("last", Action<string>(write "one"), TrainerState(Step = 1)) |> ignore
              rf.SaveCheckpoint("last", Action<string>(write "two"), TrainerState(Step = 2)) |> ignore
              Expect.equal (File.ReadAllText(Path.Combine(rf.LastDir, "w"))) "two" "second save replaced the first"
              Expect.equal (RunFolder.ReadState(rf.LastDir).Step) 2 "state written"
              Directory.Move(rf.LastDir, Path.Combine(d, ".old-last"))
              Directory.CreateDirectory(Path.Combine(d, ".tmp-last-1")) |> ignore
              let again = RunFolder.Open(d, true, false, log)
              Expect.equal again.ResumeState.Step 2 "restored .old-last"
              Expect.isFalse (Directory.Exists(Path.Combine(d, ".tmp-last-1"))) "temp folder removed"
          }
          test "metrics log drops lines past the resumed step and plots what it has" {
              let d = tempDir "metrics"
              let p = Path.Combine(d, "metrics.jsonl")
              let m = new MetricsLog(p, 0, null, log)
              for s in 1..6 do
                  m.Append("grpo", s, readOnlyDict [ "loss", box (1.0 / float s); "reward_mean", box (float s / 6.0); "zero_std_fraction", box 0.5 ])
              m.Append("grpo", 7, readOnlyDict [ "loss", box Double.NaN ])
              let rows = MetricsLog.Read p
              Expect.equal rows.Count 7 "seven lines"
              Expect.isTrue (Double.IsNaN(rows[6]["loss"])) "NaN round-trips"
              use _ = new MetricsLog(p, 4, null, log)
              Expect.equal (MetricsLog.Read p).Count 4 "lines after step 4 dropped"
              let files = Plots.WriteAll d
              Expect.containsAll (files |> Seq.map Path.GetFileName) [ "loss.png"; "reward.png"; "zero_std.png" ] "plots"
              Expect.isGreaterThan (FileInfo(Path.Combine(d, "loss.png")).Length) 1000L "a real PNG"
          } ]

let private hasLoss (run: string) =
    MetricsLog.Read(Path.Combine(run, "metrics.jsonl")) |> Seq.filter (fun r -> r.ContainsKey "loss") |> Seq.length

let private sftTests =
    testList
        "SFT and GRPO on a tiny synthetic world"
        [ test "SFT lowers the loss and writes the run folder; GRPO from it logs, validates and raises the mean reward" {
              let w = world.Force()
              let out = Path.Combine(w.Dir, "sft")
              let o = Sft.Options(w, out, 100, valFraction = 0.2, evalEvery = 50)
              let r = SftTrainer.Run(o, log)
              Expect.isTrue r.Completed "completed"
              Expect.equal r.Step 100 "100 steps"
              Expect.isLessThan r.LastLoss (r.FirstLoss * 0.25) (sprintf "loss fell: %g -> %g" r.FirstLoss r.LastLoss)
              for f in [ "config.json"; "metrics.jsonl"; "loss.png" ] do
                  Expect.isTrue (File.Exists(Path.Combine(out, f))) f
              for d in [ "last"; "best"; "final" ] do
                  Expect.isTrue (File.Exists(Path.Combine(out, d, "config.json"))) (d + "/ is a checkpoint")
              Expect.isTrue (File.Exists(Path.Combine(out, "last", RunFolder.OptimizerFile))) "last/ keeps the optimizer state"
              Expect.isGreaterThanOrEqual (hasLoss out) 50 "a metrics line every 2 steps"
              let reasoningKeys =
                  [ "val_accuracy"; "val_binary_accuracy"; "val_format"; "val_conclusion_leaf_accuracy"; "val_conclusion_live_spoof_accuracy"
                    "val_consistency"; "val_answer_score_agreement"; "val_self_contradiction_rate"; "val_faithfulness"; "val_score_threshold" ]
              let checkValidation (run: string) (lossToo: bool) =
                  let vals = MetricsLog.Read(Path.Combine(run, "metrics.jsonl")) |> Seq.filter (fun r -> r.ContainsKey "val_metric") |> Seq.toList
                  Expect.isNonEmpty vals "validation lines"
                  for r in vals do
                      Expect.equal (r.ContainsKey "val_loss") lossToo "loss on chains"
                      for k in reasoningKeys do
                          Expect.isTrue (r.ContainsKey k) (sprintf "%s logged at step %g" k r["step"])
                          Expect.isTrue (Double.IsNaN r[k] || k = "val_score_threshold" || (r[k] >= 0.0 && r[k] <= 1.0)) (sprintf "%s = %g is a rate" k r[k])
              checkValidation out true
              Expect.isTrue (File.Exists(Path.Combine(out, "reasoning.png"))) "reasoning plot"
              Expect.equal (RunFolder.ReadState(Path.Combine(out, "final")).Stage) "sft" "stage"
              Expect.throwsT<PaFas.Host.IO.UsageException> (fun () -> SftTrainer.Run(o, log) |> ignore) "a finished run is not overwritten (exit 2)"

              // GRPO, a few steps from that run, with a validation manifest.
              let gout = Path.Combine(w.Dir, "grpo")
              let g =
                  GrpoTrainer.Run(
                      GrpoOptions(Init = out, Data = w.Manifest, Out = gout, Steps = 3, Prompts = 2, Group = 4, MaxNew = 40,
                                  Temperature = 1.0, Lr = 1e-4, Iterations = 2, Val = w.Manifest, ValSamples = 4, EvalEvery = 3, Seed = 2,
                                  Threads = 1, NoTensorBoard = true),
                      log)
              Expect.isTrue g.Completed "GRPO completed"
              Expect.isTrue (File.Exists(Path.Combine(gout, "final", "config.json"))) "GRPO final/"
              let rows = MetricsLog.Read(Path.Combine(gout, "metrics.jsonl"))
              let stepRows = rows |> Seq.filter (fun r -> r.ContainsKey "reward_mean") |> Seq.toList
              Expect.equal stepRows.Length 3 "a metrics line per step"
              for k in [ "reward_format"; "reward_class"; "zero_std_fraction"; "completion_length"; "clip_fraction"; "loss" ] do
                  Expect.isTrue (stepRows |> List.forall (fun r -> r.ContainsKey k)) k
              for k in [ "time_rollout_s"; "time_reward_s"; "time_update_s" ] do
                  Expect.isTrue (stepRows |> List.forall (fun r -> r.ContainsKey k && r[k] >= 0.0)) k
              Expect.isTrue (stepRows |> List.forall (fun r -> r["time_rollout_s"] > 0.0)) "sampling takes time"
              Expect.isTrue (rows |> Seq.exists (fun r -> r.ContainsKey "val_accuracy")) "validation logged"
              checkValidation gout false
              Expect.isTrue (File.Exists(Path.Combine(gout, "reward.png"))) "reward plot"
              Expect.equal (RunFolder.ReadState(Path.Combine(gout, "final")).Stage) "grpo" "stage"

              // A reachable reward (format + live/spoof): GRPO raises its mean within a few dozen steps. The generation
              // budget must hold a whole chain (about 60-150 tokens here), else every completion fails the format.
              let rout = Path.Combine(w.Dir, "grpo-reward")
              GrpoTrainer.Run(
                  GrpoOptions(Init = out, Data = w.Manifest, Out = rout, Steps = 40, Prompts = 4, Group = 6, MaxNew = 200, Temperature = 0.5,
                              Lr = 2e-4, RewardMode = ClassMode.Binary, Seed = 2, Threads = 1, NoTensorBoard = true, LogSamples = 0, EvalEvery = 0, SaveEvery = 0),
                  log)
              |> ignore
              let rewards = MetricsLog.Read(Path.Combine(rout, "metrics.jsonl")) |> Seq.filter (fun r -> r.ContainsKey "reward_mean") |> Seq.map (fun r -> r["reward_mean"]) |> Seq.toArray
              let first, last = Array.average rewards[..9], Array.average rewards[30..]
              Expect.isGreaterThan last (first + 0.1) (sprintf "mean reward rose: first 10 steps %.3f, last 10 steps %.3f" first last)
          }
          test "a resumed run ends with the same weights as an uninterrupted one" {
              let w = world.Force()
              let a = Path.Combine(w.Dir, "straight")
              let b = Path.Combine(w.Dir, "resumed")
              SftTrainer.Run(Sft.Options(w, a, 12), log) |> ignore
              let cts = new System.Threading.CancellationTokenSource()
              let progress = { new IProgress<TrainingProgress> with member _.Report p = if p.Step = 7 then cts.Cancel() }
              let first = SftTrainer.Run(Sft.Options(w, b, 12, cancel = cts.Token, progress = progress), log)
              Expect.isFalse first.Completed "stopped by cancellation"
              Expect.equal first.Step 7 "stopped after step 7"
              Expect.equal (RunFolder.ReadState(Path.Combine(b, "last")).Step) 7 "last/ written on stop"
              let second = SftTrainer.Run(Sft.Options(w, b, 12, resume = true), log)
              Expect.isTrue second.Completed "resumed to the end"
              Expect.equal (weightsSha (Path.Combine(b, "final"))) (weightsSha (Path.Combine(a, "final"))) "same weights"
              let steps = MetricsLog.Read(Path.Combine(b, "metrics.jsonl")) |> Seq.filter (fun r -> r.ContainsKey "loss") |> Seq.map (fun r -> r["step"]) |> Seq.toList
              Expect.equal steps (List.distinct steps) "no step logged twice"
          }
          test "a non-finite loss is skipped; too many in a row stop training without touching last/" {
              let w = world.Force()
              let out = Path.Combine(w.Dir, "nan")
              let r = SftTrainer.Run(Sft.Options(w, out, 6, injectNaN = (fun s -> s = 3)), log)
              Expect.isTrue r.Completed "one bad step is survived"
              Expect.equal r.SkippedSteps 1 "one skipped"
              let out2 = Path.Combine(w.Dir, "nan2")
              let e =
                  Expect.throwsC
                      (fun () -> SftTrainer.Run(Sft.Options(w, out2, 20, maxBad = 3, injectNaN = (fun s -> s >= 7)), log) |> ignore)
                      id
              Expect.isTrue (e :? TrainingDivergedException) (sprintf "diverged exception, got %s" (e.GetType().Name))
              Expect.stringContains e.Message "3 steps in a row" "clear message"
              Expect.equal (RunFolder.ReadState(Path.Combine(out2, "last")).Step) 5 "last/ still the step-5 checkpoint"
              Checkpoint.Load(Path.Combine(out2, "last"), torch.CPU) |> ignore
          } ]

let tests = testSequenced <| testList "Training" [ scheduleTests; maskTests; grpoTests; runFolderTests; sftTests ]
