module PaFas.Tests.AnnotatorTests

open System
open System.Collections.Generic
open System.IO
open Expecto
open PaFas.Host.Data
open PaFas.Host.Model
open PaFas.Host.Augmentation

let private recordOf (f: ForeignFace) =
    SampleRecord(f.Id, "rgb", "d", "i", f.Label, (if f.Leaf = SyntheticWorld.Live then "" else f.Leaf), f.Sensor.Name, f.Cues, f.Id)

/// Faces of one foreign sensor with their records and statistics.
let private sensorSet (sensor: string) (per: int) (seed: int) =
    let faces = ForeignSensors.RenderAll([| ForeignSensors.ByName sensor |], per, 64, seed, threads = 2)
    let recs = faces |> Array.map recordOf
    recs, faces |> Array.map (fun f -> Annotator.Features(f.ToTensors()))

let private agreement (recs: SampleRecord[]) (feats: IReadOnlyDictionary<string, float>[]) (t: CueThresholds) =
    let pred = readOnlyDict [ for i in 0 .. recs.Length - 1 -> recs.[i].Id, Annotator.Decide(feats.[i], t) ]
    AnnotationReports.Agreement(recs, pred)

/// Calibrated on one render of a sensor (seed 1), measured on another (seed 2): held-out agreement.
let private beforeAfter =
    lazy
        [ for s in ForeignSensors.All ->
              let trainR, trainX = sensorSet s.Name 120 1
              let testR, testX = sensorSet s.Name 120 2
              let cal = CueCalibration.Fit(trainR, trainX, 5, false, "fit")
              s.Name, agreement testR testX CueThresholds.World, agreement testR testX cal.PerDomain.[s.Name] ]

let private sample (id: string) (live: bool) (attack: string) (domain: string) =
    let label =
        if live then [| "Real Face" |]
        else (PaFas.Core.Taxonomy.labelOf Gen.taxonomy attack |> List.toArray)
    SampleRecord(id, "r.png", "d.png", null, label, (if live then "" else attack), domain, null, id)

let private expectMessage (f: unit -> unit) (parts: string list) =
    let msg =
        try
            f ()
            failtest "expected an InvalidDataException"
        with :? InvalidDataException as e -> e.Message
    for p in parts do Expect.stringContains msg p (sprintf "the message names %s" p)

let private foreign =
    testList
        "foreign renderer"
        [ test "deterministic per seed, encodings as specified, cues compatible with the leaf" {
              let a = ForeignSensors.RenderAll(ForeignSensors.All, 10, 32, 3, threads = 2)
              let b = ForeignSensors.RenderAll(ForeignSensors.All, 10, 32, 3, threads = 2)
              Expect.equal (a |> Array.map (fun f -> f.Rgb)) (b |> Array.map (fun f -> f.Rgb)) "same seed, same pixels"
              for f in a do
                  let compat = PaFas.Core.Taxonomy.compatible Gen.taxonomy f.Leaf
                  for c in f.Cues do Expect.isTrue (compat.Contains (PaFas.Core.Cue.tryParse c).Value) (sprintf "%s %s" f.Id c)
                  Expect.all f.DepthCodes (fun c -> c >= 0 && c <= f.Sensor.Depth.MaxCode) "codes within the bit depth"
              // near = bright: the face centre codes above the corner (wall); near = dark: below
              for s in ForeignSensors.All do
                  let lives = a |> Array.filter (fun f -> f.Sensor.Name = s.Name && f.Leaf = SyntheticWorld.Live)
                  for f in lives do
                      let centre, corner = f.DepthCodes.[16 * 32 + 16], f.DepthCodes.[33]
                      if s.Depth.NearBright then Expect.isGreaterThan centre corner (s.Name + " near = bright")
                      else Expect.isLessThan centre corner (s.Name + " near = dark")
              let help = PaFas.Host.Cli.OptionBinder.Find(typeof<SynthOptions>, "sensor").Flag.Help
              for s in ForeignSensors.All do Expect.stringContains help s.Name "synth --sensor's help lists every sensor"
              Expect.isTrue (ForeignSensors.All |> Seq.exists (fun s -> s.Depth.Bits = 8) && ForeignSensors.All |> Seq.exists (fun s -> s.Depth.Bits = 16)) "8- and 16-bit"
          }

          test "calibration lifts held-out agreement on every foreign sensor" {
              for name, before, after in beforeAfter.Value do
                  let live (r: AgreementReport) = (r.PerClass |> Seq.find (fun c -> c.Class = SyntheticWorld.Live)).ExactSetRate
                  printfn "foreign sensor %-10s macro F1 %.3f -> %.3f, exact-set %.3f -> %.3f, live faces exact-set %.3f -> %.3f"
                      name before.MacroF1 after.MacroF1 before.ExactSetRate after.ExactSetRate (live before) (live after)
                  Expect.isGreaterThan after.MacroF1 (before.MacroF1 + 0.1) (sprintf "%s: calibration helps\n%s" name (after.ToText()))
                  Expect.isGreaterThan after.MacroF1 0.8 (sprintf "%s: calibrated F1\n%s" name (after.ToText()))
          }

          test "live faces: wrong depth cues with the world's thresholds, right after calibration" {
              for name, before, after in beforeAfter.Value do
                  let relief (r: AgreementReport) = r.PerCue |> Seq.find (fun c -> c.Cue = "depth:relief")
                  if name = "kinect16" || name = "orbbec8" then
                      Expect.isLessThan (relief before).Recall 0.1 (name + ": near = dark depth reads as no relief uncalibrated")
                  Expect.isGreaterThan (relief after).F1 0.95 (name + ": relief after calibration")
          } ]

let private calibration =
    testList
        "calibration"
        [ test "BestCut separates, in the direction the data shows or the one asked for" {
              let struct (c, b) = CueCalibration.BestCut("s", [| 5.0; 6.0; 7.0 |], [| 1.0; 2.0; 3.0 |], Nullable())
              Expect.isTrue (c.Above && c.Threshold > 3.0 && c.Threshold < 5.0) (string c)
              Expect.floatClose Accuracy.high b 1.0 "perfect"
              let struct (c2, _) = CueCalibration.BestCut("s", [| 1.0; 2.0 |], [| 5.0; 6.0 |], Nullable())
              Expect.isFalse c2.Above "positives below"
              let struct (_, b3) = CueCalibration.BestCut("s", [| 1.0; 2.0 |], [| 5.0; 6.0 |], Nullable true)
              Expect.isLessThanOrEqual b3 0.5 "forced the wrong way it cannot separate"
          }

          test "too few samples of a class is refused naming the domain, the decision and the counts" {
              let recs =
                  [| for i in 0 .. 9 -> sample (sprintf "l%d" i) true "" "S1"
                     for i in 0 .. 9 -> sample (sprintf "p%d" i) false SyntheticWorld.Flat "S1"
                     for i in 0 .. 1 -> sample (sprintf "c%d" i) false SyntheticWorld.Cutout "S1" |]
              let feats = recs |> Array.map (fun _ -> readOnlyDict [ "depth.valid", 1.0; "depth.eye_residual", 0.0; "depth.curv_u", 0.0; "depth.curv_v", 0.0 ])
              expectMessage (fun () -> CueCalibration.Fit(recs, feats, 5, false, "m.jsonl") |> ignore)
                  [ "m.jsonl"; "domain S1"; "depth holes"; "2 Print with Cut-outs Attack"; "--min-per-class" ]
              let ok = CueCalibration.Fit(recs, feats, 2, false, "m.jsonl")
              let holes = ok.Fits |> Seq.find (fun f -> f.Decision = "depth holes")
              Expect.equal (holes.Positives, holes.Negatives) (2, 10) "counted on the classes that should and should not show it"
              let smooth = ok.Fits |> Seq.find (fun f -> f.Decision = "depth relief")
              Expect.stringContains smooth.Note "always" "no rigid mask: every dome is relief"
              let glasses = ok.Fits |> Seq.find (fun f -> f.Decision = "rgb glasses")
              Expect.stringContains glasses.Cut "never" "no glasses attack: the cue is off"
          }

          test "calibrated on the synthetic world itself it stays as good as the world's thresholds" {
              let rs = SyntheticWorld.RenderAll(SynthOptions(PerDomain = 120, Seed = 4, Threads = 2))
              let recs = rs |> Array.map (fun r -> SampleRecord(r.Id, "rgb", (if isNull r.Depth then null else "d"), (if isNull r.Ir then null else "i"), r.Label, (if r.Leaf = SyntheticWorld.Live then "" else r.Leaf), r.Domain, r.Cues, r.Id))
              let feats = rs |> Array.map (fun r -> Annotator.Features(FaceTensors(r.Size, r.Rgb, r.Depth, r.Ir)))
              let cal = CueCalibration.Fit(recs, feats, 5, false, "world")
              let pred = readOnlyDict [ for i in 0 .. recs.Length - 1 -> recs.[i].Id, Annotator.Decide(feats.[i], cal.PerDomain.[recs.[i].Domain]) ]
              let rep = AnnotationReports.Agreement(recs, pred)
              Expect.isGreaterThan rep.MacroF1 0.9 (rep.ToText() + cal.ToText())
              Expect.isNonEmpty rep.PerClass "per-class agreement"
          }

          test "a calibration written as JSON reads back to the same decisions" {
              let recs, feats = sensorSet "kinect16" 60 3
              // a second domain without glasses attacks: its glasses cues are switched off (an infinite cut)
              let noGlasses = Array.zip recs feats |> Array.filter (fun (r, _) -> r.Attack <> SyntheticWorld.Glasses)
              let other = noGlasses |> Array.map (fun (r, _) -> SampleRecord(r.Id + "'", r.Rgb, r.Depth, r.Ir, r.Label, r.Attack, "all", r.Cues, r.Source))
              let cal = CueCalibration.Fit(Array.append recs other, Array.append feats (Array.map snd noGlasses), 3, false, "m")
              let p = Path.Combine(Gen.tempDir "ann" "cal", "c.calibration.json")
              File.WriteAllText(p, cal.ToJson())
              let back = Calibration.LoadThresholds p
              Expect.equal (set back.Keys) (set [ "kinect16"; "all" ]) "domains"
              for i in 0 .. recs.Length - 1 do
                  Expect.sequenceEqual (Annotator.Decide(feats.[i], back.["kinect16"])) (Annotator.Decide(feats.[i], cal.PerDomain.["kinect16"])) recs.[i].Id
              Expect.isTrue (cal.ToJson().Contains "Infinity") "switched-off cuts (no glasses) survive as Infinity"
              File.WriteAllText(p, "{\"domains\": 3}")
              expectMessage (fun () -> Calibration.LoadThresholds p |> ignore) [ p; "not a calibration file" ]
          }

          test "cue rates per class mark what a class should and should not show" {
              let recs = [| sample "a" true "" "X"; sample "b" false SyntheticWorld.Flat "X" |]
              let pred = readOnlyDict [ "a", ([| "depth:flat"; "ir:paper" |] :> IReadOnlyList<_>); "b", ([| "depth:flat" |] :> IReadOnlyList<_>) ]
              let text = AnnotationReports.CueRates(recs, pred)
              Expect.stringContains text "-depth:flat 100%*" "a live face should not be flat"
              Expect.stringContains text "+depth:relief 0%*" "and should have relief"
              Expect.stringContains text "+depth:flat 100%" "a print should be flat"
          }

          test "the contact sheet is a PNG of one row per face" {
              let faces = ForeignSensors.RenderAll([| ForeignSensors.ByName "orbbec8" |], 6, 32, 1, threads = 1)
              let png = ContactSheet.Render(faces |> Array.map (fun f -> struct (recordOf f, f.ToTensors(), f.Cues)))
              let img = StbImageSharp.ImageResult.FromMemory(png, StbImageSharp.ColorComponents.RedGreenBlue)
              Expect.equal img.Height (6 * (ContactSheet.Tile + ContactSheet.Gap) + ContactSheet.Gap) "one row per face"
              Expect.equal (ContactSheet.Pick(faces |> Array.map recordOf, 1)).Count (faces |> Array.distinctBy (fun f -> f.Leaf)).Length "one per class"
          } ]

let private annotationFiles =
    let manifest = [| sample "a" true "" "X"; sample "b" false SyntheticWorld.Flat "X" |]
    let load (lines: string list) =
        let d = Gen.tempDir "ann" "file"
        let p = Path.Combine(d, "ann.jsonl")
        File.WriteAllLines(p, lines)
        p, (fun () -> AnnotationFile.Load(p, manifest, Gen.grammar))
    testList
        "annotations file"
        [ test "good lines load; unknown ids are reported; unannotated samples counted" {
              let _, f = load [ """{"id":"a","cues":["depth:relief","rgb:natural"]}"""; ""; """{"id":"zz","cues":[]}""" ]
              let r = f ()
              Expect.sequenceEqual r.Cues.["a"] [| "depth:relief"; "rgb:natural" |] "cues"
              Expect.equal (r.UnknownIds |> Seq.map (fun struct (i, _) -> i) |> List.ofSeq) [ "zz" ] "unknown id"
              Expect.equal r.Unannotated 1 "b has no line"
              Expect.exists (r.Warnings()) (fun w -> w.Contains "'zz' (line 3)") "the warning names the id and line"
          }

          test "every bad line is an error naming file:line" {
              let cases =
                  [ """{"id":"a"}""", "no 'cues'"
                    """{"id":"a","cues":"depth:flat"}""", "must be an array"
                    """{"id":"a","cues":[3]}""", "not of the form modality:key"
                    """{"id":"a","cues":["depth:wobbly"]}""", "unknown cue 'depth:wobbly'"
                    """{"id":"a","cues":["ir:skin"]}""", "modality sample 'a' does not have"
                    """{"cues":[]}""", "missing 'id'"
                    """not json""", "malformed JSON"
                    """[1,2]""", "must be a JSON object" ]
              for line, part in cases do
                  let p, f = load [ """{"id":"b","cues":[]}"""; line ]
                  expectMessage (fun () -> f () |> ignore) [ p + ":2:"; part ]
              let p, f = load [ """{"id":"a","cues":[]}"""; """{"id":"a","cues":[]}""" ]
              expectMessage (fun () -> f () |> ignore) [ p + ":2:"; "duplicate id 'a' (first on line 1)" ]
          }

          test "a file none of whose ids matches is refused" {
              let p, f = load [ """{"id":"x1","cues":[]}"""; """{"id":"x2","cues":[]}""" ]
              expectMessage (fun () -> f () |> ignore) [ p; "none of its 2 ids matches"; "'x1' on line 1" ]
          } ]

let tests = testList "Annotator" [ foreign; calibration; annotationFiles ]
