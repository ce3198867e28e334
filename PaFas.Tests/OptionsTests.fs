module PaFas.Tests.OptionsTests

// One options type per command: every flag binds its property, options survive a trip through the command line,
// recipes name only differences, and the pipeline runs each stage with the standalone command's defaults except
// for what its recipe and its wiring name.

open System
open Expecto
open PaFas.Host.Cli
open PaFas.Host.Pipeline
open PaFas.Tests.CliTests

/// The flags of a command line that a command needs besides the one under test.
let private baseArgs (sub: string) = minimal |> List.find (fst >> (=) sub) |> snd

/// Values to try for a flag, in order; the first that parses, passes the rules and differs from the default is used.
let private candidates (o: OptionInfo) =
    match o.Name with
    | "recipe" -> [] // changes other flags: tested below
    | "device" -> [ "cuda:1" ]
    | "model-size" -> [ "tiny"; "base" ]
    | "protocol" -> [ "p3-PS"; "p1-C" ]
    | "holdout" -> [ "C" ]
    | "what" -> [ "sft,decode" ]
    | "format" -> [ "vlm-r1" ]
    | "kind" -> [ "grpo" ]
    | "warmup" -> [ "7" ]
    | "renderer" -> [ "foreign" ]
    | "sensor" -> [ "tof16,kinect16" ]
    | "calibrate" -> [ "domain"; "pooled" ]
    | _ ->
        match Values.Choices o.Type with
        | null ->
            if o.Type = typeof<int> || o.Type = typeof<Nullable<int>> then [ "32"; "7"; "3"; "1"; "0" ]
            elif o.Type = typeof<double> || o.Type = typeof<Nullable<double>> then [ "0.5"; "0.25"; "0.75"; "1.5"; "2" ]
            elif o.Type = typeof<string> then [ "some/path" ]
            elif o.Type = typeof<Collections.Generic.IReadOnlyList<string>> then [ "C,P" ]
            else [ "depth" ]
        | choices -> List.ofSeq choices

/// Flags that a flag needs beside it (cross-flag rules): synth --sensor needs --renderer foreign, split --sources
/// needs --targets and the reverse.
let private companions (sub: string) (flag: string) =
    match sub, flag with
    | "synth", "sensor" -> [ "--renderer"; "foreign" ]
    | "split", "sources" -> [ "--targets"; "W" ]
    | "split", "targets" -> [ "--sources"; "S" ]
    | _ -> []

/// The options of a line as flag -> text; when the line alone is incomplete, the options type's defaults with the
/// line's flags applied (unchecked).
let private defaultsOf (sub: string) (start: string list) =
    match CommandLine.Parse(Array.ofList (sub :: start)) with
    | :? Parsed.Run as r -> r.Options
    | _ ->
        let flags =
            start |> List.chunkBySize 2 |> List.map (function
                | [ k: string; v ] -> Collections.Generic.KeyValuePair(k.Substring 2, v)
                | x -> failtestf "%s: flag pairs expected, got %A" sub x)
        OptionBinder.With(Activator.CreateInstance((CommandLine.Find sub).OptionsType) :?> CommonOptions, flags)
    |> OptionBinder.Describe |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq

/// For each flag of a command: the base line it goes with (the command's, or none when the flag replaces it,
/// as predict --list replaces --rgb), the flag and value, and the text it must read back as.
let private flagCases (sub: string) =
    let spec = CommandLine.Find sub
    [ for o in OptionBinder.Options spec.OptionsType do
          let lines =
              if o.IsSwitch then [ [ "--" + o.Name ] ]
              else candidates o |> List.map (fun v -> [ "--" + o.Name; v ])
          let good =
              [ baseArgs sub; []; companions sub o.Name ]
              |> List.distinct
              |> List.allPairs lines
              |> List.tryPick (fun (extra, start) ->
                  match CommandLine.Parse(Array.ofList (sub :: start @ extra)) with
                  | :? Parsed.Run as r ->
                      let v = Values.Show(o.Type, o.Property.GetValue r.Options)
                      if v <> (defaultsOf sub start)[o.Name] then Some(start, extra, v) else None
                  | _ -> None)
          match good with
          | Some(start, extra, v) -> yield o.Name, start, extra, v
          | None when o.Name = "recipe" -> ()
          | None -> failtestf "%s --%s: no candidate value parses to a non-default" sub o.Name ]

let tests =
    testList
        "Options"
        [ test "every flag of every command binds its own property and no other" {
              for sub, _ in minimal do
                  for name, start, extra, value in flagCases sub do
                      let defaults = defaultsOf sub start
                      let got = described (sub :: start @ extra)
                      Expect.equal got[name] value (sprintf "%s --%s" sub name)
                      let changed = got |> Map.filter (fun k v -> defaults[k] <> v) |> Map.keys |> Set.ofSeq
                      // --model-size sets a fresh model's size; a pipeline --holdout changes nothing else either
                      Expect.equal changed (Set.singleton name) (sprintf "%s --%s changes only itself" sub name)
          }

          test "options round-trip through the command line (sft, grpo, augment, eval, pipeline and the rest)" {
              for sub, _ in minimal do
                  // every flag set to a non-default value at once (skipping one that conflicts with those before it)
                  let line =
                      flagCases sub
                      |> List.fold (fun acc (_, _, extra, _) ->
                          match CommandLine.Parse(Array.ofList (sub :: baseArgs sub @ acc @ extra)) with
                          | :? Parsed.Run -> acc @ extra
                          | _ -> acc) []
                  let first = ok (sub :: baseArgs sub @ line) |> snd
                  let argv = OptionBinder.Describe first |> Seq.collect (fun kv -> [ "--" + kv.Key; kv.Value ]) |> List.ofSeq
                  // switches: Describe writes true/false; as flags only "true" is given
                  let argv =
                      argv |> List.pairwise |> List.indexed |> List.filter (fun (i, _) -> i % 2 = 0) |> List.collect (fun (_, (k, v)) ->
                          let o = OptionBinder.Find(first.GetType(), k.Substring 2)
                          if o.IsSwitch then (if v = "true" then [ k ] else []) elif v = "" then [] else [ k; v ])
                  let second = ok (sub :: argv) |> snd
                  Expect.equal (OptionBinder.Describe second) (OptionBinder.Describe first) (sprintf "%s: options -> flags -> options" sub)
                  Expect.isGreaterThan (OptionBinder.Differences(first, ok (sub :: baseArgs sub) |> snd)).Count 3 (sub + ": many flags differ from the defaults")
          }

          test "enumerations are parsed once, at the edge, into the core's types" {
              let _, sft = ok [ "sft"; "--schedule"; "LINEAR" ]
              Expect.equal (sft :?> PaFas.Host.Training.SftOptions).Schedule PaFas.Host.Training.ScheduleKind.Linear "linear is reachable"
              let _, grpo = ok [ "grpo"; "--loss"; "dr_grpo"; "--scale"; "none"; "--reward-mode"; "hierarchical" ]
              let g = grpo :?> PaFas.Host.Training.GrpoOptions
              Expect.equal (g.Loss, g.Scale, g.RewardMode) (PaFas.Core.LossAggregation.DrGrpo, PaFas.Core.AdvantageScale.NoScale, PaFas.Core.ClassMode.Hierarchical) "grpo"
              let _, aug = ok [ "augment"; "--shuffle"; "PATH"; "--mode"; "raw" ]
              let a = aug :?> PaFas.Host.Augmentation.AugmentOptions
              Expect.equal (a.Shuffle, a.Mode) (PaFas.Core.ShuffleMode.PathShuffle, PaFas.Host.Augmentation.AugmentMode.Raw) "augment"
              for spec, canon in [ "none", []; "depth", [ PaFas.Core.Modality.Depth ]; "IR", [ PaFas.Core.Modality.Ir ]
                                   "ir, depth", [ PaFas.Core.Modality.Depth; PaFas.Core.Modality.Ir ]; "both", [ PaFas.Core.Modality.Depth; PaFas.Core.Modality.Ir ] ] do
                  let _, ev = ok [ "eval"; "--drop"; spec ]
                  Expect.equal (List.ofSeq (ev :?> PaFas.Host.Evaluation.EvalOptions).Drop) canon spec
              let _, ev = ok [ "eval"; "--protocol"; "p2-W-ir" ]
              let e = (ev :?> PaFas.Host.Evaluation.EvalOptions).WithProtocol()
              Expect.equal (List.ofSeq e.Domains, List.ofSeq e.ValDomains, List.ofSeq e.Drop) ([ "W" ], [ "C"; "P"; "S" ], [ PaFas.Core.Modality.Ir ]) "protocol"
          }

          test "the defaults: one value per knob (the issue-15 fixes)" {
              let sft, grpo = described [ "sft" ], described [ "grpo" ]
              Expect.equal (sft["lr"], sft["steps"], sft["schedule"], sft["warmup"]) ("0.001", "1000", "cosine", "") "sft"
              Expect.equal (grpo["eps-low"], grpo["eps-high"], grpo["prompts"], grpo["group"], grpo["top-p"], grpo["lr"], grpo["kl"])
                  ("0.2", "0.28", "4", "8", "1", "1E-05", "0") "grpo"
              let _, o = ok [ "sft"; "--steps"; "30" ]
              Expect.equal (o :?> PaFas.Host.Training.SftOptions).WarmupSteps 3 "default warm-up: a tenth of a short run"
              let _, o = ok [ "sft" ]
              Expect.equal (o :?> PaFas.Host.Training.SftOptions).WarmupSteps 50 "and 50 steps of a long one"
          }

          test "a recipe names only flags of its commands whose values differ from the defaults; explicit flags win" {
              Expect.containsAll Recipes.Names [ "demo"; "paper" ] "recipes"
              for recipe in Recipes.Names do
                  for sub in [ "synth"; "split"; "augment"; "sft"; "grpo"; "eval" ] do
                      let defaults = described (sub :: baseArgs sub)
                      for kv in Recipes.Section(recipe, sub) do
                          let spec = CommandLine.Find sub
                          let o = OptionBinder.Find(spec.OptionsType, kv.Key)
                          Expect.isNotNull o (sprintf "%s.%s: --%s is a flag of pafas %s" recipe sub kv.Key sub)
                          let v = Values.Show(o.Type, Values.Parse(o.Type, kv.Value))
                          Expect.notEqual v defaults[kv.Key] (sprintf "%s.%s.%s differs from the default" recipe sub kv.Key)
              let paper = described [ "sft"; "--recipe"; "paper" ]
              Expect.equal (paper["steps"], paper["schedule"], paper["lr"], paper["warmup"]) ("500", "constant", "0.001", "25") "sft --recipe paper"
              let mine = described [ "sft"; "--recipe"; "paper"; "--steps"; "20"; "--schedule"; "cosine"; "--warmup"; "2" ]
              Expect.equal (mine["steps"], mine["schedule"], mine["warmup"]) ("20", "cosine", "2") "explicit flags win"
          }

          test "the pipeline's stage options are the commands' defaults except what its recipe and its wiring name" {
              let wired =
                  Map [ "synth", [ "out" ]; "split", [ "data"; "protocol"; "out" ]; "augment", [ "data"; "annotations"; "out" ]
                        "sft", [ "recipe"; "chains"; "val"; "out"; "force"; "init" ]; "grpo", [ "recipe"; "init"; "data"; "val"; "out"; "force" ]
                        "eval", [ "model"; "data"; "val"; "out" ] ]
              for recipe in Recipes.Names do
                  let plan = PipelineRunner.Plan(PipelineOptions(Recipe = recipe, Out = "o"))
                  let stages: (string * obj) list =
                      [ "synth", plan.Synth; "split", plan.Split; "augment", plan.Augment; "sft", plan.Sft; "grpo", plan.Grpo; "eval", plan.Eval ]
                  for sub, planned in stages do
                      let standalone = ok (sub :: baseArgs sub) |> snd
                      let named = Recipes.Section(recipe, sub) |> Seq.map (fun kv -> kv.Key) |> Set.ofSeq
                      let differ = OptionBinder.Differences(standalone, planned) |> Set.ofSeq
                      Expect.equal (differ - Set.ofList wired[sub]) named (sprintf "%s pipeline, %s: the differences are the recipe's" recipe sub)
                  // the standalone command with the same recipe gives the same SFT and GRPO settings
                  for sub, planned in [ "sft", box plan.Sft; "grpo", box plan.Grpo ] do
                      let standalone = ok [ sub; "--recipe"; recipe ] |> snd
                      let differ = OptionBinder.Differences(standalone, planned) |> Set.ofSeq
                      Expect.equal (differ - Set.ofList wired[sub]) Set.empty (sprintf "pafas %s --recipe %s = the pipeline's" sub recipe)
                      Expect.equal (OptionBinder.Describe planned |> Seq.find (fun kv -> kv.Key = "recipe")).Value recipe "config.json names the recipe"
              let plan = PipelineRunner.Plan(PipelineOptions(Out = "o", Holdout = "p", SftSteps = 5, GrpoSteps = 6, PerDomain = 7, ModelSize = "tiny", Seed = 3))
              Expect.equal (plan.Sft.Steps, plan.Grpo.Steps, plan.Synth.PerDomain, plan.Sft.ModelSize) (5, 6, 7, "tiny") "overrides"
              Expect.equal (plan.Protocol.Name, plan.Sft.Seed, plan.Eval.Seed) ("p1-P", 3, 3) "holdout and seed"
              // SFT starts from the shipped pack of the model size unless --pretrained names another or --from-scratch
              let init o = (PipelineRunner.Plan o).Sft.Init
              Expect.equal (init (PipelineOptions(Out = "o"))) (PaFas.Host.Model.PretrainedPack.Shipped "small") "the shipped small pack"
              Expect.equal (init (PipelineOptions(Out = "o", Pretrained = "pk"))) "pk" "--pretrained"
              Expect.equal (init (PipelineOptions(Out = "o", FromScratch = true))) "" "--from-scratch"
          } ]
