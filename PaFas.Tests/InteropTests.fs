module PaFas.Tests.InteropTests

open System
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open TorchSharp
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Model
open PaFas.Host.Augmentation
open PaFas.Host.Interop

let private tempDir = Gen.tempDir "interop"

let private g = Gen.grammar

/// A small synthetic world (one domain, 32 px) and its PNRPS chains written by Augmenter.Run.
type private World = { Dir: string; Manifest: string; Chains: string; Samples: SampleRecord list }

let private world =
    lazy
        (let dir = tempDir "world"
         let synth = SyntheticWorld.Generate(SynthOptions(Out = Path.Combine(dir, "synth"), PerDomain = 10, Size = 32, Seed = 5, Domains = [| "C" |]))
         let aug = Augmenter.Run(AugmentOptions(Data = synth.ManifestPath, Out = Path.Combine(dir, "chains.jsonl"), Paths = 2, Seed = 1, Threads = 1), g)
         { Dir = dir; Manifest = synth.ManifestPath; Chains = aug.OutFile
           Samples = Manifest.Load(synth.ManifestPath, ManifestOptions()) |> List.ofSeq })

let private lines (file: string) =
    File.ReadAllLines file |> Array.filter (fun l -> l.Trim() <> "") |> Array.map (fun l -> JsonNode.Parse(l).AsObject())

let private str (n: JsonNode) = n.GetValue<string>()
let private strs (n: JsonNode) = n.AsArray() |> Seq.map str |> List.ofSeq
let private count (sub: string) (s: string) = (s.Length - s.Replace(sub, "").Length) / sub.Length

/// The images are existing files in the fixed order RGB, depth, IR, matching the recorded modalities, and the
/// prompt names exactly those modalities.
let private checkImages (o: JsonObject) (images: string list) (prompt: string) =
    let mods = strs (o["pafas"]["modalities"])
    Expect.isNonEmpty images "at least one image"
    Expect.equal images.Length mods.Length "one image per modality"
    Expect.equal mods ([ "rgb"; "depth"; "ir" ] |> List.filter (fun m -> List.contains m mods)) "fixed order RGB, depth, IR"
    for i in images do
        Expect.isTrue (Path.IsPathRooted i && File.Exists i) (sprintf "image %s exists" i)
    for (key, name) in [ "rgb", "RGB"; "depth", "depth"; "ir", "IR" ] do
        Expect.equal (prompt.Contains(" " + name + " ") || prompt.Contains(" " + name + ",") || prompt.Contains(" " + name + ".")) (List.contains key mods)
            (sprintf "the prompt names %s iff present: %s" name prompt)

let private solutionLabel (s: string) =
    match Grammar.parseAnswerList g (s.Replace("<answer>", "").Replace("</answer>", "")) with
    | Ok l -> l
    | Error e -> failtestf "solution %s: %A" s e

let private export format kind =
    let w = world.Value
    let data = if kind = "sft" then w.Chains else w.Manifest
    let r = TrainingDataExport.Write(format, kind, data, "", Path.Combine(w.Dir, "export"), g)
    Expect.equal r.OutFile (Path.Combine(w.Dir, "export", sprintf "%s-%s.jsonl" format kind)) "out file"
    let ls = lines r.OutFile
    Expect.equal ls.Length r.Lines "line count"
    Expect.isGreaterThan ls.Length 0 "lines"
    r, ls

let private exportTests =
    testList
        "export"
        [ test "trl sft: messages with one image part per image, assistant text = the chain" {
              let _, ls = export "trl" "sft"
              let chains = lines world.Value.Chains |> Array.map (fun c -> str (c["id"]), str c["text"]) |> dict
              for o in ls do
                  let images = strs (o["images"])
                  let msgs = o["messages"].AsArray()
                  Expect.equal msgs.Count 2 "user + assistant"
                  Expect.equal (str (msgs[0]["role"])) "user" "user first"
                  Expect.equal (str (msgs[1]["role"])) "assistant" "assistant second"
                  let parts = (msgs[0]["content"]).AsArray() |> List.ofSeq
                  let imageParts = parts |> List.filter (fun p -> str (p["type"]) = "image")
                  Expect.equal imageParts.Length images.Length "one {type: image} per image"
                  let text = parts |> List.filter (fun p -> str (p["type"]) = "text") |> List.exactlyOne
                  checkImages o images (str text["text"])
                  let answer = (msgs[1]["content"]).AsArray()[0]
                  Expect.equal (str answer["type"]) "text" "assistant text part"
                  Expect.equal (str answer["text"]) chains[str (o["id"])] "the chain text"
                  Expect.equal (Rewards.format g (str answer["text"])) 1.0 "the target earns the format reward"
          }
          test "trl grpo: prompt-only conversation + solution with the ground truth" {
              let r, ls = export "trl" "grpo"
              Expect.equal (ls.Length + r.Skipped) world.Value.Samples.Length "every sample exported or counted as skipped"
              for o in ls do
                  let prompt = o["prompt"].AsArray()
                  Expect.equal prompt.Count 1 "one user turn"
                  Expect.equal (str (prompt[0]["role"])) "user" "user"
                  let parts = (prompt[0]["content"]).AsArray() |> List.ofSeq
                  let images = strs (o["images"])
                  Expect.equal (parts |> List.filter (fun p -> str (p["type"]) = "image") |> List.length) images.Length "image parts"
                  checkImages o images (parts |> List.pick (fun p -> if str (p["type"]) = "text" then Some(str p["text"]) else None))
                  Expect.equal (solutionLabel (str o["solution"])) (strs (o["pafas"]["true_label"])) "solution = truth"
                  Expect.isNull (o["messages"]) "no assistant turn"
          }
          test "llava sft: image list, conversations human/gpt, one <image> per image" {
              let _, ls = export "llava" "sft"
              for o in ls do
                  Expect.isNotNull (o["id"]) "id"
                  let images = strs (o["image"])
                  let conv = o["conversations"].AsArray()
                  Expect.equal (str (conv[0]["from"])) "human" "human"
                  Expect.equal (str (conv[1]["from"])) "gpt" "gpt"
                  let human = str (conv[0]["value"])
                  Expect.equal (count "<image>" human) images.Length "<image> placeholders"
                  Expect.isTrue (human.StartsWith "<image>\n") "placeholders first"
                  checkImages o images human
                  Expect.equal (Rewards.format g (str (conv[1]["value"]))) 1.0 "gpt value is a chain"
          }
          test "sharegpt sft: messages user/assistant + images, <image> tokens, dataset_info.json" {
              let r, ls = export "sharegpt" "sft"
              for o in ls do
                  let images = strs (o["images"])
                  let msgs = o["messages"].AsArray()
                  Expect.equal (str (msgs[0]["role"])) "user" "user"
                  Expect.equal (str (msgs[1]["role"])) "assistant" "assistant"
                  Expect.equal (count "<image>" (str (msgs[0]["content"]))) images.Length "<image> tokens = images"
                  checkImages o images (str (msgs[0]["content"]))
              let info = JsonNode.Parse(File.ReadAllText r.DatasetInfo)[TrainingDataExport.LlamaFactoryName]
              Expect.equal (str info["file_name"]) (Path.GetFileName r.OutFile) "file_name"
              Expect.equal (str info["formatting"]) "sharegpt" "formatting"
              Expect.equal (str (info["columns"]["messages"])) "messages" "messages column"
              Expect.equal (str (info["columns"]["images"])) "images" "images column"
              Expect.equal (str (info["tags"]["user_tag"])) "user" "user tag"
          }
          test "vlm-r1 grpo: image list, conversations, problem and solution" {
              let _, ls = export "vlm-r1" "grpo"
              for o in ls do
                  let images = strs (o["image"])
                  let conv = o["conversations"].AsArray()
                  Expect.equal (str (conv[0]["from"])) "human" "human"
                  Expect.equal (str (conv[1]["from"])) "gpt" "gpt"
                  Expect.equal (count "<image>" (str (conv[0]["value"]))) images.Length "<image> tokens"
                  Expect.equal (str (conv[1]["value"])) (str o["solution"]) "gpt value = solution"
                  checkImages o images (str o["problem"])
                  Expect.equal (solutionLabel (str o["solution"])) (strs (o["pafas"]["true_label"])) "solution = truth"
          }
          test "a missing modality is dropped from the images and the prompt" {
              let w = world.Value
              let first = lines w.Manifest |> Array.find (fun o -> o["depth"] <> null)
              first.Remove "depth" |> ignore
              first.Remove "cues" |> ignore
              first["id"] <- JsonValue.Create "nodepth"
              let m = Path.Combine(w.Dir, "nodepth.jsonl")
              File.WriteAllText(m, first.ToJsonString() + "\n")
              let r = TrainingDataExport.Write("vlm-r1", "grpo", m, Path.GetDirectoryName w.Manifest, Path.Combine(w.Dir, "nd.jsonl"), g)
              let o = (lines r.OutFile)[0]
              Expect.equal (strs (o["pafas"]["modalities"])) [ "rgb"; "ir" ] "rgb and ir"
              Expect.equal (strs o["image"]).Length 2 "two images"
              Expect.stringContains (str o["problem"]) "RGB and IR images" "the question names both"
              Expect.stringContains (str o["problem"]) "in this order: RGB and IR" "the order"
              checkImages o (strs o["image"]) (str o["problem"])
          }
          test "format/kind pairs that do not exist are refused with a reason" {
              for (f, k) in [ "llava", "grpo"; "sharegpt", "grpo"; "vlm-r1", "sft" ] do
                  Expect.isNotNull (TrainingDataExport.Unsupported(f, k)) (sprintf "%s %s" f k)
                  Expect.throwsT<ArgumentException> (fun () -> TrainingDataExport.Write(f, k, world.Value.Chains, "", world.Value.Dir, g) |> ignore) (sprintf "%s %s" f k)
          } ]

/// Completions in the styles real models write, for a live and a spoof sample of the world.
let private scoreTests =
    testList
        "score"
        [ test "hand-written completions: rewards, failure kinds, answer-derived live scores, FAS metrics" {
              let w = world.Value
              let live = w.Samples |> List.find (fun s -> s.IsLive)
              let spoof = w.Samples |> List.find (fun s -> not s.IsLive && Taxonomy.isValidLabel g.Taxonomy (List.ofSeq s.Label))
              let sl = List.ofSeq spoof.Label
              let q (c: string) (l: string list) = "[" + String.Join(", ", l |> List.map (fun x -> c + x + c)) + "]"
              let think = "The face looks odd."
              let cases =
                  // id, key of the id, key of the text, text, expected format, expected classification, failure kind, live score
                  [ "canonical", live.Id, Grammar.renderText think [ "Real Face" ], 1.0, 1.0, "", 1.0
                    "whitespace", spoof.Id, sprintf "  \n<think>  %s  </think>\n\n  <answer>  %s  </answer>\n  " think (q "'" sl), 1.0, 1.0, "", 0.0
                    "double quotes", spoof.Id, sprintf "<think>%s</think><answer>%s</answer>" think (q "\"" sl), 1.0, 1.0, "", 0.0
                    "label case", spoof.Id, sprintf "<think>%s</think><answer>%s</answer>" think (q "'" (sl |> List.map (fun x -> x.ToUpperInvariant()))), 1.0, 1.0, "", 0.0
                    "preamble", live.Id, "Sure, let me look. " + Grammar.renderText think [ "Real Face" ], 0.0, 1.0, "text before <think>", 1.0
                    "no close", spoof.Id, sprintf "<think>%s</think><answer>%s" think (q "'" sl), 0.0, 1.0, "missing </answer>", 0.0
                    "wrong", live.Id, Grammar.renderText think sl, 1.0, 0.0, "", 0.0
                    "prose", spoof.Id, "It is clearly a real face.", 0.0, 0.0, "no <think> tag", 0.5 ]
              let dir = tempDir "score"
              let file = Path.Combine(dir, "completions.jsonl")
              let keys = [| "id", "text"; "sample_id", "completion"; "id", "response" |]
              let jsonLines =
                  cases
                  |> List.mapi (fun i (_, id, text, _, _, _, _) ->
                      let idKey, textKey = keys[i % keys.Length]
                      let o = JsonObject()
                      o[idKey] <- JsonValue.Create id
                      // one line gives the text as a chat message list (TRL-style completions)
                      if i = 2 then o[textKey] <- JsonArray(JsonObject(dict [ "role", JsonValue.Create "assistant" :> JsonNode; "content", JsonValue.Create text ]))
                      else o[textKey] <- JsonValue.Create text
                      o.ToJsonString())
              File.WriteAllLines(file, "" :: jsonLines)
              let loaded = CompletionScorer.Load(file, g)
              Expect.equal loaded.Count cases.Length "every line read (blank lines skipped)"
              let report = CompletionScorer.Score(loaded, w.Samples |> Array.ofList, g, { Rewards.defaultConfig with Mode = ExactLeaf })
              for ((name, _, _, f, c, kind, ls), row) in List.zip cases (List.ofSeq report.Rows) do
                  Expect.equal row.Reward.Format f (sprintf "%s: format" name)
                  Expect.equal row.Reward.Classification c (sprintf "%s: classification" name)
                  Expect.equal row.Failure kind (sprintf "%s: failure kind" name)
                  Expect.equal row.LiveScore ls (sprintf "%s: live score" name)
              Expect.equal report.WithTruth cases.Length "truth from the manifest"
              Expect.equal report.Unparsable 1 "one unparsable"
              Expect.floatClose Accuracy.high report.FormatFailureRate (3.0 / 8.0) "format failure rate"
              Expect.equal (report.Failures["missing </answer>"]) 1 "counted by kind"
              Expect.isFalse (isNull (box report.Fas)) "FAS metrics"
              let fas = report.Fas
              Expect.equal (fas.Lives, fas.Spoofs) (3, 5) "lives and spoofs"
              // live iff the answer says Real Face: the "wrong" live (spoof answer) is rejected, the unparsable spoof is rejected.
              Expect.floatClose Accuracy.high fas.Bpcer (1.0 / 3.0) "BPCER"
              Expect.floatClose Accuracy.high fas.Apcer 0.0 "APCER"
              let out = Path.Combine(dir, "out")
              CompletionScorer.Write(out, report, file)
              let md = File.ReadAllText(Path.Combine(out, "report.md"))
              Expect.stringContains md "0.5 when no answer can be parsed" "the report says how unparsable answers score"
              Expect.stringContains md "Sure, let me look." "an example of a failure"
              let m = JsonNode.Parse(File.ReadAllText(Path.Combine(out, "metrics.json")))
              Expect.equal (m["count"].GetValue<int>()) 8 "count"
              Expect.isNotNull (m["fas"]["auc"]) "AUC"
              Expect.equal ((m["format_failures"]["no <think> tag"]).GetValue<int>()) 1 "failures in metrics.json"
              Expect.stringContains (CompletionScorer.Summary report) "format failures: 37.5%" "summary"
          }
          test "without a manifest: truth from the line, or none (format only, no FAS metrics)" {
              let dir = tempDir "score2"
              let file = Path.Combine(dir, "c.jsonl")
              File.WriteAllLines(file, [| """{"id": 7, "response": "<think>x</think><answer>['real face']</answer>", "label": ["Real Face"]}"""
                                          """{"id": "b", "text": "<think>x</think><answer>['Real Face']</answer>"}""" |])
              let r = CompletionScorer.Score(CompletionScorer.Load(file, g), null, g, Rewards.defaultConfig)
              Expect.equal (r.Rows[0].Line.Id) "7" "numeric id"
              Expect.equal (r.Rows[0].Reward.Total) 2.0 "format + class with the line's label"
              Expect.equal (r.Rows[1].Reward.Classification) 0.0 "no truth, no class reward"
              Expect.equal r.WithTruth 1 "one with truth"
              Expect.isTrue (isNull (box r.Fas)) "one class only: no FAS metrics"
              Expect.isNotEmpty r.FasNote "says why"
          }
          test "bad lines name the file and line" {
              let dir = tempDir "score3"
              let file = Path.Combine(dir, "c.jsonl")
              File.WriteAllLines(file, [| """{"id": "a", "text": "x"}"""; """{"id": "b"}""" |])
              Expect.throwsT<InvalidDataException> (fun () -> CompletionScorer.Load(file, g) |> ignore) "no text"
              File.WriteAllLines(file, [| "{not json" |])
              let ex = try CompletionScorer.Load(file, g) |> ignore; "" with :? InvalidDataException as x -> x.Message
              Expect.stringContains ex (file + ":1") "file:line"
          } ]

let private safetensorsTests =
    testList
        "safetensors"
        [ test "export of a checkpoint reads back (header by hand and by the reader) with identical logits" {
              let tok = Tokenizer.Build g
              let cfg = ModelConfig.Preset("tiny", Gen.dataDir)
              use m = new PaFasModel(cfg, tok.VocabSize, 11L)
              let root = tempDir "st"
              let ckpt = Path.Combine(root, "run", "final")
              Checkpoint.Save(ckpt, m, tok, CheckpointMeta.Now("sft", 3))
              let out = Path.Combine(root, "export")
              let file = SafetensorsExport.Export(Path.Combine(root, "run"), out)
              for f in [ "model.safetensors"; "config.json"; "tokenizer.json" ] do
                  Expect.isTrue (File.Exists(Path.Combine(out, f))) f
              // The format by hand: u64 LE header length, JSON header, data.
              let bytes = File.ReadAllBytes file
              let n = BitConverter.ToUInt64(bytes, 0) |> int
              Expect.equal (n % 8) 0 "header padded to 8 bytes"
              let header = JsonNode.Parse(Text.Encoding.UTF8.GetString(bytes, 8, n)).AsObject()
              Expect.equal (str (header["__metadata__"]["format"])) "pt" "metadata format pt"
              let sd = m.state_dict()
              let mutable total = 0L
              for kv in sd do
                  let h = header[kv.Key]
                  Expect.isNotNull h (sprintf "tensor %s in the header" kv.Key)
                  Expect.equal (str h["dtype"]) "F32" "dtype"
                  Expect.equal (h["shape"].AsArray() |> Seq.map (fun x -> x.GetValue<int64>()) |> Array.ofSeq) kv.Value.shape "shape"
                  let offs = h["data_offsets"].AsArray() |> Seq.map (fun x -> x.GetValue<int64>()) |> Array.ofSeq
                  Expect.equal (offs[1] - offs[0]) (kv.Value.numel() * 4L) "byte size"
                  use c = kv.Value.detach().contiguous()
                  let expected = c.bytes.ToArray()
                  Expect.sequenceEqual (bytes[8 + n + int offs[0] .. 8 + n + int offs[1] - 1]) expected (sprintf "%s raw little-endian data" kv.Key)
                  total <- total + offs[1] - offs[0]
              Expect.equal (int64 bytes.Length) (8L + int64 n + total) "nothing after the data"
              let struct (m2, t2) = SafetensorsExport.Load(out, torch.CPU)
              use m2 = m2
              Expect.equal t2.VocabSize tok.VocabSize "tokenizer"
              Expect.equal m2.Config m.Config "config"
              let rng = Random 3
              let s = cfg.ImageSize
              let faces = [| FaceTensors(s, Array.init (3 * s * s) (fun _ -> float32 (rng.NextDouble())), null, Array.init (s * s) (fun _ -> float32 (rng.NextDouble()))) |]
              use images = VisionBatch.From(faces, torch.CPU)
              let struct (ids, att) = Sequences.PadRight([| Prompt.Encode(tok, faces[0]) |], tok.Pad, torch.CPU)
              m.eval()
              use a = m.Logits(images, ids, att)
              use b = m2.Logits(images, ids, att)
              use d = (a - b).abs().max()
              Expect.equal (d.item<float32> ()) 0.0f "identical logits"
              // A truncated file is refused, naming it.
              File.WriteAllBytes(file, bytes[.. bytes.Length - 5])
              let msg = try SafetensorsExport.Load(out, torch.CPU) |> ignore; "" with :? InvalidDataException as e -> e.Message
              Expect.stringContains msg file "the error names the file"
          } ]

/// The raw-label baseline keeps every image's own label, whatever --shuffle says; PNRPS chains with the default
/// answer shuffle do get other samples' answers (so the first check can fail).
let private rawLabelTests =
    testList
        "raw labels"
        [ test "augment --mode raw: every answer is the sample's true label, even with the default answer shuffle" {
              let w = world.Value
              let out = Path.Combine(w.Dir, "raw.jsonl")
              let r = Augmenter.Run(AugmentOptions(Data = w.Manifest, Out = out, Mode = PaFas.Host.Augmentation.AugmentMode.Raw, Shuffle = ShuffleMode.AnswerShuffle, Seed = 3, Threads = 1), g)
              let rows = lines r.OutFile
              Expect.equal rows.Length w.Samples.Length "one answer per sample"
              for o in rows do
                  Expect.equal (strs o["answer"]) (strs o["true_label"]) (sprintf "%s: raw answer = true label" (str o["id"]))
                  Expect.equal (str o["think"]) "" "no reasoning"
              let shuffled = lines w.Chains |> Array.filter (fun o -> strs o["answer"] <> strs o["true_label"])
              Expect.isNonEmpty shuffled "PNRPS chains with answer shuffle carry other samples' answers"
          } ]

let tests = testList "Interop" [ exportTests; scoreTests; safetensorsTests; rawLabelTests ]
