module PaFas.Tests.ReasoningTreeTests

open Expecto
open FsCheck.FSharp
open PaFas.Core

let private g = Gen.grammar
let private tx = Gen.taxonomy
let private forAll, cue, availability = Gen.forAll, Gen.cue, Gen.availability

let private flat = cue Modality.Depth "flat"
let private pupil = cue Modality.Ir "pupil"
let private allModalities = Modality.all
let private labels = Taxonomy.leaves tx |> List.map (Taxonomy.labelOf tx)

/// Any step list the grammar can express (not only PNRPS paths) with any valid label.
let private pathGen: FsCheck.Gen<ReasoningPath> =
    gen {
        let! steps = Gen.listOf (Gen.elements (Grammar.allSteps tx g.Templates)) |> Gen.resize 14
        let! label = Gen.elements labels
        return { Steps = steps; Answer = label }
    }

/// Arbitrary strings, and rendered chains cut, spliced and garbled.
let private messyText: FsCheck.Gen<string> =
    let rendered = pathGen |> Gen.map (Grammar.render g)
    gen {
        let! r = rendered
        let! s = ArbMap.defaults |> ArbMap.generate<string>
        let! i = Gen.choose (0, r.Length)
        let! j = Gen.choose (0, r.Length)
        let a, b = min i j, max i j
        return!
            Gen.elements
                [ s
                  r.Substring(0, a)
                  r.Substring(a)
                  r.Substring(0, a) + (if isNull s then "" else s) + r.Substring(b)
                  r.Replace("'", "\"")
                  r.Replace("</think>", "</think></think>")
                  r.Replace("[", "")
                  null ]
    }

let private parseOk text =
    match Grammar.parse g text with
    | Ok c -> c
    | Error e -> failwithf "expected a parse, got %O for %s" e text

let private parseError text =
    match Grammar.parse g text with
    | Ok _ -> failwithf "expected a parse error for %s" text
    | Error e -> e

let tests =
    testList
        "ReasoningTree"
        [ test "render writes the clause templates joined in order" {
              let p =
                  { Steps = [ Start allModalities; Observe flat; Forward "Spoof Face"; Reflect("Spoof Face", pupil); Forward "Real Face" ]
                    Answer = [ "Real Face" ] }
              Expect.equal
                  (Grammar.render g p)
                  ("<think>I examine the RGB, depth and IR images of the face. In the depth map the face region is flat with no facial relief. "
                   + "This points to Spoof Face. However, the IR image shows a bright pupil reflex, so I rule out Spoof Face. "
                   + "This points to Real Face.</think><answer>['Real Face']</answer>")
                  "rendered text"
              Expect.equal (Grammar.sentence g (Start [ Modality.Depth; Modality.Ir ])) "I examine the depth and IR images of the face." "two modalities"
              Expect.equal (Grammar.sentence g (Start [ Modality.Rgb ])) "I examine the RGB images of the face." "one modality"
          }
          forAll "parse (render p) gives back p's steps and answer" pathGen (fun p ->
              let c = parseOk (Grammar.render g p)
              Expect.equal (Grammar.steps c) (Some p.Steps) "steps"
              Expect.equal c.Answer p.Answer "answer"
              Expect.isTrue c.AnswerClosed "closed"
              Expect.isFalse c.Preamble "no preamble")
          forAll "parse never throws, on arbitrary and garbled text" messyText (fun s ->
              match Grammar.parse g s with
              | Ok c -> Expect.isNotNull c.Think "think text"
              | Error e -> Expect.isNotEmpty (string e) "error text")
          test "parse forgives whitespace, quote style and label case" {
              let text =
                  "<think>\n  I examine the RGB images of the face.\n\n  This   points to Real Face.  </think>\n  <answer> [ \"real FACE\" ] </answer>"
              let c = parseOk text
              Expect.equal (Grammar.steps c) (Some [ Start [ Modality.Rgb ]; Forward "Real Face" ]) "steps"
              Expect.equal c.Answer [ "Real Face" ] "canonical answer"
              let mixed = parseOk "<think></think><answer>['Spoof Face', \"Partial Attacks\",'glasses attack']</answer>"
              Expect.equal mixed.Answer [ "Spoof Face"; "Partial Attacks"; "Glasses Attack" ] "mixed quotes"
              Expect.equal (Grammar.steps mixed) (Some []) "empty think"
          }
          test "parse records a preamble, a missing </answer> and unknown clauses" {
              let c = parseOk "Sure! <think>I examine the RGB images of the face. The sky is blue.</think><answer>['Real Face']"
              Expect.isTrue c.Preamble "preamble"
              Expect.isFalse c.AnswerClosed "unclosed answer"
              Expect.equal c.Clauses [ Known(Start [ Modality.Rgb ]); Unknown "The sky is blue." ] "clauses"
              Expect.equal (Grammar.steps c) None "not all known"
              let unknownLabel = parseOk "<think></think><answer>['Cat Face']</answer>"
              Expect.equal unknownLabel.Answer [ "Cat Face" ] "unknown labels are kept as written"
          }
          test "parse is strict on tags" {
              Expect.equal (parseError "") EmptyText "empty"
              Expect.equal (parseError "   \n") EmptyText "blank"
              Expect.equal (parseError "<answer>['Real Face']</answer>") MissingThink "no think"
              Expect.equal (parseError "<think>abc<answer>['Real Face']</answer>") UnclosedThink "unclosed think"
              Expect.equal (parseError "<think>abc</think>") MissingAnswer "no answer"
              Expect.equal (parseError "<think>abc</think>['Real Face']") MissingAnswer "answer without tag"
              Expect.equal (parseError "< think>abc</think><answer>['Real Face']</answer>") MissingThink "no tolerance inside tags"
              for bad in
                  [ "<think>a</think>x<answer>['Real Face']</answer>"
                    "<think>a</think><answer>['Real Face']</answer> more"
                    "<think>a</think><answer>'Real Face'</answer>"
                    "<think>a</think><answer>['Real Face'</answer>"
                    "<think>a</think><answer>[]</answer>"
                    "<think>a</think><answer>[Real Face]</answer>"
                    "<think>a</think><answer>['Real Face',]</answer>" ] do
                  match parseError bad with
                  | MalformedAnswer _ -> ()
                  | e -> failtestf "expected a malformed answer for %s, got %O" bad e
          }
          test "conclusion is the last forward node not ruled out after it" {
              let r n = Reflect(n, pupil)
              Expect.equal (Grammar.conclusion []) None "no steps"
              Expect.equal (Grammar.conclusion [ Start allModalities; Observe flat ]) None "no forward step"
              Expect.equal (Grammar.conclusion [ Forward "Spoof Face"; Forward "Partial Attacks" ]) (Some "Partial Attacks") "deepest"
              Expect.equal (Grammar.conclusion [ Forward "Spoof Face"; r "Spoof Face"; Forward "Real Face" ]) (Some "Real Face") "after a detour"
              Expect.equal (Grammar.conclusion [ Forward "Spoof Face"; Forward "Partial Attacks"; r "Partial Attacks" ]) (Some "Spoof Face") "back to the parent"
              Expect.equal (Grammar.conclusion [ Forward "A"; Forward "B"; r "A"; r "B" ]) None "both ruled out, in any order"
              Expect.equal (Grammar.conclusion [ Forward "A"; r "A"; Forward "A" ]) (Some "A") "re-entered after its reflection"
          }
          test "citedCues lists observations and reflection evidence in order" {
              Expect.equal (Grammar.citedCues [ Start allModalities; Observe flat; Forward "Spoof Face"; Reflect("Spoof Face", pupil) ]) [ flat; pupil ] "cited"
          }
          test "the grammar rejects templates that would break the round trip" {
              let templates = match Templates.parse Gen.templatesJson with Ok t -> t | Error e -> failwith e
              let noStop = { templates with ForwardTemplate = "This points to {node}" }
              Expect.isError (Grammar.create tx noStop) "a sentence without final punctuation"
              let twoClauses = { templates with ForwardTemplate = "I think so. This points to {node}." }
              Expect.isError (Grammar.create tx twoClauses) "a template of two clauses"
              let noNode = { templates with ForwardTemplate = "This points somewhere." }
              Expect.isError (Grammar.create tx noNode) "all forward steps render alike"
              let missingCue = { templates with Cues = templates.Cues.Remove flat }
              Expect.isError (Grammar.create tx missingCue) "a leaf cue without a template"
              Expect.isOk (Grammar.create tx templates) "the shipped templates"
          }
          test "Templates.parse reports malformed input instead of throwing" {
              for bad in [ null; ""; "{"; "[]"; """{"start":"a"}"""; """{"modalityNames":{"rgb":"RGB"},"start":"s","forward":"f","reflect":"r","cues":[]}"""; """{"modalityNames":{"rgb":"RGB","depth":"d","ir":"i"},"start":"s","forward":"f","reflect":"r","cues":[1]}""" ] do
                  Expect.isError (Templates.parse bad) (sprintf "%A" bad)
          }
          test "every step the grammar can express renders to a distinct indexed sentence" {
              let steps = Grammar.allSteps tx g.Templates
              Expect.equal g.SentenceIndex.Count steps.Length "index size"
              for s in steps do
                  Expect.equal (g.SentenceIndex.TryFind(Grammar.normalize (Grammar.sentence g s))) (Some s) (sprintf "%A" s)
          } ]
