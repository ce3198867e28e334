module PaFas.Tests.CliTests

open System
open System.Text.RegularExpressions
open Expecto
open FsCheck
open FsCheck.FSharp
open PaFas.Core

let private ok (argv: string list) =
    match Cli.parse (Array.ofList argv) with
    | Ok c -> c
    | Error e -> failtestf "pafas %s: expected a command, got %A" (String.Join(" ", argv)) e

let private err (argv: string list) =
    match Cli.parse (Array.ofList argv) with
    | Ok c -> failtestf "pafas %s: expected an error, got %A" (String.Join(" ", argv)) c
    | Error e -> e

/// The bad line's message names the option (or the token) that is wrong, and is not help.
let private rejects (argv: string list) (names: string) =
    let e = err argv
    Expect.isFalse e.IsHelp (sprintf "%A is not help" argv)
    Expect.stringContains e.Message names (sprintf "the message for %A names %s" argv names)
    Expect.isFalse (e.Message.Contains "USAGE:") "one message, not the whole usage"

/// The smallest command line of each subcommand (metrics needs --scores, predict an image).
let private minimal =
    [ "synth", []
      "inspect", []
      "annotate", []
      "augment", []
      "pretrain", []
      "sft", []
      "grpo", []
      "eval", []
      "predict", [ "--rgb"; "face.png" ]
      "metrics", [ "--scores"; "s.csv" ]
      "score", []
      "export", []
      "pipeline", []
      "bench", [] ]

let private dc: CommonArgs =
    { Threads = CliDefaults.Threads; Device = CliDefaults.Device; Seed = CliDefaults.Seed; Verbose = false }

let private c2: CommonArgs = { Threads = 2; Device = "cuda:1"; Seed = 7; Verbose = true }
let private globals = [ "--threads"; "2"; "--device"; "CUDA:1"; "--seed"; "7"; "--verbose" ]

/// sft and grpo with every option but --resume/--force set to a non-default value; `full` adds one of the two.
let private sftArgv =
    [ "sft"; "--chains"; "c"; "--val"; "v"; "--root"; "r"; "--out"; "o"; "--preset"; "tiny"; "--init"; "p"; "--recipe"; "default"
      "--steps"; "12"; "--lr"; "0.001"; "--batch"; "3"; "--grad-accum"; "2"; "--warmup"; "4"; "--schedule"; "constant"
      "--weight-decay"; "0"; "--clip-grad"; "0.5"; "--eval-every"; "0"; "--log-every"; "2"; "--save-every"; "6" ]

let private sftFull: SftArgs =
    { Chains = "c"; Val = "v"; Root = "r"; Out = "o"; Preset = "tiny"; Init = "p"; Recipe = "default"; Steps = 12; Lr = 0.001
      Batch = 3; GradAccum = 2; Warmup = 4; Schedule = "constant"; WeightDecay = 0.0; ClipGrad = 0.5; EvalEvery = 0
      LogEvery = 2; SaveEvery = 6; Resume = false; Force = false; Common = c2 }

let private grpoArgv =
    [ "grpo"; "--data"; "m"; "--root"; "r"; "--init"; "i"; "--out"; "o"; "--val"; "v"; "--steps"; "3"; "--prompts"; "2"
      "--group"; "4"; "--iterations"; "2"; "--lr"; "2e-5"; "--eps-low"; "0.1"; "--eps-high"; "0.3"; "--temperature"; "0.7"
      "--top-p"; "0.9"; "--max-new"; "64"; "--reward-mode"; "hierarchical"; "--format-weight"; "0.5"; "--class-weight"; "2"
      "--scale"; "none"; "--loss"; "dr_grpo"; "--kl"; "0.04"; "--clip-grad"; "0"; "--domains"; "C,P,S"; "--eval-every"; "5"
      "--log-every"; "1"; "--save-every"; "0" ]

let private grpoFull: GrpoArgs =
    { Data = "m"; Root = "r"; Init = "i"; Out = "o"; Val = "v"; Steps = 3; Prompts = 2; Group = 4; Iterations = 2
      Lr = 2e-5; EpsLow = 0.1; EpsHigh = 0.3; Temperature = 0.7; TopP = 0.9; MaxNew = 64; RewardMode = "hierarchical"
      FormatWeight = 0.5; ClassWeight = 2.0; Scale = "none"; Loss = "dr_grpo"; Kl = 0.04; ClipGrad = 0.0
      Domains = [ "C"; "P"; "S" ]; EvalEvery = 5; LogEvery = 1; SaveEvery = 0; Resume = false; Force = false; Common = c2 }

/// Every option of every subcommand set to a non-default value, and the record it must give.
let private full: (string list * Command) list =
    [ [ "synth"; "--out"; "o"; "--per-domain"; "9"; "--size"; "32"; "--domains"; "A, B" ],
      Command.Synth { Out = "o"; PerDomain = 9; Size = 32; Domains = [ "A"; "B" ]; Common = c2 }
      [ "inspect"; "--data"; "m.txt"; "--root"; "r"; "--limit"; "5"; "--no-check-files"; "--skip-bad" ],
      Command.Inspect { Data = "m.txt"; Root = "r"; Limit = 5; CheckFiles = false; SkipBad = true; Common = c2 }
      [ "annotate"; "--data"; "m"; "--root"; "r"; "--out"; "a.jsonl"; "--report"; "--skip-bad" ],
      Command.Annotate { Data = "m"; Root = "r"; Out = "a.jsonl"; Report = true; SkipBad = true; Common = c2 }
      [ "augment"; "--data"; "m"; "--annotations"; "a"; "--root"; "r"; "--out"; "c"; "--paths"; "7"; "--shuffle"; "PATH"
        "--mode"; "raw"; "--labelled"; "0"; "--alpha"; "1.5"; "--domains"; "C,P" ],
      Command.Augment
          { Data = "m"; Annotations = "a"; Root = "r"; Out = "c"; Paths = 7; Shuffle = "path"; Mode = "raw"; Labelled = 0
            Alpha = 1.5; Domains = [ "C"; "P" ]; Common = c2 }
      [ "pretrain"; "--out"; "o"; "--preset"; "tiny"; "--steps"; "20"; "--lr"; "0.002"; "--batch"; "4"; "--warmup"; "3"
        "--schedule"; "constant"; "--describe-share"; "0.25"; "--probe-per-domain"; "0"; "--probe-seed"; "3"; "--eval-every"; "5"
        "--log-every"; "2"; "--save-every"; "10"; "--pack"; "pk"; "--force" ],
      Command.Pretrain
          { Out = "o"; Preset = "tiny"; Steps = 20; Lr = 0.002; Batch = 4; Warmup = 3; Schedule = "constant"; DescribeShare = 0.25
            ProbePerDomain = 0; ProbeSeed = 3; EvalEvery = 5; LogEvery = 2; SaveEvery = 10; Pack = "pk"; Resume = false; Force = true
            Common = c2 }
      [ "pretrain"; "--resume" ],
      Command.Pretrain
          { Out = CliDefaults.PretrainOut; Preset = "small"; Steps = CliDefaults.PretrainSteps; Lr = CliDefaults.PretrainLr
            Batch = CliDefaults.PretrainBatch; Warmup = CliDefaults.PretrainWarmup; Schedule = CliDefaults.Schedule
            DescribeShare = CliDefaults.DescribeShare; ProbePerDomain = CliDefaults.ProbePerDomain; ProbeSeed = CliDefaults.ProbeSeed
            EvalEvery = CliDefaults.EvalEvery; LogEvery = CliDefaults.LogEvery; SaveEvery = CliDefaults.SaveEvery; Pack = ""
            Resume = true; Force = false; Common = c2 }
      sftArgv @ [ "--resume" ], Command.Sft { sftFull with Resume = true }
      sftArgv @ [ "--force" ], Command.Sft { sftFull with Force = true }
      grpoArgv @ [ "--resume" ], Command.Grpo { grpoFull with Resume = true }
      grpoArgv @ [ "--force" ], Command.Grpo { grpoFull with Force = true }
      [ "eval"; "--model"; "m"; "--data"; "d"; "--val"; "v"; "--root"; "r"; "--out"; "o"; "--drop"; "ir,depth"
        "--domains"; "W"; "--val-domains"; "C,P"; "--batch"; "4"; "--max-new"; "32"; "--protocol"; "1-W"
        "--chains-per-attack"; "0" ],
      Command.Eval
          { Model = "m"; Data = "d"; Val = "v"; Root = "r"; Out = "o"; Drop = "depth,ir"; Domains = [ "W" ]
            ValDomains = [ "C"; "P" ]; Batch = 4; MaxNew = 32; Protocol = "1-W"; ChainsPerAttack = 0; Common = c2 }
      [ "predict"; "--model"; "m"; "--rgb"; "a.png"; "--depth"; "b.png"; "--ir"; "c.png"; "--root"; "r"; "--out"; "p.jsonl"
        "--json"; "--max-new"; "16"; "--threshold"; "0.3" ],
      Command.Predict
          { Model = "m"; Rgb = "a.png"; Depth = "b.png"; Ir = "c.png"; List = ""; Root = "r"; Out = "p.jsonl"; Json = true
            MaxNew = 16; Threshold = 0.3; Common = c2 }
      [ "predict"; "--list"; "faces.jsonl" ],
      Command.Predict
          { Model = CliDefaults.Model; Rgb = ""; Depth = ""; Ir = ""; List = "faces.jsonl"; Root = ""; Out = ""; Json = false
            MaxNew = CliDefaults.MaxNew; Threshold = CliDefaults.Threshold; Common = c2 }
      [ "metrics"; "--scores"; "s.csv"; "--val-scores"; "v.csv"; "--out"; "o" ],
      Command.Metrics { Scores = "s.csv"; ValScores = "v.csv"; Out = "o"; Common = c2 }
      [ "score"; "--model"; "m"; "--data"; "d"; "--root"; "r"; "--out"; "s.jsonl"; "--drop"; "depth"; "--domains"; "S"
        "--batch"; "2"; "--max-new"; "8" ],
      Command.Score
          { Model = "m"; Data = "d"; Root = "r"; Out = "s.jsonl"; Drop = "depth"; Domains = [ "S" ]; Batch = 2; MaxNew = 8
            Completions = ""; RewardMode = CliDefaults.RewardMode; Common = c2 }
      [ "score"; "--completions"; "c.jsonl"; "--reward-mode"; "binary" ],
      Command.Score
          { Model = ""; Data = ""; Root = ""; Out = CliDefaults.CompletionScoresOut; Drop = CliDefaults.Drop; Domains = []
            Batch = CliDefaults.EvalBatch; MaxNew = CliDefaults.MaxNew; Completions = "c.jsonl"; RewardMode = "binary"; Common = c2 }
      [ "export"; "--model"; "m"; "--out"; "o" ],
      Command.Export { Model = "m"; Out = "o"; Format = "safetensors"; Kind = "sft"; Data = ""; Root = ""; Common = c2 }
      [ "export"; "--format"; "vlm-r1"; "--kind"; "grpo"; "--data"; "m.jsonl"; "--root"; "r"; "--out"; "x.jsonl" ],
      Command.Export { Model = CliDefaults.Model; Out = "x.jsonl"; Format = "vlm-r1"; Kind = "grpo"; Data = "m.jsonl"; Root = "r"; Common = c2 }
      [ "pipeline"; "--preset"; "paper"; "--out"; "o"; "--holdout"; "C"; "--sft-steps"; "5"; "--grpo-steps"; "6"
        "--per-domain"; "7"; "--model"; "tiny"; "--pretrained"; "pk" ],
      Command.Pipeline
          { Preset = "paper"; Out = "o"; Holdout = "C"; SftSteps = 5; GrpoSteps = 6; PerDomain = 7; Model = "tiny"; Pretrained = "pk"
            FromScratch = false; Common = c2 }
      [ "pipeline"; "--from-scratch" ],
      Command.Pipeline
          { Preset = "demo"; Out = CliDefaults.PipelineOut; Holdout = "W"; SftSteps = 0; GrpoSteps = 0; PerDomain = 0; Model = ""
            Pretrained = ""; FromScratch = true; Common = c2 }
      [ "split"; "--data"; "m"; "--root"; "r"; "--protocol"; "p3-PS"; "--out"; "o"; "--val-fraction"; "0.2" ],
      Command.Split { Data = "m"; Root = "r"; Protocol = "p3-PS"; Out = "o"; ValFraction = 0.2; Common = c2 }
      [ "bench"; "--what"; "model"; "--out"; "b"; "--repeat"; "1" ],
      Command.Bench { What = "model"; Out = "b"; Repeat = 1; Preset = CliDefaults.BenchPreset; Model = ""; Common = c2 }
      [ "bench"; "--what"; "sft, decode"; "--preset"; "tiny"; "--model"; "runs/grpo" ],
      Command.Bench { What = "sft,decode"; Out = CliDefaults.BenchOut; Repeat = CliDefaults.BenchRepeat; Preset = "tiny"; Model = "runs/grpo"; Common = c2 } ]

/// The option names a subcommand's help lists (its own and the global ones, without --help).
let private helpOptions (sub: string) =
    match Cli.parse [| sub; "--help" |] with
    | Error e when e.IsHelp ->
        Regex.Matches(e.Message, @"^\s+(--[a-z][a-z0-9-]*)", RegexOptions.Multiline)
        |> Seq.map (fun m -> m.Groups.[1].Value)
        |> Seq.filter (fun o -> o <> "--help")
        |> Set.ofSeq
    | r -> failtestf "%s --help: %A" sub r

/// A token pool that reaches deep into the grammar: subcommands, real options, good and bad values.
let private tokenPool =
    let options =
        full |> List.collect fst |> List.filter (fun t -> t.StartsWith "--") |> List.distinct
    Cli.subcommands
    @ options
    @ [ "--help"; "-h"; "help"; "--version"; "--threads"; "--device"; "--seed"; "-v"; "--steps=3"; "--lr=-1"; "=";
        "--="; "-5"; "0"; "1"; "2.5"; "nan"; "-inf"; "1e400"; "abc"; ""; " "; "C,,P"; "both"; "none"; "cuda:x";
        "answer"; "paper"; "ir,none"; "\n"; "--"; "-" ]

let tests =
    testList
        "Cli"
        [ test "every subcommand parses with its defaults" {
              for sub, rest in minimal do
                  let c = ok (sub :: rest)
                  Expect.equal (Cli.commandName c) sub "the command is the subcommand"
                  Expect.equal (Cli.common c) dc "global defaults"
          }

          test "the defaults are CliDefaults" {
              match ok [ "sft" ] with
              | Command.Sft a ->
                  Expect.equal
                      (a.Chains, a.Out, a.Preset, a.Steps, a.Lr, a.Batch, a.Warmup, a.Schedule, a.Val, a.Resume)
                      (CliDefaults.Chains, CliDefaults.SftOut, "small", 1000, 5e-4, 16, 50, "cosine", "", false)
                      "sft defaults"
              | c -> failtestf "%A" c
              match ok [ "augment" ] with
              | Command.Augment a ->
                  Expect.equal
                      (a.Paths, a.Shuffle, a.Mode, a.Labelled, a.Alpha, a.Domains, a.Annotations)
                      (50, "answer", "pnrps", 800, 2.0, [], "")
                      "augment defaults"
              | c -> failtestf "%A" c
              match ok [ "grpo" ] with
              | Command.Grpo a ->
                  Expect.equal
                      (a.Prompts, a.Group, a.Lr, a.EpsLow, a.EpsHigh, a.Temperature, a.TopP, a.MaxNew, a.Kl, a.Scale, a.Loss,
                       a.RewardMode, a.Init)
                      (4, 8, 1e-5, 0.2, 0.28, 1.0, 1.0, 256, 0.0, "group", "grpo", "exact", CliDefaults.SftOut)
                      "grpo defaults"
              | c -> failtestf "%A" c
              match ok [ "synth" ] with
              | Command.Synth a -> Expect.equal (a.PerDomain, a.Size, a.Domains) (150, 64, [ "C"; "P"; "S"; "W" ]) "synth"
              | c -> failtestf "%A" c
              match ok [ "eval" ] with
              | Command.Eval a -> Expect.equal (a.Drop, a.Model, a.Domains) ("none", CliDefaults.Model, []) "eval"
              | c -> failtestf "%A" c
              match ok [ "pipeline" ] with
              | Command.Pipeline a -> Expect.equal (a.Preset, a.Out, a.Holdout) ("demo", "runs/pipeline", "W") "pipeline"
              | c -> failtestf "%A" c
          }

          test "every option round-trips into its record field" {
              for argv, expected in full do
                  Expect.equal (ok (argv @ globals)) expected (sprintf "pafas %s" (String.Join(" ", argv)))
          }

          test "the round-trip table covers every option in the help" {
              let rows = full |> List.map fst |> List.groupBy List.head
              for sub, lines in rows do
                  let given = lines |> List.concat |> List.filter (fun t -> t.StartsWith "--") |> Set.ofList
                  let listed = helpOptions sub - Set.ofList [ "--threads"; "--device"; "--seed"; "--verbose" ]
                  Expect.equal given listed (sprintf "%s: options tested = options listed" sub)
              Expect.equal (List.map fst rows) Cli.subcommands "every subcommand has rows"
          }

          test "global options work before and after the subcommand" {
              let before = ok (globals @ [ "bench" ])
              let after = ok ([ "bench" ] @ globals)
              Expect.equal (Cli.common before) c2 "before"
              Expect.equal before after "same command"
          }

          test "--name=value is the same as --name value" {
              Expect.equal (ok [ "sft"; "--steps=7"; "--lr=0.01" ]) (ok [ "sft"; "--steps"; "7"; "--lr"; "0.01" ]) "="
          }

          test "the paper recipe sets steps, lr, warm-up and schedule; explicit options win" {
              match ok [ "sft"; "--recipe"; "paper" ] with
              | Command.Sft a ->
                  Expect.equal
                      (a.Steps, a.Lr, a.Warmup, a.Schedule)
                      (CliDefaults.PaperSftSteps, CliDefaults.PaperSftLr, 0, "constant")
                      "paper recipe"
              | c -> failtestf "%A" c
              match ok [ "sft"; "--recipe"; "paper"; "--steps"; "20"; "--schedule"; "cosine" ] with
              | Command.Sft a -> Expect.equal (a.Steps, a.Schedule) (20, "cosine") "explicit wins"
              | c -> failtestf "%A" c
              match ok [ "sft"; "--steps"; "30" ] with
              | Command.Sft a -> Expect.equal a.Warmup 3 "default warm-up: a tenth of a short run"
              | c -> failtestf "%A" c
          }

          test "--help of every subcommand (and help <cmd>) is help text" {
              for sub in Cli.subcommands do
                  for argv in [ [ sub; "--help" ]; [ "help"; sub ]; [ "--seed"; "1"; sub; "--help" ] ] do
                      let e = err argv
                      Expect.isTrue e.IsHelp (sprintf "%A is help" argv)
                      Expect.stringContains e.Message ("pafas " + sub) "the usage names the subcommand"
                      Expect.equal e.Subcommand sub "the subcommand"
              for argv in [ [ "--help" ]; [ "help" ] ] do
                  let e = err argv
                  Expect.isTrue e.IsHelp "top-level help"
                  for sub in Cli.subcommands do
                      Expect.stringContains e.Message sub "lists every subcommand"
              Expect.stringContains (Cli.usage ()) "pipeline" "usage ()"
          }

          test "--version" {
              Expect.equal (ok [ "--version" ]) Command.Version "version"
              Expect.equal (Cli.commandName Command.Version) "version" "name"
          }

          test "unknown subcommands and options are errors that name them" {
              rejects [ "bogus" ] "'bogus'"
              rejects [ "bogus"; "--out"; "x" ] "'bogus'"
              rejects [ "help"; "bogus" ] "'bogus'"
              rejects [ "sft"; "--bogus" ] "--bogus"
              rejects [ "sft"; "--steps" ] "--steps"
              rejects [ "sft"; "--steps"; "many" ] "--steps"
              rejects [ "synth"; "extra" ] "extra"
              rejects [] "no subcommand"
              rejects [ "--seed"; "3" ] "no subcommand"
              Expect.equal (err [ "sft"; "--bogus" ]).Subcommand "sft" "the subcommand, for the hint"
              Expect.equal (err [ "bogus" ]).Subcommand "" "no subcommand"
          }

          test "bad values are errors that name the option" {
              rejects [ "sft"; "--steps"; "-5" ] "--steps"
              rejects [ "sft"; "--steps"; "0" ] "--steps"
              rejects [ "sft"; "--lr"; "0" ] "--lr"
              rejects [ "sft"; "--lr"; "NaN" ] "--lr"
              rejects [ "sft"; "--steps"; "10"; "--warmup"; "11" ] "--warmup"
              rejects [ "sft"; "--preset"; "huge" ] "--preset"
              rejects [ "sft"; "--schedule"; "linear" ] "--schedule"
              rejects [ "sft"; "--recipe"; "x" ] "--recipe"
              rejects [ "pretrain"; "--describe-share"; "1.5" ] "--describe-share"
              rejects [ "pretrain"; "--steps"; "10"; "--warmup"; "11" ] "--warmup"
              rejects [ "pretrain"; "--resume"; "--force" ] "--resume"
              rejects [ "pipeline"; "--pretrained"; "p"; "--from-scratch" ] "--from-scratch"
              rejects [ "augment"; "--shuffle"; "sideways" ] "--shuffle"
              rejects [ "augment"; "--mode"; "x" ] "--mode"
              rejects [ "augment"; "--alpha"; "1" ] "--alpha"
              rejects [ "augment"; "--paths"; "0" ] "--paths"
              rejects [ "augment"; "--labelled"; "-1" ] "--labelled"
              rejects [ "augment"; "--domains"; "C,,P" ] "--domains"
              rejects [ "synth"; "--per-domain"; "-1" ] "--per-domain"
              rejects [ "synth"; "--size"; "4" ] "--size"
              rejects [ "synth"; "--out"; " " ] "--out"
              rejects [ "grpo"; "--group"; "1" ] "--group"
              rejects [ "grpo"; "--top-p"; "1.5" ] "--top-p"
              rejects [ "grpo"; "--temperature"; "0" ] "--temperature"
              rejects [ "grpo"; "--eps-low"; "-0.1" ] "--eps-low"
              rejects [ "grpo"; "--loss"; "ppo" ] "--loss"
              rejects [ "grpo"; "--scale"; "x" ] "--scale"
              rejects [ "grpo"; "--reward-mode"; "x" ] "--reward-mode"
              rejects [ "score"; "--completions"; "c.jsonl"; "--reward-mode"; "x" ] "--reward-mode"
              rejects [ "export"; "--format"; "onnx" ] "not supported"
              rejects [ "export"; "--format"; "trl"; "--kind"; "dpo" ] "--kind"
              rejects [ "grpo"; "--kl"; "-1" ] "--kl"
              rejects [ "eval"; "--drop"; "rgb" ] "--drop"
              rejects [ "eval"; "--drop"; "none,ir" ] "--drop"
              rejects [ "score"; "--drop"; "" ] "--drop"
              rejects [ "eval"; "--batch"; "0" ] "--batch"
              rejects [ "predict" ] "--rgb"
              rejects [ "predict"; "--rgb"; "a.png"; "--list"; "l.txt" ] "--list"
              rejects [ "predict"; "--rgb"; "a.png"; "--threshold"; "2" ] "--threshold"
              rejects [ "metrics" ] "--scores"
              rejects [ "export"; "--format"; "pickle" ] "--format"
              rejects [ "pipeline"; "--preset"; "huge" ] "--preset"
              rejects [ "pipeline"; "--holdout"; "C,P" ] "--holdout"
              rejects [ "pipeline"; "--model"; "huge" ] "--model"
              rejects [ "bench"; "--what"; "gpu" ] "--what"
              rejects [ "sft"; "--resume"; "--force" ] "--force"
              rejects [ "grpo"; "--force"; "--resume" ] "--force"
              rejects [ "split" ] "--protocol"
              rejects [ "split"; "--protocol"; "p9-X" ] "--protocol"
              rejects [ "split"; "--protocol"; "p2-W-depth" ] "p1-W"
              rejects [ "split"; "--protocol"; "p1-W"; "--val-fraction"; "1" ] "--val-fraction"
              rejects [ "split"; "--protocol"; "p1-W"; "--val-fraction"; "NaN" ] "--val-fraction"
              rejects [ "bench"; "--preset"; "huge" ] "--preset"
              rejects [ "bench"; "--what"; "sft,gpu" ] "--what"
              rejects [ "bench"; "--threads"; "-1" ] "--threads"
              rejects [ "bench"; "--device"; "tpu" ] "--device"
              rejects [ "bench"; "--device"; "cuda:x" ] "--device"
          }

          test "drop specs are canonical" {
              for spec, canon in [ "none", "none"; "depth", "depth"; "IR", "ir"; "depth,ir", "depth,ir"; "ir, depth", "depth,ir"
                                   "both", "depth,ir" ] do
                  match ok [ "eval"; "--drop"; spec ] with
                  | Command.Eval a -> Expect.equal a.Drop canon spec
                  | c -> failtestf "%A" c
          }

          test "the host maps exceptions to exit codes and one-line messages" {
              let code (e: exn) = PaFas.Host.Program.ExitCodeOf e
              Expect.equal (code (IO.FileNotFoundException("missing", "a.png"))) 1 "missing file"
              Expect.equal (code (IO.InvalidDataException "m.jsonl:3: bad label")) 1 "bad data"
              Expect.equal (code (ArgumentException "--drop: x")) 1 "bad argument"
              Expect.equal (code (IO.DirectoryNotFoundException "d")) 1 "I/O"
              Expect.equal (code (OperationCanceledException())) 130 "Ctrl-C"
              Expect.equal (code (InvalidOperationException "bug")) 3 "unexpected"
              Expect.equal (code (NullReferenceException())) 3 "unexpected"
              let line = PaFas.Host.Program.OneLine(IO.FileNotFoundException("Could not find the file.", "faces/a.png"))
              Expect.stringContains line "faces/a.png" "names the file"
              Expect.isFalse ((PaFas.Host.Program.OneLine(IO.InvalidDataException "a\nb")).Contains "\n") "one line"
          }

          test "the host exits 0 for --version and 2 for a bad command line" {
              Expect.equal (PaFas.Host.Program.Main [| "--version" |]) 0 "--version"
              Expect.equal (PaFas.Host.Program.Main [| "sft"; "--steps"; "-1" |]) 2 "bad value"
              Expect.equal (PaFas.Host.Program.Main [| "bogus" |]) 2 "unknown subcommand"
          }

          Gen.prop "positive step counts round-trip" (fun (PositiveInt n) ->
              match Cli.parse [| "grpo"; "--steps"; string n; "--seed"; string (-n) |] with
              | Ok(Command.Grpo a) -> a.Steps = n && a.Common.Seed = -n
              | _ -> false)

          Gen.prop "Cli.parse never throws on arbitrary string arrays" (fun (argv: string[]) ->
              match Cli.parse argv with
              | Ok c -> Cli.commandName c <> ""
              | Error e -> not (isNull e.Message))

          Gen.prop "Cli.parse never throws on lines built from its own tokens" (
              Prop.forAll (Arb.fromGen (Gen.arrayOf (Gen.elements tokenPool))) (fun argv ->
                  match Cli.parse argv with
                  | Ok c -> Cli.commandName c <> ""
                  | Error e -> e.Message <> "")
          ) ]
