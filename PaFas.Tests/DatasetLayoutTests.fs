module PaFas.Tests.DatasetLayoutTests

open System
open System.IO
open Expecto
open PaFas.Host.Data

/// A data set laid out like the public ones: a list file per split (`rgb depth ir label`, paths relative to the
/// root), images in nested folders <sensor>/<class>/<n>_{rgb,depth,ir}.png, three sensors as domains, the attack
/// type in the path; the images come from the foreign renderer. Returns the root.
let private writeDataSet (dir: string) (perSensor: int) =
    let root = Path.Combine(dir, "fas")
    let sensors = [| "kinect16"; "realsense8"; "orbbec8" |] |> Array.map ForeignSensors.ByName
    let r = ForeignSensors.Generate(root, sensors, perSensor, 32, 5, 2)
    let samples = Manifest.Load(r.ManifestPath)
    let rel (p: string) = Path.GetRelativePath(root, p).Replace('\\', '/')
    let lines split =
        samples
        |> Seq.filter (fun s -> (let n = int (s.Id.Split('/') |> Array.last) in (if n % 4 = 3 then "test" elif n % 4 = 2 then "dev" else "train") = split))
        |> Seq.map (fun s -> sprintf "%s %s %s %d" (rel s.Rgb) (rel s.Depth) (rel s.Ir) (if s.IsLive then 1 else 0))
    for split in [ "train"; "dev"; "test" ] do File.WriteAllLines(Path.Combine(root, split + "_list.txt"), lines split)
    File.Delete r.ManifestPath
    root

let private pafas (args: string list) =
    let code = PaFas.Host.Program.Main(Array.ofList ("--threads" :: "1" :: args))
    Expect.equal code 0 (sprintf "pafas %s" (String.Join(" ", args)))

let tests =
    testList
        "DatasetLayout"
        [ test "a list-file data set end to end: inspect, split by domain, annotate with calibration, augment, sft, grpo, eval, metrics" {
              let dir = Gen.tempDir "layout" "e2e"
              let root = writeDataSet dir 64
              let work = Path.Combine(dir, "work")
              let jsonl split = Path.Combine(work, split + ".jsonl")
              for split in [ "train"; "dev"; "test" ] do
                  pafas [ "inspect"; "--data"; Path.Combine(root, split + "_list.txt"); "--domain-pattern"; "^(?<domain>[^/]+)/"
                          "--attack-pattern"; "^[^/]+/(?<attack>[^/]+)/"; "--out"; jsonl split ]
              File.WriteAllLines(Path.Combine(work, "all.jsonl"), [ for s in [ "train"; "dev"; "test" ] do yield! File.ReadAllLines(jsonl s) ])
              let all = Manifest.Load(Path.Combine(work, "all.jsonl"), ManifestOptions(CheckFiles = true))
              Expect.equal (all |> Seq.map (fun s -> s.Domain) |> Set.ofSeq) (set [ "kinect16"; "realsense8"; "orbbec8" ]) "domains from the path"
              Expect.all all (fun s -> s.IsLive || s.Label.Count > 1) "every spoof's attack type from the path"
              Expect.isTrue (all |> Seq.exists (fun s -> s.Attack = SyntheticWorld.Cutout)) "cutout folder -> Print with Cut-outs Attack"
              let splits = Path.Combine(dir, "splits")
              pafas [ "split"; "--data"; Path.Combine(work, "all.jsonl"); "--sources"; "kinect16,realsense8"; "--targets"; "orbbec8"; "--out"; splits; "--val-fraction"; "0.2" ]
              let train = Manifest.Load(Path.Combine(splits, "train.jsonl"))
              Expect.all train (fun s -> s.Domain <> "orbbec8") "the target sensor is never trained on"
              Expect.all (Manifest.Load(Path.Combine(splits, "test.jsonl"))) (fun s -> s.Domain = "orbbec8") "and is the test set"
              let ann = Path.Combine(dir, "annotations.jsonl")
              pafas [ "annotate"; "--data"; Path.Combine(splits, "train.jsonl"); "--calibrate"; "domain"; "--min-per-class"; "1"; "--report"
                      "--sheet"; Path.Combine(dir, "sheet.png"); "--out"; ann ]
              let cal = File.ReadAllText(Path.ChangeExtension(ann, ".calibration.json"))
              Expect.stringContains cal "\"kinect16\"" "calibrated per sensor"
              Expect.stringContains cal "\"realsense8\"" "calibrated per sensor"
              Expect.stringContains (File.ReadAllText(Path.ChangeExtension(ann, ".report.txt"))) "cue rates per class" "rates without ground truth"
              Expect.isTrue (File.Exists(Path.Combine(dir, "sheet.png"))) "contact sheet"
              let chains = Path.Combine(dir, "chains.jsonl")
              pafas [ "augment"; "--data"; Path.Combine(splits, "train.jsonl"); "--annotations"; ann; "--paths"; "2"; "--out"; chains ]
              Expect.stringContains (File.ReadAllText chains) "In the depth map" "chains cite the calibrated cues"
              // annotations from elsewhere are checked like manifests: a bad line is exit 1 and writes nothing
              let bad = Path.Combine(dir, "bad.jsonl")
              File.WriteAllLines(bad, [ File.ReadLines(ann) |> Seq.head; "{\"id\":\"ghost\",\"cues\":\"depth:flat\"}" ])
              let badOut = Path.Combine(dir, "bad-chains.jsonl")
              Expect.equal (PaFas.Host.Program.Main [| "augment"; "--data"; Path.Combine(splits, "train.jsonl"); "--annotations"; bad; "--out"; badOut |]) 1 "bad annotations: exit 1"
              Expect.isFalse (File.Exists badOut) "no chains from bad annotations"
              pafas [ "sft"; "--chains"; chains; "--out"; Path.Combine(dir, "sft"); "--model-size"; "tiny"; "--steps"; "2"; "--batch"; "4"; "--eval-every"; "0" ]
              pafas [ "grpo"; "--init"; Path.Combine(dir, "sft"); "--data"; Path.Combine(splits, "train.jsonl"); "--out"; Path.Combine(dir, "grpo")
                      "--steps"; "1"; "--prompts"; "2"; "--group"; "2"; "--max-new"; "24"; "--eval-every"; "0" ]
              let model = Path.Combine(dir, "grpo", "final")
              pafas [ "eval"; "--model"; model; "--data"; Path.Combine(splits, "test.jsonl"); "--val"; Path.Combine(splits, "val.jsonl")
                      "--out"; Path.Combine(dir, "eval"); "--max-new"; "24" ]
              Expect.isTrue (File.Exists(Path.Combine(dir, "eval", "metrics.json"))) "eval metrics"
              for split in [ "test"; "val" ] do
                  pafas [ "score"; "--model"; model; "--data"; Path.Combine(splits, split + ".jsonl"); "--out"; Path.Combine(dir, split + "_scores.csv"); "--max-new"; "24" ]
              pafas [ "metrics"; "--scores"; Path.Combine(dir, "test_scores.csv"); "--val-scores"; Path.Combine(dir, "val_scores.csv"); "--out"; Path.Combine(dir, "metrics") ]
              Expect.isTrue (File.Exists(Path.Combine(dir, "metrics", "metrics.json"))) "metrics from the scores"
          }

          test "a list without domains: a fifth column, --domain, or a path pattern gives it" {
              let dir = Gen.tempDir "layout" "domain"
              let root = writeDataSet dir 4
              let lines = File.ReadAllLines(Path.Combine(root, "train_list.txt"))
              let withColumn = Path.Combine(root, "col_list.txt")
              File.WriteAllLines(withColumn, lines |> Array.map (fun l -> l + " session" + string (l.Length % 2)))
              let fromColumn = Manifest.Load(withColumn, ManifestOptions(AttackPattern = "^[^/]+/(?<attack>[^/]+)/"))
              Expect.equal (fromColumn |> Seq.map (fun s -> s.Domain) |> Set.ofSeq |> Set.map (fun d -> d.StartsWith "session") ) (set [ true ]) "the fifth column"
              let one = Manifest.Load(Path.Combine(root, "train_list.txt"), ManifestOptions(Domain = "CeFA"))
              Expect.all one (fun s -> s.Domain = "CeFA") "one list per data set: --domain"
              let none = Manifest.Load(Path.Combine(root, "train_list.txt"))
              Expect.all none (fun s -> s.Domain = "") "no domain given: none"
          } ]
