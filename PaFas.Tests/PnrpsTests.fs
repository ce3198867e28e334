module PaFas.Tests.PnrpsTests

open System
open Expecto
open FsCheck.FSharp
open PaFas.Core

let private g = Gen.grammar
let private tx = Gen.taxonomy
let private forAll, cue, availability = Gen.forAll, Gen.cue, Gen.availability


/// A generated case: a sample with a random leaf, a random non-empty set of modalities and a random annotation
/// drawn from the leaf's compatible cues of those modalities; a seed; alpha in (1, 3]; N in 1..60.
type private Case =
    { Sample: PnrpsSample
      Seed: int
      Config: PnrpsConfig }

let private caseGen: FsCheck.Gen<Case> =
    gen {
        let! leaf = Gen.elements (Taxonomy.leaves tx)
        let! mask = Gen.choose (1, 7)
        let ms = Modality.all |> List.indexed |> List.filter (fun (i, _) -> mask &&& (1 <<< i) <> 0) |> List.map snd
        let avail = availability ms
        let candidates = Taxonomy.compatible tx leaf |> Set.filter (fun c -> Availability.has c.Modality avail) |> Set.toList
        let! cues = Gen.subListOf candidates
        let! seed = Gen.choose (0, Int32.MaxValue)
        let! a = Gen.choose (1, 2000)
        let! n = Gen.choose (1, 60)
        let! detour = Gen.elements [ 0.0; 0.2; 0.35; 0.7; 1.0 ]
        let! maxObs = Gen.choose (0, 3)
        return
            { Sample = { Label = Taxonomy.labelOf tx leaf; Available = avail; Cues = Set.ofList cues }
              Seed = seed
              Config =
                { Pnrps.defaultConfig with
                    Alpha = 1.0 + float a / 1000.0
                    Paths = n
                    DetourProbability = detour
                    MaxObservationsPerNode = maxObs } }
    }

let private sampled (c: Case) = Pnrps.sample g c.Config c.Seed c.Sample

let private expectOk (r: Result<unit, string>) what =
    match r with
    | Ok() -> ()
    | Error e -> failtestf "%s: %s" what e

let private expectRule (rule: string) (r: Result<unit, string>) =
    match r with
    | Ok() -> failtestf "expected the rule '%s' to be reported broken" rule
    | Error e -> Expect.isTrue (e.StartsWith(rule + ":")) (sprintf "expected rule '%s', got: %s" rule e)

/// Rules checked independently of `validate`: one forward and one reflection per node, reflections only of the
/// node just entered, with evidence incompatible with it.
let private independentlyValid (c: Case) (p: ReasoningPath) =
    let forwards = p.Steps |> List.choose (function Forward n -> Some n | _ -> None)
    let reflects = p.Steps |> List.choose (function Reflect(n, _) -> Some n | _ -> None)
    Expect.equal (List.distinct forwards) forwards "each node at most one forward step"
    Expect.equal (List.distinct reflects) reflects "each node at most one backward step"
    Expect.isLessThanOrEqual (forwards.Length + reflects.Length) (Pnrps.maxLength tx c.Config) "length <= alpha (D - 1)"
    Expect.equal (List.head p.Steps) (Start(Availability.toList c.Sample.Available)) "starts with the available modalities"
    Expect.equal (List.last p.Steps) (Forward(Taxonomy.leaf c.Sample.Label)) "ends with the true leaf"
    for step in p.Steps do
        match step with
        | Reflect(n, e) ->
            Expect.isFalse ((Taxonomy.compatible tx n).Contains e) "evidence contradicts the node it rules out"
            Expect.isFalse (List.contains n c.Sample.Label) "only wrong nodes are ruled out"
        | _ -> ()

let private flatLabel = Taxonomy.labelOf tx "Flat Print Attack"
let private liveLabel = [ "Real Face" ]
let private allAvail = availability Modality.all
let private flatCues = Taxonomy.compatible tx "Flat Print Attack"
let private flatSample = { Label = flatLabel; Available = allAvail; Cues = flatCues }

let tests =
    testList
        "Pnrps"
        [ test "maxLength is floor(alpha (D - 1)) with D = 6" {
              Expect.equal (Pnrps.maxLength tx Pnrps.defaultConfig) 10 "alpha 2"
              Expect.equal (Pnrps.maxLength tx { Pnrps.defaultConfig with Alpha = 1.2 }) 6 "alpha 1.2 despite rounding"
              Expect.equal (Pnrps.maxLength tx { Pnrps.defaultConfig with Alpha = 1.39 }) 6 "floor"
          }
          forAll "every sampled path passes validate and the independent rule checks" caseGen (fun c ->
              for p in sampled c do
                  expectOk (Pnrps.validate g c.Config c.Sample p) "validate"
                  independentlyValid c p)
          forAll "sampled paths end at the true leaf and answer the true label" caseGen (fun c ->
              for p in sampled c do
                  Expect.equal (Grammar.conclusion p.Steps) (Some(Taxonomy.leaf c.Sample.Label)) "conclusion"
                  Expect.equal p.Answer c.Sample.Label "answer")
          forAll "N distinct paths when at least N exist, else all that exist" caseGen (fun c ->
              let ps = sampled c
              let exist = Pnrps.enumerate g c.Config c.Sample |> Seq.truncate (c.Config.Paths + 1) |> Seq.length
              Expect.equal ps.Length (min c.Config.Paths exist) "count"
              Expect.equal (ps |> List.map (fun p -> p.Steps) |> List.distinct |> List.length) ps.Length "distinct")
          forAll "the same seed gives the same paths" caseGen (fun c ->
              Expect.equal (sampled c) (sampled c) "deterministic")
          forAll "a missing modality is never cited, and only annotated cues are" caseGen (fun c ->
              for p in sampled c do
                  for cited in Grammar.citedCues p.Steps do
                      Expect.isTrue (Availability.has cited.Modality c.Sample.Available) (sprintf "%O cited without its modality" cited)
                      Expect.isTrue (c.Sample.Cues.Contains cited) (sprintf "%O is not annotated" cited))
          forAll "render/parse round trip of sampled paths" caseGen (fun c ->
              for p in sampled c do
                  match Grammar.parse g (Grammar.render g p) with
                  | Ok comp ->
                      Expect.equal (Grammar.steps comp) (Some p.Steps) "steps"
                      Expect.equal comp.Answer p.Answer "answer"
                  | Error e -> failtestf "parse failed: %O" e)
          forAll "the enumeration yields distinct valid paths only" caseGen (fun c ->
              let ps = Pnrps.enumerate g c.Config c.Sample |> Seq.truncate 100 |> List.ofSeq
              Expect.isNonEmpty ps "a valid label always has a path"
              Expect.equal (List.distinct ps) ps "distinct"
              for steps in ps do
                  expectOk (Pnrps.validate g c.Config c.Sample { Steps = steps; Answer = c.Sample.Label }) "validate")
          test "without usable evidence there are no detours and no observations" {
              let s = { flatSample with Cues = Set.empty }
              let ps = Pnrps.sample g Pnrps.defaultConfig 7 s
              Expect.equal ps [ { Steps = Start Modality.all :: (flatLabel |> List.map Forward); Answer = flatLabel } ] "the single direct path"
              let noRefuter = { Label = liveLabel; Available = availability [ Modality.Rgb ]; Cues = set [ cue Modality.Rgb "natural" ] }
              let ps = Pnrps.sample g Pnrps.defaultConfig 7 noRefuter |> List.map (fun p -> p.Steps)
              Expect.equal
                  (set ps)
                  (set [ [ Start [ Modality.Rgb ]; Forward "Real Face" ]
                         [ Start [ Modality.Rgb ]; Observe(cue Modality.Rgb "natural"); Forward "Real Face" ] ])
                  "natural skin is compatible with some spoofs: only the two detour-free paths exist"
          }
          test "the walk makes detours closed by contradicting evidence, and observations" {
              let ps = Pnrps.sample g Pnrps.defaultConfig 11 flatSample
              Expect.equal ps.Length 50 "N = 50"
              let withReflect = ps |> List.filter (fun p -> p.Steps |> List.exists (function Reflect _ -> true | _ -> false))
              Expect.isGreaterThan withReflect.Length 10 "many paths have a negative detour"
              Expect.isTrue (ps |> List.exists (fun p -> p.Steps |> List.exists (function Observe _ -> true | _ -> false))) "observations"
              let siblings =
                  ps |> List.exists (fun p -> p.Steps |> List.exists (function Reflect("Wrapped Print Attack", _) -> true | _ -> false))
              Expect.isTrue siblings "the paper's self-correction: rule out the wrapped print, conclude flat print"
              let live = { Label = liveLabel; Available = allAvail; Cues = Taxonomy.compatible tx "Real Face" }
              let lp = Pnrps.sample g Pnrps.defaultConfig 3 live
              Expect.isTrue
                  (lp |> List.exists (fun p -> List.contains (Reflect("Spoof Face", cue Modality.Ir "pupil")) p.Steps))
                  "a pupil reflex rules out Spoof Face"
          }
          test "different seeds give different samples of a large path space" {
              let a = Pnrps.sample g Pnrps.defaultConfig 1 flatSample
              let b = Pnrps.sample g Pnrps.defaultConfig 2 flatSample
              Expect.notEqual a b "seeded"
          }
          test "validate names the broken rule" {
              let cfg = Pnrps.defaultConfig
              let start = Start Modality.all
              let fwd = flatLabel |> List.map Forward
              let ok steps = { Steps = steps; Answer = flatLabel }
              let v steps = Pnrps.validate g cfg flatSample (ok steps)
              let wrapped = "Wrapped Print Attack"
              let prefix = fwd |> List.take 4
              let flatDepth = cue Modality.Depth "flat"
              expectOk (v (start :: fwd)) "direct path"
              expectOk (v (start :: prefix @ [ Forward wrapped; Reflect(wrapped, flatDepth); Forward "Flat Print Attack" ])) "sibling detour"
              expectRule "start" (v fwd)
              expectRule "start" (v (Start [ Modality.Rgb ] :: fwd))
              expectRule "start" (v (start :: start :: fwd))
              expectRule "end" (v (start :: prefix))
              expectRule "end" (v (start :: fwd @ [ Observe flatDepth ]))
              expectRule "depth-first" (v (start :: Forward "Print Attacks" :: fwd))
              expectRule "depth-first" (v (start :: Forward "Nowhere" :: fwd))
              expectRule "forward-once" (v (start :: prefix @ [ Forward wrapped; Reflect(wrapped, flatDepth); Forward wrapped ]))
              expectRule "evidence" (v (start :: prefix @ [ Forward wrapped; Reflect(wrapped, cue Modality.Ir "paper"); Forward "Flat Print Attack" ]))
              expectRule "evidence" (v (start :: Forward "Spoof Face" :: Reflect("Spoof Face", cue Modality.Ir "pupil") :: fwd))
              expectRule "depth-first" (v (start :: prefix @ [ Forward wrapped; Reflect("Print Attacks", flatDepth) ]))
              expectRule "observe-once" (v (start :: Observe flatDepth :: Observe flatDepth :: fwd))
              expectRule "observations" (v (start :: Observe flatDepth :: Observe(cue Modality.Ir "paper") :: Observe(cue Modality.Rgb "halftone") :: fwd))
              expectRule "annotation" (v (start :: Observe(cue Modality.Ir "pupil") :: fwd))
              let noDepth = { flatSample with Available = availability [ Modality.Rgb; Modality.Ir ] }
              expectRule "modality" (Pnrps.validate g cfg noDepth (ok (Start [ Modality.Rgb; Modality.Ir ] :: Observe flatDepth :: fwd)))
              let detour n e = [ Forward n; Reflect(n, e) ]
              let long =
                  start :: List.take 3 fwd
                  @ detour "Replay Attacks" (cue Modality.Ir "paper")
                  @ [ Forward "Print Attacks" ]
                  @ detour wrapped flatDepth
                  @ detour "Print with Cut-outs Attack" (cue Modality.Ir "nopupil")
                  @ [ Forward "Flat Print Attack" ]
              expectRule "length" (Pnrps.validate g cfg flatSample (ok long))
              expectOk (Pnrps.validate g { cfg with Alpha = 2.2 } flatSample (ok long)) "alpha 2.2 allows 11 moves"
              expectRule "answer" (Pnrps.validate g cfg flatSample { Steps = start :: fwd; Answer = liveLabel })
              expectRule "label" (Pnrps.validate g cfg { flatSample with Label = List.take 3 flatLabel } (ok (start :: fwd)))
              expectRule "config" (Pnrps.validate g { cfg with Alpha = 0.5 } flatSample (ok (start :: fwd)))
          }
          test "sample rejects an invalid label or config" {
              Expect.throwsT<ArgumentException> (fun () -> Pnrps.sample g Pnrps.defaultConfig 0 { flatSample with Label = [ "Spoof Face" ] } |> ignore) "label"
              Expect.throwsT<ArgumentException> (fun () -> Pnrps.sample g { Pnrps.defaultConfig with Paths = 0 } 0 flatSample |> ignore) "paths"
          }
          test "cues of missing modalities or without a template are ignored by the sampler" {
              let s =
                  { flatSample with
                      Available = availability [ Modality.Rgb ]
                      Cues = flatCues.Add(cue Modality.Rgb "unheard-of") }
              let ps = Pnrps.sample g Pnrps.defaultConfig 5 s
              Expect.isNonEmpty ps "paths"
              for p in ps do
                  Expect.isTrue (Grammar.citedCues p.Steps |> List.forall (fun c -> c = cue Modality.Rgb "halftone")) "only rgb:halftone is usable"
          } ]
