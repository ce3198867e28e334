module PaFas.Tests.PretrainTests

open System
open System.IO
open Expecto
open Microsoft.Extensions.Logging.Abstractions
open TorchSharp
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Model
open PaFas.Host.Training

let private log = NullLogger.Instance
let private tempDir = Gen.tempDir "pretrain"

/// The pack shipped for the default preset: its weights' SHA-256 (all parts together), as documented in
/// data/pretrained/small/README.md. A changed or re-trained pack must update both.
[<Literal>]
let ShippedSmallSha256 = "fe0239e151c12389283c2e8ef6da115c6a7254e2a3c5e0506d69f50e817ba1e0"

/// A tiny pretraining run (4 steps) and its pack, shared by the tests below.
let private tiny =
    lazy
        (let dir = tempDir "tiny"
         let o = PretrainOptions(Out = Path.Combine(dir, "run"), ModelSize = "tiny", Steps = 4, Batch = 4, ProbePerDomain = 2, EvalEvery = 0,
                                 SaveEvery = 0, LogEvery = 1, Seed = 3, Threads = 1)
         let r = PretrainTrainer.Run(o, log)
         let pack = Path.Combine(dir, "pack")
         let sha = PretrainedPack.Write(r.Checkpoint, pack, readOnlyDict [ "command", "test" ], partBytes = 100_000)
         r, pack, sha)

let private words (text: string) = Tokenizer.Split text |> Set.ofSeq

/// A copy of a domain with other blur, IR gain, roll and light (C# records have no F# copy-and-update).
let private variant (d: DomainSpec) blur irGain roll light =
    DomainSpec(d.Name, d.Description, blur, d.Noise, d.Cast, d.BrightLo, d.BrightHi, d.Background, d.DepthLevels, d.DepthScale,
               d.DepthNoise, d.DepthHoleBlobs, irGain, d.IrNoise, d.PupilStrength, d.MissingDepth, d.MissingIr, d.Jitter,
               d.FaceScaleSpread, d.Attacks, d.NaturalProb, d.HalftoneProb, d.MoireProb, d.GlareProb, d.EdgesProb,
               d.InvalidDepthProb, d.BorderIfSpoof, d.BorderIfLive, roll, light)

let tests =
    testList
        "Pretrain"
        [ test "the four protocol domains' sensor settings lie inside the stream's ranges; only the border's correlation does not" {
              let r = SensorRanges.Default
              for d in SyntheticWorld.DefaultDomains do
                  let outside = r.Outside(d, 64) |> List.ofSeq
                  let notBorder = outside |> List.filter (fun s -> not (s.StartsWith "border correlated"))
                  Expect.isEmpty notBorder (sprintf "domain %s: settings outside the ranges" d.Name)
                  Expect.equal (outside.Length = 1) (d.BorderIfLive <> d.BorderIfSpoof) (sprintf "domain %s: border correlation reported iff present" d.Name)
              let odd = variant SyntheticWorld.DefaultDomains[0] 3.0 0.2 0.0 0.0
              Expect.equal (r.Outside(odd, 128) |> Seq.length) 4 "blur, IR gain, resolution and the border correlation are reported"
          }

          test "the stream is deterministic per (seed, index) and varies the sensor" {
              let s = PerceptionStream(SensorRanges.Default, 5, 32)
              let a, b = s.At 17L, s.At 17L
              Expect.equal a.Face.Rgb b.Face.Rgb "same face twice"
              Expect.equal (List.ofSeq a.Cues) (List.ofSeq b.Cues) "same cues"
              let many = s.Range(0L, 40, 1)
              Expect.isGreaterThan (many |> Array.map (fun f -> f.Sensor.Blur) |> Array.distinct |> Array.length) 30 "blur drawn per face"
              Expect.isGreaterThan (many |> Array.map (fun f -> f.RenderSize) |> Array.distinct |> Array.length) 5 "resolutions vary"
              Expect.isGreaterThan (many |> Array.map (fun f -> f.Leaf) |> Array.distinct |> Array.length) 5 "presentations vary"
              Expect.isTrue (many |> Array.forall (fun f -> f.Face.Size = 32)) "every face at the model's size"
          }

          test "a stream face is what the written world gives after loading (quantisation and resizing)" {
              let dir = tempDir "roundtrip"
              for sub in [ "rgb"; "depth"; "ir" ] do Directory.CreateDirectory(Path.Combine(dir, sub)) |> ignore
              let d = SyntheticWorld.DefaultDomains[3]
              let r = SyntheticWorld.Render(d, SyntheticWorld.Replay, 48, 11, "X")
              let record = SyntheticWorld.Write(r, dir, "test")
              let loaded = ImageLoader.Load(record, 32)
              let direct = SyntheticWorld.ToFace(r, 32)
              let close (a: float32[]) (b: float32[]) = Array.forall2 (fun (x: float32) y -> abs (x - y) < 1e-6f) a b
              Expect.isTrue (close loaded.Rgb direct.Rgb) "RGB"
              if not (isNull r.Depth) then Expect.isTrue (close loaded.Depth direct.Depth) "depth"
              if not (isNull r.Ir) then Expect.isTrue (close loaded.Ir direct.Ir) "IR"
          }

          test "roll and light change the pixels, not the cues" {
              let d = SyntheticWorld.DefaultDomains[3]
              let a = SyntheticWorld.Render(d, SyntheticWorld.Live, 32, 9, "A")
              let b = SyntheticWorld.Render(variant d d.Blur d.IrGain 0.3 0.3, SyntheticWorld.Live, 32, 9, "A")
              Expect.notEqual a.Rgb b.Rgb "a rolled, unevenly lit face differs"
              // roll and light draw random numbers, so the random visibility of RGB cues may differ; depth and IR may not
              let physical (cues: Collections.Generic.IReadOnlyList<string>) = cues |> Seq.filter (fun c -> not (c.StartsWith "rgb:")) |> List.ofSeq
              Expect.equal (physical b.Cues) (physical a.Cues) "the same presentation shows the same depth and IR cues"
              Expect.equal (isNull b.Depth, isNull b.Ir) (isNull a.Depth, isNull a.Ir) "the same modalities"
          }

          test "pretraining targets use only start and observation sentences: no live/spoof word, no taxonomy node, no answer" {
              let g = Gen.grammar
              let tok = Tokenizer.Build g
              let forbidden =
                  Set.ofList [ "real"; "Real"; "spoof"; "Spoof"; "live"; "Live"; "<answer>"; "</answer>"; "<think>"; "points"; "rule" ]
              let nodes = Taxonomy.nodes g.Taxonomy
              let s = PerceptionStream(SensorRanges.Default, 1, 32)
              let tasks = Collections.Generic.HashSet<string>()
              for f in s.Range(0L, 120, 1) do
                  let struct (task, chain) = PerceptionTasks.ForStream(g, tok, f, 1, 0.5, 0)
                  tasks.Add task |> ignore
                  let text = tok.Decode chain.Tokens
                  Expect.isEmpty (Set.intersect (words text) forbidden) (sprintf "no forbidden word in '%s'" text)
                  for n in nodes do
                      Expect.isFalse (text.Contains n) (sprintf "no taxonomy node '%s' in '%s'" n text)
                  Expect.isFalse (Array.contains tok.Unk chain.Tokens) "every word is in the vocabulary"
                  let steps = Grammar.clauses g (tok.Decode chain.Tokens.[1..])
                  Expect.isTrue (steps |> List.forall (function Known(Start _) | Known(Observe _) -> true | _ -> false)) (sprintf "only start/observe sentences: '%s'" text)
              Expect.equal (Set.ofSeq tasks) (Set.ofList [ PerceptionTasks.Describe; PerceptionTasks.Modality ]) "both tasks drawn"
          }

          test "the modality task describes only the named modality" {
              let g = Gen.grammar
              let f = PerceptionStream(SensorRanges.Default, 2, 32).At 3L
              let cues = PerceptionTasks.CuesOf f.Cues
              for m in PerceptionTasks.Present f.Face do
                  let struct (prompt, target) = PerceptionTasks.Texts(g, PerceptionTasks.Modality, f.Face, cues, m)
                  Expect.stringContains prompt (g.Templates.ModalityNames[m]) "the prompt names the modality"
                  for c in Grammar.clauses g target do
                      match c with
                      | Known(Observe cue) -> Expect.equal cue.Modality m "an observation of the named modality"
                      | other -> failtestf "unexpected clause %A" other
          }

          test "the perception score: a true description scores 1, a missed cue and a wrong presence are counted" {
              let g = Gen.grammar
              let cues = [ "depth:flat"; "ir:paper"; "ir:nopupil" ] |> PerceptionTasks.CuesOf
              let present = [ Modality.Rgb; Modality.Depth; Modality.Ir ] |> Collections.Generic.List
              let truth = [ struct ("W", present, cues :> Collections.Generic.IReadOnlyList<Cue>) ] |> Collections.Generic.List
              let perfect = PerceptionTasks.DescribeText(g, present, cues)
              let s = PerceptionProbe.Score(g, truth, [| perfect |])
              Expect.equal (s.Presence, s.ExactSet, s.F1, s.WellFormed) (1.0, 1.0, 1.0, 1.0) "perfect"
              let missing = PerceptionTasks.DescribeText(g, [ Modality.Rgb; Modality.Depth ] |> Collections.Generic.List, cues)
              let m = PerceptionProbe.Score(g, truth, [| missing |])
              Expect.equal (m.Presence, m.ExactSet, m.Precision) (0.0, 0.0, 1.0) "wrong presence, IR cues missed, nothing false"
              Expect.floatClose Accuracy.high m.Recall (1.0 / 3.0) "one of three cues"
          }

          test "pretrain runs, writes final/, and its pack loads with the same outputs up to float16 rounding" {
              let r, pack, sha = tiny.Force()
              Expect.isTrue r.Completed "completed"
              Expect.isTrue (Directory.Exists r.Checkpoint) "final/ written"
              Expect.isTrue (Directory.GetFiles(pack, "weights.f16.part*").Length > 1) "weights split into parts"
              let struct (m1, tok, _) = Checkpoint.Load(r.Checkpoint, torch.CPU)
              let struct (m2, _, info) = PretrainedPack.Load(pack, torch.CPU)
              Expect.stringContains info sha.[..11] "the info names the hash"
              let f = PerceptionStream(SensorRanges.Default, 9, m1.Config.ImageSize).At 0L
              use vb = VisionBatch.From([| f.Face |], torch.CPU)
              use ids = torch.tensor([| int64 tok.Bos |]).unsqueeze 0
              use a = m1.Logits(vb, ids)
              use b = m2.Logits(vb, ids)
              Expect.isLessThan ((a - b).abs().max().item<float32>()) 0.05f "logits agree up to float16 rounding"
              m1.Dispose(); m2.Dispose()
          }

          test "a corrupt or truncated pack part is an error naming the file" {
              let _, pack, _ = tiny.Force()
              let copy = tempDir "corrupt"
              Directory.Delete copy
              Directory.CreateDirectory copy |> ignore
              for f in Directory.GetFiles pack do File.Copy(f, Path.Combine(copy, Path.GetFileName f))
              let part = Path.Combine(copy, "weights.f16.part01")
              let bytes = File.ReadAllBytes part
              File.WriteAllBytes(part, bytes.[.. bytes.Length - 2])
              let message =
                  try
                      PretrainedPack.Load(copy, torch.CPU) |> ignore
                      failtest "a truncated part must not load"
                  with :? InvalidDataException as x -> x.Message
              Expect.stringContains message "weights.f16.part01" "names the part"
          }

          test "sft --init takes a pack: SFT starts from its weights" {
              let r, pack, _ = tiny.Force()
              let dir = tempDir "sft-init"
              let synth = SyntheticWorld.Generate(SynthOptions(Out = Path.Combine(dir, "w"), PerDomain = 6, Size = 32, Seed = 2, Domains = [| "C" |]))
              let chains =
                  PaFas.Host.Augmentation.Augmenter.Run(
                      PaFas.Host.Augmentation.AugmentOptions(Data = synth.ManifestPath, Out = Path.Combine(dir, "chains.jsonl"), Paths = 2, Labelled = 0, Seed = 1),
                      GrammarStore.Default)
              let o = SftOptions(Chains = chains.OutFile, Out = Path.Combine(dir, "sft"), Init = pack, Steps = 1, Lr = 1e-9, Warmup = 0, Batch = 2,
                                 EvalEvery = 0, SaveEvery = 0, Seed = 1, Threads = 1, WeightDecay = 0.0)
              let s = SftTrainer.Run(o, log)
              let struct (m0, _, _) = PretrainedPack.Load(pack, torch.CPU)
              let struct (m1, _, _) = Checkpoint.Load(s.Checkpoint, torch.CPU)
              let p0 = m0.state_dict()
              let p1 = m1.state_dict()
              for k in p0.Keys do
                  Expect.isLessThan ((p0[k] - p1[k]).abs().max().item<float32>()) 1e-5f (sprintf "%s comes from the pack" k)
              m0.Dispose(); m1.Dispose()
          }

          test "the shipped pack of the default preset loads, has the documented hash and describes protocol-domain faces" {
              let dir = PretrainedPack.Shipped "small"
              Expect.isNotNull dir "data/pretrained/small is shipped with the program"
              let json = Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, PretrainedPack.PackFile)))
              Expect.equal (json.RootElement.GetProperty("sha256").GetString()) ShippedSmallSha256 "the documented SHA-256"
              for f in Directory.GetFiles dir do
                  Expect.isLessThan (FileInfo(f).Length) (1536L * 1024L) (sprintf "%s stays well under 2 MiB" f)
              let struct (m, tok, _) = PretrainedPack.Load(dir, torch.CPU)
              let probe = PerceptionProbe.FromWorld(11, 6, m.Config.ImageSize, 1)
              let s = probe.Run(m, tok, Gen.grammar, torch.CPU, 24)
              Expect.isGreaterThan s.Presence 0.9 (sprintf "names the present modalities: %s" (s.Summary()))
              Expect.isGreaterThan s.F1 0.5 (sprintf "describes the cues: %s" (s.Summary()))
              m.Dispose()
          } ]
