module PaFas.Tests.RewardsTests

open Expecto
open FsCheck.FSharp
open PaFas.Core

let private g = Gen.grammar
let private tx = Gen.taxonomy
let private leaves = Taxonomy.leaves tx |> List.map (Taxonomy.labelOf tx) |> Array.ofList
let private flat = Taxonomy.labelOf tx "Flat Print Attack"
let private wrapped = Taxonomy.labelOf tx "Wrapped Print Attack"
let private screen = Taxonomy.labelOf tx "Screen Replay Attack"
let private live = [ Taxonomy.LiveName ]
let private modes = [ ExactLeaf; Binary; Hierarchical ]

/// A simple true chain: start, then a forward step into every node of the label.
let private trueChain (available: Modality list) (label: Label) =
    { Steps = Start available :: (label |> List.map Forward); Answer = label }

let private inUnit x = x >= 0.0 && x <= 1.0

/// Checks every reward function on one text against the bounds; also cross-checks the format reward
/// against the parser's verdict.
let private checkBounded (truth: Label) (text: string) =
    let f = Rewards.format g text
    let cs = modes |> List.map (fun m -> Rewards.classification g m truth text)
    let b = Rewards.score g Rewards.defaultConfig truth text
    let consistent =
        match (if isNull text then Error EmptyText else Grammar.parse g text) with
        | Ok c -> (f = 1.0) = (c.AnswerClosed && not c.Preamble && Taxonomy.isValidLabel tx c.Answer)
        | Error _ -> f = 0.0 && List.forall ((=) 0.0) cs
    (f = 0.0 || f = 1.0)
    && List.forall inUnit cs
    && b.Total >= 0.0 && b.Total <= 2.0
    && b.Total = b.Format + b.Classification
    && consistent

/// Texts assembled from grammar pieces, tags, answer lists and noise.
let private pieceText: FsCheck.Gen<string> =
    let sentences = Grammar.allSteps tx g.Templates |> List.map (Grammar.sentence g)
    let nodes = Taxonomy.nodes tx
    let piece =
        Gen.oneof
            [ Gen.elements [ "<think>"; "</think>"; "<answer>"; "</answer>"; "<think"; "answer>"; "[" ; "]"; "'"; "\""; ","; " "; "\n"; "\t"; "" ]
              Gen.elements sentences
              Gen.elements nodes |> Gen.map (fun n -> "'" + n + "'")
              Gen.elements nodes |> Gen.map (fun n -> n.ToUpperInvariant())
              Gen.elements (Array.toList leaves) |> Gen.map Grammar.answerText
              ArbMap.defaults |> ArbMap.generate<string> |> Gen.map (fun s -> if isNull s then "" else s) ]
    Gen.listOf piece |> Gen.map (String.concat "")

/// A rendered true chain with a random edit (prefix, suffix, dropped or doubled tag, case, quotes, label cut):
/// texts close to valid, where the format rules decide.
let private nearValid: FsCheck.Gen<string * Label> =
    let edits: (string -> string) list =
        [ id
          (fun t -> "Answer: " + t)
          (fun t -> "  \n" + t)
          (fun t -> t + " ok")
          (fun t -> t + "\n\n")
          (fun t -> t.Replace("</answer>", ""))
          (fun t -> t.Replace("</think>", ""))
          (fun t -> t.Replace("<answer>", "<answer><answer>"))
          (fun t -> t.Replace("'", "\""))
          (fun t -> t.ToUpperInvariant())
          (fun t -> t.ToLowerInvariant())
          (fun t -> t.Replace("', '", "','"))
          (fun t -> let i = t.IndexOf("', '") in if i < 0 then t else t.Substring(0, i) + "']</answer>") ]
    gen {
        let! label = Gen.elements (Array.toList leaves)
        let! truth = Gen.elements [ label; label; flat; live ]
        let! e1 = Gen.elements edits
        let! e2 = Gen.elements edits
        return e2 (e1 (Grammar.render g (trueChain Modality.all label))), truth
    }

/// 100,000 seeded fuzz inputs: random character soup (tags, quotes, brackets, unicode, control characters) and
/// mutations (insert, delete, duplicate, swap, truncate) of rendered chains. Returns the inputs that break a bound
/// or throw.
let private fuzz (n: int) (seed: int) =
    let rng = System.Random seed
    let alphabet =
        [| "<think>"; "</think>"; "<answer>"; "</answer>"; "['"; "']"; "'"; "\""; ","; "["; "]"; " "; "\n"; "\t"; "."
           "Real Face"; "Spoof Face"; "This points to"; "However,"; "so I rule out"; "\u0000"; "\u00e9"; "\U0001F600"; "<"; ">"
           "real face"; "SPOOF FACE"; "Flat Print Attack"; "In the depth map the face region is flat with no facial relief." |]
    let valid =
        leaves
        |> Array.map (fun l -> Grammar.render g (trueChain [ Modality.Rgb; Modality.Depth; Modality.Ir ] l))
    let mutate (t: string) =
        let mutable t = t
        for _ in 1 .. 1 + rng.Next 4 do
            let i = if t.Length = 0 then 0 else rng.Next t.Length
            t <-
                match rng.Next 5 with
                | 0 -> t.Insert(i, alphabet[rng.Next alphabet.Length])
                | 1 when t.Length > 0 -> t.Remove(i, min (1 + rng.Next 8) (t.Length - i))
                | 2 when t.Length > 0 -> t.Insert(i, t.Substring(i, min (1 + rng.Next 20) (t.Length - i)))
                | 3 when t.Length > 1 -> t.Substring(0, i)
                | _ -> t.Replace("'", "\"")
        t
    let failures = ResizeArray<string>()
    for k in 1 .. n do
        let text =
            if k % 2 = 0 then mutate valid[rng.Next valid.Length]
            else System.String.Concat(Array.init (rng.Next 40) (fun _ -> alphabet[rng.Next alphabet.Length]))
        let truth = leaves[rng.Next leaves.Length]
        let ok =
            try
                checkBounded truth text
            with _ -> false
        if not ok && failures.Count < 5 then failures.Add text
    failures

let tests =
    testList
        "Rewards"
        [ test "fuzz: parser and rewards on 100,000 random and mutated strings: no exception, bounded, consistent" {
              let failures = fuzz 100_000 20261202
              Expect.isEmpty failures (sprintf "inputs that broke a bound or threw: %A" (List.ofSeq failures))
          }
          Gen.prop "rewards are bounded and consistent on arbitrary strings" (fun (s: string) (i: int) ->
              checkBounded leaves[abs (i % leaves.Length)] s)

          testCase "null and empty texts get zero" (fun () ->
              for t in [ null; ""; "   " ] do
                  Expect.equal (Rewards.score g Rewards.defaultConfig flat t) { Format = 0.0; Classification = 0.0; Conclusion = 0.0; Consistency = 0.0; Coherence = 0.0; Total = 0.0 } "zero")

          testPropertyWithConfig Gen.config "rewards are bounded on texts built from grammar pieces and tags"
          <| Prop.forAll (Arb.fromGen (Gen.zip pieceText (Gen.elements (Array.toList leaves)))) (fun (text, truth) ->
              checkBounded truth text)

          testPropertyWithConfig Gen.config "format is 1 exactly when the parsed text meets the rules, on near-valid texts"
          <| Prop.forAll (Arb.fromGen nearValid) (fun (text, truth) -> checkBounded truth text)

          testPropertyWithConfig Gen.config "a rendered true path gets format 1 and classification 1 in every mode"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip (Gen.elements (Array.toList leaves)) (Gen.elements [ 1..7 ])))
              (fun (label, mask) ->
                  let avail = Modality.all |> List.indexed |> List.filter (fun (i, _) -> mask &&& (1 <<< i) <> 0) |> List.map snd
                  let text = Grammar.render g (trueChain avail label)
                  Rewards.format g text = 1.0
                  && modes |> List.forall (fun m -> Rewards.classification g m label text = 1.0)
                  && (Rewards.score g Rewards.defaultConfig label text).Total = 2.0)

          testPropertyWithConfig Gen.config "exact-leaf credit is 1 iff the answer is the truth; binary iff the classes agree"
          <| Prop.forAll (Arb.fromGen (Gen.zip (Gen.elements (Array.toList leaves)) (Gen.elements (Array.toList leaves)))) (fun (a, b) ->
              let text = Grammar.render g (trueChain Modality.all a)
              let exact = Rewards.classification g ExactLeaf b text
              let binary = Rewards.classification g Binary b text
              let hier = Rewards.classification g Hierarchical b text
              (exact = (if a = b then 1.0 else 0.0))
              && (binary = (if Taxonomy.isLive a = Taxonomy.isLive b then 1.0 else 0.0))
              && (hier = 1.0) = (a = b)
              && hier >= exact)

          testCase "hierarchical prefix credit, worked examples" (fun () ->
              let text l = Grammar.render g (trueChain Modality.all l)
              // flat vs wrapped print: 4 common nodes (Spoof Face .. Print Attacks) of 5.
              Expect.floatClose Accuracy.veryHigh (Rewards.classification g Hierarchical flat (text wrapped)) 0.8 "4/5"
              // flat print vs screen replay: Spoof Face, External, Presentation Media = 3 of 5.
              Expect.floatClose Accuracy.veryHigh (Rewards.classification g Hierarchical flat (text screen)) 0.6 "3/5"
              Expect.equal (Rewards.classification g Hierarchical flat (text live)) 0.0 "live vs spoof"
              Expect.equal (Rewards.classification g Binary flat (text screen)) 1.0 "both spoof"
              Expect.equal (Rewards.classification g Binary live (text screen)) 0.0 "live vs spoof"
              // An inner-node answer: parses, format 0, prefix credit 1/5.
              let inner = Grammar.renderText "I examine the RGB images of the face." [ Taxonomy.SpoofName ]
              Expect.equal (Rewards.format g inner) 0.0 "not a full path"
              Expect.floatClose Accuracy.veryHigh (Rewards.classification g Hierarchical flat inner) 0.2 "1/5"
              Expect.equal (Rewards.classification g ExactLeaf flat inner) 0.0 "not exact"
              // Junk appended to the truth: prefix 5, denominator 6.
              let junk = Grammar.renderText "" (flat @ [ "Something Else" ])
              Expect.floatClose Accuracy.veryHigh (Rewards.classification g Hierarchical flat junk) (5.0 / 6.0) "5/6"
              Expect.equal (Rewards.classification g Hierarchical [] (text flat)) 0.0 "empty truth")

          testCase "format failures" (fun () ->
              let good = Grammar.render g (trueChain Modality.all flat)
              Expect.equal (Rewards.format g good) 1.0 "good"
              Expect.equal (Rewards.format g ("Sure! " + good)) 0.0 "preamble"
              Expect.equal (Rewards.classification g ExactLeaf flat ("Sure! " + good)) 1.0 "the answer is still read"
              Expect.equal (Rewards.format g (good + "  \n")) 1.0 "trailing whitespace is fine"
              Expect.equal (Rewards.format g (good + " more")) 0.0 "trailing junk"
              Expect.equal (Rewards.format g (good.Replace("</answer>", ""))) 0.0 "answer not closed"
              Expect.equal (Rewards.classification g ExactLeaf flat (good.Replace("</answer>", ""))) 1.0 "unclosed answer still read"
              Expect.equal (Rewards.format g (good.Replace("<think>", ""))) 0.0 "no think"
              Expect.equal (Rewards.format g (good.Replace("'", "\"").Replace("Flat Print Attack", "flat  print attack"))) 1.0
                  "quote style and label case forgiven"
              Expect.equal (Rewards.format g (Grammar.renderText "x" [ "Spoof Face"; "Flat Print Attack" ])) 0.0 "skips levels")

          testCase "weighted sum" (fun () ->
              let cfg = { Rewards.paper Hierarchical with FormatWeight = 0.5; ClassWeight = 2.0 }
              let text = "Well: " + Grammar.render g (trueChain Modality.all wrapped)
              let b = Rewards.score g cfg flat text
              Expect.equal b.Format 0.0 "preamble"
              Expect.floatClose Accuracy.veryHigh b.Classification 0.8 "4/5"
              Expect.floatClose Accuracy.veryHigh b.Total 1.6 "0.5*0 + 2*0.8"
              let ts = Rewards.totals g Rewards.defaultConfig flat [ Grammar.render g (trueChain Modality.all flat); "junk" ]
              Expect.equal ts [| 2.0; 0.0 |] "totals")

          testCase "conclusion and consistency terms add to the total only with their weights" (fun () ->
              let cfg = { Rewards.paper ExactLeaf with ConclusionWeight = 1.0; ConsistencyWeight = 0.5 }
              let p = trueChain Modality.all wrapped
              let consistent = Grammar.render g p
              let b = Rewards.score g cfg flat consistent
              Expect.equal (b.Classification, b.Conclusion, b.Consistency) (0.0, 0.0, 1.0) "wrong leaf, chain and answer agree"
              Expect.floatClose Accuracy.veryHigh b.Total 1.5 "1*1 + 1*0 + 1*0 + 0.5*1"
              let b2 = Rewards.score g cfg flat (Grammar.render g { p with Answer = flat })
              Expect.equal (b2.Classification, b2.Conclusion, b2.Consistency) (1.0, 0.0, 0.0) "right answer, chain concludes otherwise"
              Expect.floatClose Accuracy.veryHigh b2.Total 2.0 "format + answer only"
              let b3 = Rewards.score g cfg wrapped consistent
              Expect.floatClose Accuracy.veryHigh b3.Total 3.5 "every term"
              let paper = Rewards.score g Rewards.defaultConfig wrapped consistent
              Expect.equal paper.Total (paper.Format + paper.Classification) "the paper's total ignores the new terms"
              Expect.equal (Rewards.score g cfg wrapped "junk").Total 0.0 "no format, no conclusion")

          testCase "coherence: 1 for a well-formed chain that does not contradict itself" (fun () ->
              let cfg = { Rewards.paper ExactLeaf with CoherenceWeight = 1.0 }
              let p = trueChain Modality.all flat
              let clean = Rewards.score g cfg flat (Grammar.render g p)
              Expect.equal clean.Coherence 1.0 "coherent"
              Expect.floatClose Accuracy.veryHigh clean.Total 3.0 "format + class + coherence"
              let nopupil, pupil = Gen.cue Modality.Ir "nopupil", Gen.cue Modality.Ir "pupil"
              let steps = Start Modality.all :: Observe nopupil :: Forward "Real Face" :: Reflect("Real Face", pupil) :: (flat |> List.map Forward)
              let torn = Rewards.score g cfg flat (Grammar.render g { p with Steps = steps })
              Expect.equal (torn.Format, torn.Coherence) (1.0, 0.0) "a cue and its opposite: well-formed, not coherent"
              Expect.equal (Rewards.score g cfg flat "junk").Coherence 0.0 "no format, no coherence"
              Expect.equal (Rewards.score g Rewards.defaultConfig flat (Grammar.render g p)).Total 2.0 "off by default")

          testCase "parseMode" (fun () ->
              for m in modes do
                  Expect.equal (Rewards.parseMode (Rewards.modeText m)) (Ok m) "round trip"
              Expect.equal (Rewards.parseMode " Prefix ") (Ok Hierarchical) "alias"
              Expect.isError (Rewards.parseMode "fuzzy") "unknown"
              Expect.isError (Rewards.parseMode null) "null") ]
