module PaFas.Tests.CliTests

open System
open System.Text.RegularExpressions
open Expecto
open FsCheck
open FsCheck.FSharp
open PaFas.Host.Cli

/// The command and options a line gives, or the test fails.
let ok (argv: string list) : string * CommonOptions =
    match CommandLine.Parse(Array.ofList argv) with
    | :? Parsed.Run as r -> r.Command.Name, r.Options
    | r -> failtestf "pafas %s: expected a command, got %A" (String.Join(" ", argv)) r

/// The options of a line, as flag -> text.
let described (argv: string list) = ok argv |> snd |> OptionBinder.Describe |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq

let private err (argv: string list) =
    match CommandLine.Parse(Array.ofList argv) with
    | :? Parsed.Error as e -> e
    | r -> failtestf "pafas %s: expected an error, got %A" (String.Join(" ", argv)) r

let private help (argv: string list) =
    match CommandLine.Parse(Array.ofList argv) with
    | :? Parsed.Help as h -> h
    | r -> failtestf "pafas %s: expected help, got %A" (String.Join(" ", argv)) r

/// The bad line's message names the option (or the token) that is wrong, on one line.
let private rejects (argv: string list) (names: string) =
    let e = err argv
    Expect.stringContains e.Message names (sprintf "the message for %A names %s" argv names)
    Expect.isFalse (e.Message.Contains "\n") "one line"

/// The smallest command line of each subcommand (metrics needs --scores, predict an image, split a protocol).
let minimal =
    [ "synth", []; "inspect", []; "annotate", []; "augment", []; "pretrain", []; "sft", []; "grpo", []; "eval", []
      "predict", [ "--rgb"; "face.png" ]; "metrics", [ "--scores"; "s.csv" ]; "score", []; "export", []; "pipeline", []
      "split", [ "--protocol"; "p1-W" ]; "bench", [] ]

let private globals = [ "--threads"; "2"; "--device"; "CUDA:1"; "--seed"; "7"; "--verbose" ]

/// The option names a subcommand's help lists (without --help).
let private helpOptions (sub: string) =
    Regex.Matches((help [ sub; "--help" ]).Text, @"^\s+(--[a-z][a-z0-9-]*)", RegexOptions.Multiline)
    |> Seq.map (fun m -> m.Groups.[1].Value)
    |> Seq.filter (fun o -> o <> "--help")
    |> Set.ofSeq

/// A token pool that reaches deep into the grammar: subcommands, real options, good and bad values.
let private tokenPool =
    let options =
        CommandLine.Commands |> Seq.collect (fun c -> OptionBinder.Options c.OptionsType) |> Seq.map (fun o -> "--" + o.Name) |> Seq.distinct |> List.ofSeq
    List.ofSeq CommandLine.Names
    @ options
    @ [ "--help"; "-h"; "help"; "--version"; "-v"; "--steps=3"; "--lr=-1"; "="; "--="; "-5"; "0"; "1"; "2.5"; "nan"; "-inf"; "1e400"
        "abc"; ""; " "; "C,,P"; "both"; "none"; "cuda:x"; "answer"; "paper"; "demo"; "ir,none"; "p2-W-ir"; "CPS->W"; "linear"; "dr_grpo"
        "\n"; "--"; "-"; "tiny"; "1,2" ]

let tests =
    testList
        "Cli"
        [ test "every subcommand parses with its defaults" {
              for sub, rest in minimal do
                  let name, o = ok (sub :: rest)
                  Expect.equal name sub "the command is the subcommand"
                  Expect.equal (o.Threads, o.Device, o.Seed, o.Verbose) (0, "cpu", 42, false) "global defaults"
              Expect.equal (List.map fst minimal) (List.ofSeq CommandLine.Names) "every subcommand is listed"
          }

          test "global options work before and after the subcommand, in any case of the device" {
              let before = described (globals @ [ "bench" ])
              let after = described ([ "bench" ] @ globals)
              Expect.equal before after "same options"
              Expect.equal (before["threads"], before["device"], before["seed"], before["verbose"]) ("2", "cuda:1", "7", "true") "values"
              Expect.equal (described [ "-v"; "synth" ]).["verbose"] "true" "-v"
          }

          test "--name=value is the same as --name value; the last of a repeated flag wins" {
              Expect.equal (described [ "sft"; "--steps=7"; "--lr=0.01" ]) (described [ "sft"; "--steps"; "7"; "--lr"; "0.01" ]) "="
              Expect.equal (described [ "sft"; "--steps"; "7"; "--steps"; "9" ]).["steps"] "9" "last wins"
          }

          test "the help of every subcommand lists exactly its options type's flags" {
              for c in CommandLine.Commands do
                  let flags = OptionBinder.Options c.OptionsType |> Seq.map (fun o -> "--" + o.Name) |> Set.ofSeq
                  Expect.equal (helpOptions c.Name) flags (c.Name + ": help = options type")
                  for argv in [ [ c.Name; "--help" ]; [ "help"; c.Name ]; [ "--seed"; "1"; c.Name; "-h" ] ] do
                      let h = help argv
                      Expect.stringContains h.Text ("pafas " + c.Name) "the usage names the subcommand"
                      Expect.equal h.Subcommand c.Name "the subcommand"
              for argv in [ [ "--help" ]; [ "help" ] ] do
                  let h = help argv
                  for sub in CommandLine.Names do
                      Expect.stringContains h.Text sub "lists every subcommand"
          }

          test "the help shows each default from the options type" {
              let text = (help [ "grpo"; "--help" ]).Text
              for line in [ "--eps-high <x>"; "(default 0.28)"; "--loss <grpo|bnpo|dr_grpo|dapo>"; "--iterations <n>"; "--kl <x>" ] do
                  Expect.stringContains text line line
              Expect.stringContains (help [ "sft"; "--help" ]).Text "--schedule <constant|cosine|linear>" "linear is reachable"
          }

          test "pretrain's defaults: the pretraining run, a warm-up of min(30, steps / 10)" {
              let pre (argv: string list) = ok ("pretrain" :: argv) |> snd :?> PaFas.Host.Training.PretrainOptions
              let d = pre []
              Expect.equal (d.Out, d.Steps, d.Lr, d.Batch, d.WarmupSteps, d.Schedule) ("runs/pretrain", 600, 1e-3, 32, 30, PaFas.Host.Training.ScheduleKind.Cosine) "defaults"
              Expect.equal (d.DescribeShare, d.ProbePerDomain, d.ProbeSeed, d.Pack, d.ModelSize) (0.5, 24, 7, "", "small") "pretraining knobs"
              Expect.equal (pre [ "--steps"; "100" ]).WarmupSteps 10 "a tenth of a short run"
              Expect.equal (pre [ "--steps"; "100"; "--warmup"; "3" ]).WarmupSteps 3 "explicit --warmup wins"
          }

          test "--version" {
              match CommandLine.Parse [| "--version" |] with
              | :? Parsed.Version -> ()
              | r -> failtestf "%A" r
          }

          test "unknown subcommands and options are errors that name them" {
              rejects [ "bogus" ] "'bogus'"
              rejects [ "bogus"; "--out"; "x" ] "'bogus'"
              rejects [ "help"; "bogus" ] "'bogus'"
              rejects [ "sft"; "--bogus" ] "--bogus"
              rejects [ "sft"; "--steps" ] "--steps"
              rejects [ "sft"; "--steps"; "many" ] "--steps"
              rejects [ "synth"; "extra" ] "extra"
              rejects [ "--steps"; "3"; "sft" ] "--steps goes after the command name"
              rejects [] "no subcommand"
              rejects [ "--seed"; "3" ] "no subcommand"
              Expect.equal (err [ "sft"; "--bogus" ]).Subcommand "sft" "the subcommand, for the hint"
              Expect.equal (err [ "bogus" ]).Subcommand "" "no subcommand"
          }

          test "bad values are errors that name the option" {
              for argv, names in
                  [ [ "sft"; "--steps"; "-5" ], "--steps"; [ "sft"; "--steps"; "0" ], "--steps"; [ "sft"; "--lr"; "0" ], "--lr"
                    [ "sft"; "--lr"; "NaN" ], "--lr"; [ "sft"; "--steps"; "10"; "--warmup"; "11" ], "--warmup"
                    [ "sft"; "--model-size"; "huge" ], "--model-size"; [ "sft"; "--schedule"; "step" ], "--schedule"
                    [ "sft"; "--schedule"; "1" ], "--schedule"; [ "sft"; "--recipe"; "x" ], "--recipe"
                    [ "pretrain"; "--describe-share"; "1.5" ], "--describe-share"; [ "pretrain"; "--steps"; "10"; "--warmup"; "11" ], "--warmup"
                    [ "pretrain"; "--resume"; "--force" ], "--force"; [ "pretrain"; "--model-size"; "huge" ], "--model-size"
                    [ "pretrain"; "--batch"; "0" ], "--batch"; [ "pretrain"; "--probe-per-domain"; "-1" ], "--probe-per-domain"
                    [ "pipeline"; "--pretrained"; "p"; "--from-scratch" ], "--from-scratch"
                    [ "augment"; "--shuffle"; "sideways" ], "--shuffle"; [ "augment"; "--mode"; "x" ], "--mode"
                    [ "augment"; "--alpha"; "0.5" ], "--alpha"; [ "augment"; "--paths"; "0" ], "--paths"
                    [ "augment"; "--labelled"; "-1" ], "--labelled"; [ "augment"; "--domains"; "C,,P" ], "--domains"
                    [ "synth"; "--per-domain"; "-1" ], "--per-domain"; [ "synth"; "--size"; "4" ], "--size"; [ "synth"; "--out"; " " ], "--out"
                    [ "synth"; "--renderer"; "blender" ], "--renderer"; [ "synth"; "--sensor"; "tof16" ], "--sensor"
                    [ "synth"; "--renderer"; "foreign"; "--sensor"; "webcam" ], "--sensor"; [ "synth"; "--renderer"; "foreign"; "--domains"; "C" ], "--domains"
                    [ "annotate"; "--calibrate"; "always" ], "--calibrate"; [ "annotate"; "--min-per-class"; "0" ], "--min-per-class"
                    [ "annotate"; "--thresholds"; "c.json"; "--calibrate"; "domain" ], "--thresholds"
                    [ "inspect"; "--domain-pattern"; "(unclosed" ], "--domain-pattern"; [ "inspect"; "--attack-pattern"; "[a-" ], "--attack-pattern"
                    [ "split"; "--sources"; "A" ], "--targets"; [ "split"; "--targets"; "A" ], "--sources"
                    [ "split"; "--sources"; "A,B"; "--targets"; "b" ], "both a source and a target"
                    [ "split"; "--protocol"; "p1-W"; "--sources"; "A"; "--targets"; "B" ], "--protocol"
                    [ "grpo"; "--group"; "1" ], "--group"; [ "grpo"; "--top-p"; "1.5" ], "--top-p"; [ "grpo"; "--temperature"; "0" ], "--temperature"
                    [ "grpo"; "--eps-low"; "-0.1" ], "--eps-low"; [ "grpo"; "--loss"; "ppo" ], "--loss"; [ "grpo"; "--scale"; "x" ], "--scale"
                    [ "grpo"; "--reward-mode"; "x" ], "--reward-mode"; [ "grpo"; "--kl"; "-1" ], "--kl"; [ "grpo"; "--iterations"; "0" ], "--iterations"
                    [ "score"; "--completions"; "c.jsonl"; "--reward-mode"; "x" ], "--reward-mode"
                    [ "export"; "--format"; "onnx" ], "--format"; [ "export"; "--format"; "trl"; "--kind"; "dpo" ], "--kind"
                    [ "eval"; "--drop"; "thermal" ], "--drop"; [ "eval"; "--drop"; "none,ir" ], "--drop"; [ "eval"; "--drop"; "rgb,depth,ir" ], "--drop"
                    [ "eval"; "--batch"; "0" ], "--batch"; [ "eval"; "--protocol"; "p9-X" ], "--protocol"
                    [ "predict" ], "--rgb"; [ "predict"; "--rgb"; "a.png"; "--list"; "l.txt" ], "--list"
                    [ "predict"; "--rgb"; "a.png"; "--threshold"; "2" ], "--threshold"; [ "metrics" ], "--scores"
                    [ "predict"; "--rgb"; "a.png"; "--threshold"; "0.5"; "--threshold-from"; "runs/eval" ], "--threshold-from"
                    [ "pipeline"; "--recipe"; "huge" ], "--recipe"; [ "pipeline"; "--holdout"; "" ], "--holdout"
                    [ "pipeline"; "--model-size"; "huge" ], "--model-size"; [ "bench"; "--what"; "gpu" ], "--what"
                    [ "bench"; "--what"; "sft,gpu" ], "--what"; [ "bench"; "--model-size"; "huge" ], "--model-size"
                    [ "sft"; "--resume"; "--force" ], "--force"; [ "grpo"; "--force"; "--resume" ], "--force"
                    [ "split" ], "--protocol"; [ "split"; "--protocol"; "p9-X" ], "--protocol"; [ "split"; "--protocol"; "p2-W-depth" ], "Protocol 1"
                    [ "split"; "--protocol"; "p1-W"; "--val-fraction"; "1" ], "--val-fraction"
                    [ "split"; "--protocol"; "p1-W"; "--val-fraction"; "NaN" ], "--val-fraction"
                    [ "bench"; "--threads"; "-1" ], "--threads"; [ "bench"; "--device"; "tpu" ], "--device"; [ "bench"; "--device"; "cuda:x" ], "--device" ] do
                  rejects argv names
          }

          test "the data-set flags of synth, inspect, annotate and split: case, lists, defaults, the custom split" {
              let s = described [ "synth"; "--renderer"; "Foreign"; "--sensor"; "tof16,Kinect16" ]
              Expect.equal (s["renderer"], s["sensor"]) ("foreign", "tof16,kinect16") "synth --renderer foreign --sensor"
              Expect.equal ((described [ "synth" ])["renderer"], (described [ "synth" ])["sensor"]) ("world", "") "synth defaults"
              let i =
                  described [ "inspect"; "--out"; "m.jsonl"; "--domain"; "S1"; "--domain-pattern"; "^(?<domain>[^/]+)/"; "--attack"; "print"
                              "--attack-pattern"; "/(print|replay)/" ]
              Expect.equal (i["out"], i["domain"], i["domain-pattern"], i["attack"], i["attack-pattern"])
                  ("m.jsonl", "S1", "^(?<domain>[^/]+)/", "print", "/(print|replay)/") "inspect"
              let a = described [ "annotate"; "--calibrate"; "Domain"; "--min-per-class"; "3"; "--sheet"; "s.png" ]
              Expect.equal (a["calibrate"], a["min-per-class"], a["sheet"]) ("domain", "3", "s.png") "annotate"
              let d = described [ "annotate" ]
              Expect.equal (d["calibrate"], d["min-per-class"], d["sheet"], d["thresholds"]) ("none", "5", "", "") "annotate defaults"
              let t = described [ "annotate"; "--thresholds"; "c.json"; "--calibrate"; "none" ]
              Expect.equal (t["thresholds"], t["calibrate"]) ("c.json", "none") "annotate --thresholds with --calibrate none"
              let _, o = ok [ "split"; "--sources"; "site1, site2"; "--targets"; "site3" ]
              let p = (o :?> PaFas.Host.Commands.SplitOptions).Split
              Expect.equal (p.Name, List.ofSeq p.Sources, List.ofSeq p.Targets, p.Drop.IsEmpty) ("site1,site2->site3", [ "site1"; "site2" ], [ "site3" ], true) "custom split"
              let _, o = ok [ "split"; "--protocol"; "p3-PS" ]
              Expect.equal (o :?> PaFas.Host.Commands.SplitOptions).Split.Name "p3-PS" "a protocol's split"
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

          test "the host exits 0 for --version and help, 2 for a bad command line" {
              Expect.equal (PaFas.Host.Program.Main [| "--version" |]) 0 "--version"
              Expect.equal (PaFas.Host.Program.Main [| "sft"; "--help" |]) 0 "help"
              Expect.equal (PaFas.Host.Program.Main [| "sft"; "--steps"; "-1" |]) 2 "bad value"
              Expect.equal (PaFas.Host.Program.Main [| "bogus" |]) 2 "unknown subcommand"
          }

          Gen.prop "positive step counts and any seed round-trip" (fun (PositiveInt n) ->
              let o = described [ "grpo"; "--steps"; string n; "--seed"; string (-n) ]
              o["steps"] = string n && o["seed"] = string (-n))

          Gen.prop "the parser is total on arbitrary string arrays" (fun (argv: string[]) ->
              match CommandLine.Parse argv with
              | :? Parsed.Error as e -> e.Message <> ""
              | r -> not (isNull r))

          Gen.prop "the parser is total on lines built from its own tokens" (
              Prop.forAll (Arb.fromGen (Gen.arrayOf (Gen.elements tokenPool))) (fun argv ->
                  match CommandLine.Parse argv with
                  | :? Parsed.Error as e -> e.Message <> ""
                  | r -> not (isNull r))
          ) ]
