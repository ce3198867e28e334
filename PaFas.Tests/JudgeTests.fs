module PaFas.Tests.JudgeTests

open System.Text.RegularExpressions
open Expecto
open FsCheck.FSharp
open PaFas.Core

let private tx, g = Gen.taxonomy, Gen.grammar
let private forAll, cue, availability = Gen.forAll, Gen.cue, Gen.availability
let private label leaf = Taxonomy.labelOf tx leaf

/// The format rule written independently of the parser, from its documentation: optional whitespace, <think>, any
/// text up to the first </think>, whitespace, <answer>, a list of quoted labels up to the first </answer>, trailing
/// whitespace only; the labels (case and spacing forgiven) form a full taxonomy path.
let private shape = Regex(@"^\s*<think>.*?</think>\s*<answer>(?<body>.*?)</answer>\s*$", RegexOptions.Singleline)
let private quoted = Regex(@"^\s*(?:'(?<v>[^']*)'|""(?<v>[^""]*)"")\s*$")
let private oracleFormat (text: string) =
    let m = if isNull text then Match.Empty else shape.Match text
    if not m.Success then false
    else
        let body = m.Groups["body"].Value.Trim()
        if body.Length < 2 || body[0] <> '[' || body[body.Length - 1] <> ']' || body.Contains "</answer>" then false
        else
            let items = body.Substring(1, body.Length - 2).Split(',') |> Array.map quoted.Match
            if items |> Array.exists (fun m -> not m.Success) then false
            else
                let names = items |> Array.map (fun m -> m.Groups["v"].Value) |> List.ofArray
                let canon = names |> List.map (Taxonomy.canonical tx)
                canon |> List.forall Option.isSome && Taxonomy.isValidLabel tx (canon |> List.map Option.get)

/// Rendered PNRPS chains (truth cues) with up to two random edits near the format rules' edges.
let private editedChain: FsCheck.Gen<string> =
    let edits: (string -> string) list =
        [ id; (fun t -> "Sure. " + t); (fun t -> " \n" + t); (fun t -> t + " ok"); (fun t -> t + "\n")
          (fun t -> t.Replace("</answer>", "")); (fun t -> t.Replace("</think>", "")); (fun t -> t.Replace("'", "\""))
          (fun t -> t.Replace("<answer>", "<answer><answer>")); (fun t -> t.ToUpperInvariant())
          (fun t -> t.Replace("</answer>", "</answer></answer>")); (fun t -> t.Replace("</think>", "</think> x "))
          (fun t -> t.Replace("['", "[ '")); (fun t -> t.Replace("']", "',]")); (fun t -> t.Replace("[", ""))
          (fun t -> let i = t.IndexOf("', '") in if i < 0 then t else t.Substring(0, i) + "']</answer>") ]
    gen {
        let! leaf = Gen.elements (Taxonomy.leaves tx)
        let! seed = Gen.choose (0, 100000)
        let s = { Label = label leaf; Available = Availability.all; Cues = Taxonomy.compatible tx leaf }
        let p = Pnrps.sample g { Pnrps.defaultConfig with Paths = 1 } seed s |> List.head
        let! e1 = Gen.elements edits
        let! e2 = Gen.elements edits
        return e2 (e1 (Grammar.render g p))
    }

let private pnrpsCase: FsCheck.Gen<PnrpsSample * ReasoningPath> =
    gen {
        let! leaf = Gen.elements (Taxonomy.leaves tx)
        let! mask = Gen.choose (1, 7)
        let ms = Modality.all |> List.indexed |> List.filter (fun (i, _) -> mask &&& (1 <<< i) <> 0) |> List.map snd
        let avail = availability ms
        let! cues = Gen.subListOf (Taxonomy.compatible tx leaf |> Set.toList)
        let! seed = Gen.choose (0, 100000)
        let s = { Label = label leaf; Available = avail; Cues = Set.ofList cues }
        return s, Pnrps.sample g { Pnrps.defaultConfig with Paths = 1 } seed s |> List.head
    }

let private sentence step = Grammar.sentence g step
let private think (parts: string list) answer = Grammar.renderText (String.concat " " parts) answer

let tests =
    testList
        "Judge"
        [ forAll "format verdict = the independently written format rule, on edited chains" editedChain (fun text ->
              let j = Judge.completion g text
              Judge.formatValid j = oracleFormat text && Rewards.format g text = (if oracleFormat text then 1.0 else 0.0))
          Gen.prop "format verdict = the independent rule on arbitrary strings (and the judge never throws)" (fun (s: string) ->
              Judge.formatValid (Judge.completion g s) = oracleFormat s)
          forAll "rewards are the judge's: format and credit per mode" editedChain (fun text ->
              let j = Judge.completion g text
              [ ExactLeaf; Binary; Hierarchical ]
              |> List.forall (fun m ->
                  let truth = label "Flat Print Attack"
                  let r = Rewards.score g { Rewards.defaultConfig with Mode = m } truth text
                  r.Format = (if Judge.formatValid j then 1.0 else 0.0) && r.Classification = Judge.credit g m truth j))

          testCase "failure kinds, in the order the rules are checked" (fun () ->
              let good = think [ sentence (Start Modality.all); sentence (Forward "Real Face") ] [ "Real Face" ]
              let kind t = (Judge.completion g t).Failure |> Option.map Judge.failureKind
              Expect.equal (kind good) None "valid"
              Expect.equal (kind ("Sure. " + good)) (Some "text before <think>") "preamble"
              Expect.equal (kind (good.Replace("</answer>", ""))) (Some "missing </answer>") "unclosed"
              Expect.equal (kind (good.Replace("<think>", ""))) (Some "no <think> tag") "no think"
              Expect.equal (kind (good + " x")) (Some "malformed answer") "trailing text"
              Expect.equal (kind (Grammar.renderText "x" [ "Spoof Face" ])) (Some "answer is not a full taxonomy path") "partial"
              Expect.equal (kind null) (Some "empty completion") "null"
              Expect.equal ((Judge.completion g ("Sure. " + good)).Answer) (Some [ "Real Face" ]) "the answer is still read")

          testCase "an answer list that is a lone bracket is malformed, not an exception" (fun () ->
              for body in [ "["; "]"; "[]"; "[,]"; "['"; "'" ] do
                  let j = Judge.completion g ("<think>x</think><answer>" + body + "</answer>")
                  Expect.isSome j.Failure body
                  Expect.isNone j.Answer body)

          testCase "conclusion: the last forward step, as in issue 16's chain" (fun () ->
              let flat = cue Modality.Depth "flat"
              let text =
                  think
                      [ sentence (Start Modality.all); sentence (Forward "Real Face"); sentence (Observe flat)
                        sentence (Forward "Spoof Face"); sentence (Forward "Partial Attacks"); sentence (Forward "Screen Replay Attack") ]
                      [ "Real Face" ]
              let j = Judge.completion g text
              Expect.equal j.Conclusion (Some "Screen Replay Attack") "last forward step"
              Expect.equal (Judge.consistent j) (Some false) "the answer is Real Face"
              Expect.equal (Judge.conclusionLive g j) (Some false) "the conclusion is a spoof"
              let a = Judge.agreement g j false
              Expect.equal a { ConclusionIsAnswer = Some false; AnswerAgreesWithScore = Some false; ConclusionAgreesWithScore = Some true } "agreement"
              Expect.isFalse a.All "not all agree")

          testCase "conclusion: a forward step ruled out later is not the conclusion" (fun () ->
              let pupil = cue Modality.Ir "pupil"
              let steps = [ Start Modality.all; Forward "Spoof Face"; Reflect("Spoof Face", pupil) ]
              Expect.equal (Judge.completion g (think (steps |> List.map sentence) [ "Real Face" ])).Conclusion None "none left"
              let steps2 = steps @ [ Forward "Real Face" ]
              let j = Judge.completion g (think (steps2 |> List.map sentence) [ "Real Face" ])
              Expect.equal j.Conclusion (Some "Real Face") "after the detour"
              Expect.equal (Judge.consistent j) (Some true) "consistent")

          forAll "PNRPS chains: conclusion = the true leaf, consistent, no contradiction, format valid" pnrpsCase (fun (s, p) ->
              let j = Judge.completion g (Grammar.render g p)
              j.Conclusion = Some(Taxonomy.leaf s.Label)
              && Judge.consistent j = Some true
              && not (Judge.selfContradictory j)
              && Judge.formatValid j
              && j.Steps = p.Steps)

          testCase "contradiction: a cue and its opposite (issue 16's greedy chain)" (fun () ->
              let nopupil = cue Modality.Ir "nopupil"
              let pupil = cue Modality.Ir "pupil"
              let text =
                  think
                      [ sentence (Start Modality.all); sentence (Observe nopupil); sentence (Forward "Real Face")
                        sentence (Reflect("Real Face", pupil)); sentence (Forward "Spoof Face") ]
                      [ "Spoof Face" ]
              let j = Judge.completion g text
              Expect.equal j.Contradictions [ nopupil, pupil ] "pupil and no pupil"
              Expect.isTrue (Judge.selfContradictory j) "self-contradictory"
              Expect.isEmpty j.IllFormed "every clause is known")

          testCase "contradiction: an ill-formed clause" (fun () ->
              let text =
                  think [ sentence (Start Modality.all); "the RGB image the skin texture looks natural."; sentence (Forward "Real Face") ] [ "Real Face" ]
              let j = Judge.completion g text
              Expect.equal j.IllFormed [ "the RGB image the skin texture looks natural." ] "the broken clause"
              Expect.isTrue (Judge.selfContradictory j) "self-contradictory"
              Expect.equal j.Conclusion (Some "Real Face") "the known steps still conclude")

          testCase "cues one class shows together are not opposed" (fun () ->
              // Print with cut-outs: paper reflectance and skin through the holes; a screen: moire and glare.
              for a, b in [ cue Modality.Ir "paper", cue Modality.Ir "skin"; cue Modality.Rgb "moire", cue Modality.Rgb "glare"
                            cue Modality.Depth "flat", cue Modality.Depth "holes"; cue Modality.Depth "flat", cue Modality.Ir "pupil" ] do
                  Expect.isFalse (Judge.opposed tx a b) (sprintf "%O / %O" a b)
              for a, b in [ cue Modality.Depth "flat", cue Modality.Depth "relief"; cue Modality.Rgb "natural", cue Modality.Rgb "halftone" ] do
                  Expect.isTrue (Judge.opposed tx a b) (sprintf "%O / %O" a b))

          testCase "opposition is symmetric, irreflexive, within one modality, and no leaf shows an opposed pair" (fun () ->
              let cues = g.Templates.Cues |> Map.toList |> List.map fst
              for a in cues do
                  Expect.isFalse (Judge.opposed tx a a) "irreflexive"
                  for b in cues do
                      let o = Judge.opposed tx a b
                      Expect.equal o (Judge.opposed tx b a) "symmetric"
                      if o then
                          Expect.equal a.Modality b.Modality "same modality"
                          for leaf in Taxonomy.leaves tx do
                              let cs = Taxonomy.compatible tx leaf
                              Expect.isFalse (cs.Contains a && cs.Contains b) (sprintf "%s shows %O and %O" leaf a b))

          testCase "diagnosis: truth, score verdict and faithfulness n/a without ground-truth cues" (fun () ->
              let flatLabel = label "Flat Print Attack"
              let flat = cue Modality.Depth "flat"
              let relief = cue Modality.Depth "relief"
              let text =
                  think [ sentence (Start Modality.all); sentence (Observe flat); sentence (Observe relief); sentence (Forward "Spoof Face") ] flatLabel
              let j = Judge.completion g text
              let withCues: SampleTruth = { Label = flatLabel; Cues = Some(set [ flat ]); Available = availability [ Modality.Rgb; Modality.Ir ] }
              let d = Diagnosis.assess g withCues false j
              Expect.equal d.AnswerLeaf (Some true) "answer right"
              Expect.isTrue d.AnswerLive "answer live/spoof right"
              Expect.equal d.ConclusionLeaf (Some false) "conclusion is an inner node"
              Expect.isTrue d.ConclusionLive "conclusion says spoof"
              Expect.equal d.TrueCited (Some 1) "one of two cited cues is true"
              Expect.isTrue d.CitesAbsentModality "depth was not shown"
              let noCues = Diagnosis.assess g { withCues with Cues = None; Label = [ Taxonomy.SpoofName ] } true j
              Expect.equal noCues.AnswerLeaf None "partial truth: no leaf measure"
              let s = Diagnosis.summarize [ noCues ]
              Expect.equal s.Faithfulness.Of 0 "nothing to count"
              Expect.isTrue (System.Double.IsNaN s.Faithfulness.Value) "n/a, not 0"
              Expect.equal s.WithTruthCues 0 "no sample with truth cues"
              Expect.equal s.AnswerLeaf.Of 0 "no full-path truth"
              Expect.equal s.SelfContradiction { Hits = 1; Of = 1 } "flat and relief"
              Expect.equal s.AnswerScoreAgreement { Hits = 0; Of = 1 } "spoof answer, live score"
              let s2 = Diagnosis.summarize [ d; noCues ]
              Expect.equal s2.Faithfulness { Hits = 1; Of = 2 } "only samples with truth cues count"
              Expect.equal s2.WithConclusion 2 "both have a conclusion"
              Expect.equal s2.Consistency { Hits = 0; Of = 2 } "conclusion Spoof Face is not the answer's leaf") ]
