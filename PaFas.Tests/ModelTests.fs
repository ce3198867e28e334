module PaFas.Tests.ModelTests

open System
open System.IO
open Expecto
open TorchSharp
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Model

let private tok = lazy (Tokenizer.Build Gen.grammar)
let private tiny = lazy (ModelConfig.Preset("tiny", Gen.dataDir))
let private cpu = torch.CPU

/// A random (not necessarily PNRPS-valid) reasoning path built from the grammar's steps by hand: Start, some
/// observations, forward steps from the root to a leaf with occasional reflections, and a random answer.
let private randomPath (rng: Random) : ReasoningPath =
    let g = Gen.grammar
    let leaves = Taxonomy.leaves g.Taxonomy |> Array.ofList
    let nodes = Taxonomy.nodes g.Taxonomy |> Array.ofList
    let cues = g.Templates.Cues |> Map.toArray |> Array.map fst
    let leaf = leaves[rng.Next leaves.Length]
    let mods =
        match Modality.all |> List.filter (fun _ -> rng.Next 2 = 0) with
        | [] -> [ Modality.all[rng.Next 3] ]
        | ms -> ms
    let compat = Taxonomy.compatible g.Taxonomy leaf |> Set.toList |> List.filter (fun c -> List.contains c.Modality mods)
    let steps =
        [ yield Start mods
          for c in compat do
              if rng.Next 2 = 0 then yield Observe c
          for n in Taxonomy.labelOf g.Taxonomy leaf do
              if rng.Next 4 = 0 then yield Reflect(nodes[rng.Next nodes.Length], cues[rng.Next cues.Length])
              yield Forward n ]
    { Steps = steps; Answer = Taxonomy.labelOf g.Taxonomy leaves[rng.Next leaves.Length] }

let private face (rng: Random) size rgb depth ir =
    let arr n = Array.init n (fun _ -> float32 (rng.NextDouble()))
    FaceTensors(size, (if rgb then arr (3 * size * size) else null), (if depth then arr (size * size) else null),
                (if ir then arr (size * size) else null))

let private model seed = new PaFasModel(tiny.Value, tok.Value.VocabSize, seed)

let private maxDiff (a: torch.Tensor) (b: torch.Tensor) =
    use d = (a - b).abs().max()
    float (d.item<float32> ())

let private randomTokens (rng: Random) n =
    Array.init n (fun _ -> Tokenizer.Specials.Length + rng.Next(tok.Value.VocabSize - Tokenizer.Specials.Length))

let private tempDir () =
    let d = Path.Combine(Path.GetTempPath(), "pafas-model-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory d |> ignore
    d

let tests =
    testSequenced
    <| testList
        "Model"
        [ test "tokenizer: decode(encode(render p)) is render p and parses back to p's steps and answer" {
              let t = tok.Value
              let rng = Random 11
              for _ in 1..300 do
                  let p = randomPath rng
                  let text = Grammar.render Gen.grammar p
                  let ids = t.Encode text
                  Expect.isFalse (Array.contains t.Unk ids) $"no unknown words in {text}"
                  let back = t.Decode ids
                  Expect.equal back text "exact round trip"
                  match Grammar.parse Gen.grammar back with
                  | Ok c ->
                      Expect.equal (Grammar.steps c) (Some p.Steps) "steps"
                      Expect.equal c.Answer p.Answer "answer"
                  | Error e -> failtestf "parse failed: %O on %s" e back
          }
          test "tokenizer: ids are deterministic, special ids fixed, answer words single tokens, JSON round trip" {
              let t = tok.Value
              let t2 = Tokenizer.Build Gen.grammar
              Expect.sequenceEqual t2.Tokens t.Tokens "same vocabulary twice"
              Expect.equal [ t.Pad; t.Bos; t.Eos; t.Unk; t.ThinkOpen; t.ThinkClose; t.AnswerOpen; t.AnswerClose ] [ 0..7 ] "special ids"
              for w in [ "Real"; "Spoof"; "["; "]"; "'"; ","; "." ] do
                  Expect.equal (t.Encode w).Length 1 $"'{w}' is one token"
              Expect.equal (t.Encode "Real Face") [| t.Id "Real"; t.Id "Face" |] "Real Face"
              let t3 = Tokenizer.FromJson(t.ToJson())
              Expect.sequenceEqual t3.Tokens t.Tokens "json"
              Expect.throwsT<InvalidDataException> (fun () -> Tokenizer.FromJson "{\"Version\":1}" |> ignore) "malformed"
          }
          test "tokenizer: unknown words become <unk>, which the parser does not accept as a known step" {
              let t = tok.Value
              let text = "<think>I examine the RGB images of the zebra.</think><answer>['Real Face']</answer>"
              let ids = t.Encode text
              Expect.contains ids t.Unk "zebra is unknown"
              let back = t.Decode ids
              Expect.stringContains back Tokenizer.UnknownMarker "marker"
              match Grammar.parse Gen.grammar back with
              | Ok c -> Expect.isNone (Grammar.steps c) "unknown clause"
              | Error _ -> ()
              Expect.equal (t.Decode(t.Encode "<think>I examine the RGB images of the face.</think>")) "<think>I examine the RGB images of the face.</think>" "known"
          }
          test "prompt: bos + a question naming the available modalities" {
              let t = tok.Value
              let f = face (Random 1) 8 true false true
              let p = Prompt.Encode(t, f)
              Expect.equal p[0] t.Bos "bos"
              Expect.isFalse (Array.contains t.Unk p) "all words known"
              Expect.equal (t.Decode p) "Is the face in the RGB and IR images real or a spoof?" "text"
              Expect.equal (t.Decode(Prompt.Encode(t, face (Random 1) 8 false true false))) "Is the face in the depth image real or a spoof?" "one modality"
          }
          test "presets: tiny has under 1M parameters, all presets validate, bad configs are named" {
              use m = model 0L
              Expect.isLessThan m.ParameterCount 1_000_000L "tiny < 1M"
              for n in [ "tiny"; "small"; "base" ] do
                  let c = ModelConfig.Preset(n, Gen.dataDir)
                  Expect.equal c.Name n "name"
              Expect.equal (ModelConfig.DefaultPresetName Gen.dataDir) "small" "default"
              use small = new PaFasModel(ModelConfig.Preset("small", Gen.dataDir), tok.Value.VocabSize)
              use bigger = new PaFasModel(ModelConfig.Preset("base", Gen.dataDir), tok.Value.VocabSize)
              Expect.isTrue (small.ParameterCount > 1_000_000L && small.ParameterCount < 10_000_000L) $"small has {small.ParameterCount} parameters"
              Expect.isGreaterThan bigger.ParameterCount small.ParameterCount "base > small"
              Expect.throwsT<ArgumentException> (fun () -> ModelConfig(Dim = 190).Validate() |> ignore) "dim % heads"
              let e = Expect.throwsC (fun () -> ModelConfig(ImageSize = 60).Validate() |> ignore) (fun e -> e.Message)
              Expect.stringContains e "PatchSize" "names the field"
              Expect.throwsT<ArgumentException> (fun () -> ModelConfig(KvHeads = 4).Validate() |> ignore) "heads % kv"
              ModelConfig().Validate() |> ignore
              Expect.throwsT<ArgumentException> (fun () -> ModelConfig.Preset("huge", Gen.dataDir) |> ignore) "unknown preset"
              let c2 = ModelConfig.FromJson(tiny.Value.ToJson())
              Expect.equal c2 tiny.Value "config json round trip"
          }
          test "forward: logits are [B,T,V] over text positions" {
              use m = model 0L
              let rng = Random 2
              let s = tiny.Value.ImageSize
              use images = VisionBatch.From([| face rng s true true true; face rng s true false false; face rng s false true true |], cpu)
              let seqs = [| randomTokens rng 7; randomTokens rng 3; randomTokens rng 5 |]
              let struct (ids, att) = Sequences.PadRight(seqs, tok.Value.Pad, cpu)
              use logits = m.Logits(images, ids, att)
              Expect.sequenceEqual logits.shape [| 3L; 7L; int64 tok.Value.VocabSize |] "shape"
              Expect.isFalse (logits.isnan().any().item<bool> ()) "no NaN"
          }
          test "missing modality: the absent embedding changes the output, is not a black image, and is per sample" {
              use m = model 0L
              let s = tiny.Value.ImageSize
              let full = face (Random 3) s true true true
              let noDepth = FaceTensors(s, full.Rgb, null, full.Ir)
              let black = FaceTensors(s, full.Rgb, Array.zeroCreate (s * s), full.Ir)
              let toks = [| Prompt.Encode(tok.Value, full) |]
              let run (f: FaceTensors list) =
                  use images = VisionBatch.From(Array.ofList f, cpu)
                  let struct (ids, att) = Sequences.PadRight(Array.replicate f.Length toks[0], tok.Value.Pad, cpu)
                  m.Logits(images, ids, att)
              use a = run [ full ]
              use b = run [ noDepth ]
              use c = run [ black ]
              Expect.isGreaterThan (maxDiff a b) 1e-4 "absent differs from present"
              Expect.isGreaterThan (maxDiff b c) 1e-4 "absent differs from a black image"
              use both = run [ full; noDepth ]
              Expect.isLessThan (maxDiff (both.narrow(0, 0, 1)) a) 1e-5 "row 0 unaffected by row 1's missing depth"
              Expect.isLessThan (maxDiff (both.narrow(0, 1, 1)) b) 1e-5 "row 1 uses its own mask"
          }
          test "causal: changing a later token does not change earlier logits; padding side does not matter" {
              use m = model 0L
              let rng = Random 4
              let s = tiny.Value.ImageSize
              use images = VisionBatch.From([| face rng s true true true |], cpu)
              let x = randomTokens rng 10
              let y = Array.copy x
              y[6] <- (if x[6] = 10 then 11 else 10)
              let logitsOf (seq: int[]) =
                  let struct (ids, att) = Sequences.PadRight([| seq |], tok.Value.Pad, cpu)
                  m.Logits(images, ids, att)
              use lx = logitsOf x
              use ly = logitsOf y
              Expect.isLessThan (maxDiff (lx.narrow(1, 0, 6)) (ly.narrow(1, 0, 6))) 1e-6 "positions before the change"
              Expect.isGreaterThan (maxDiff (lx.narrow(1, 6, 4)) (ly.narrow(1, 6, 4))) 1e-4 "positions from the change on"
              use images2 = VisionBatch.From([| face (Random 4) s true true true; face (Random 5) s true false true |], cpu)
              let seqs = [| x; Array.sub x 0 6 |]
              let struct (ri, ra) = Sequences.PadRight(seqs, tok.Value.Pad, cpu)
              let struct (li, la) = Sequences.PadLeft(seqs, tok.Value.Pad, cpu)
              use r = m.Logits(images2, ri, ra)
              use l = m.Logits(images2, li, la)
              Expect.isLessThan (maxDiff (r.narrow(0, 1, 1).narrow(1, 0, 6)) (l.narrow(0, 1, 1).narrow(1, 4, 6))) 1e-5 "left == right padding"
          }
          test "KV cache: cached and uncached decoding give the same logits (1e-4), with per-sample prompt lengths" {
              use m = model 0L
              use _ng = torch.no_grad()
              let rng = Random 6
              let s = tiny.Value.ImageSize
              let faces = [| face rng s true true true; face rng s false true false; face rng s true false true |]
              use images = VisionBatch.From(faces, cpu)
              let prompts = faces |> Array.map (fun f -> Prompt.Encode(tok.Value, f))
              Expect.notEqual prompts[0].Length prompts[1].Length "different prompt lengths"
              let n = 7
              let cont = Array.init faces.Length (fun _ -> randomTokens rng n)
              let full = Array.map2 Array.append prompts cont
              let struct (fi, fa) = Sequences.PadRight(full, tok.Value.Pad, cpu)
              use reference = m.Logits(images, fi, fa)
              let pmax = prompts |> Array.map Array.length |> Array.max
              use cache = m.NewCache(faces.Length, tiny.Value.VisualTokens + pmax + n)
              let struct (pi, pa) = Sequences.PadLeft(prompts, tok.Value.Pad, cpu)
              use first = m.Forward(images, pi, pa, cache)
              let mutable worst = 0.0
              for b in 0 .. faces.Length - 1 do
                  worst <- max worst (maxDiff (first.select(0L, int64 b).select(0L, -1L)) (reference.select(0L, int64 b).select(0L, int64 (prompts[b].Length - 1))))
              for k in 0 .. n - 1 do
                  use ids0 = torch.tensor(cont |> Array.map (fun c -> int64 c[k]))
                  use ids = ids0.view(int64 faces.Length, 1L)
                  use step = m.Forward(null, ids, null, cache)
                  for b in 0 .. faces.Length - 1 do
                      worst <- max worst (maxDiff (step.select(0L, int64 b).select(0L, 0L)) (reference.select(0L, int64 b).select(0L, int64 (prompts[b].Length + k))))
              Expect.isLessThan worst 1e-4 "cached == uncached"
          }
          test "generation: greedy is deterministic and agrees with uncached argmax; sampling is seeded" {
              use m = model 1L
              let rng = Random 7
              let s = tiny.Value.ImageSize
              let faces = [| face rng s true true true; face rng s true false false |]
              use images = VisionBatch.From(faces, cpu)
              let prompts = faces |> Array.map (fun f -> Prompt.Encode(tok.Value, f))
              let g1 = Generator.Generate(m, tok.Value, images, prompts, GenerationOptions(MaxNewTokens = 12))
              let g2 = Generator.Generate(m, tok.Value, images, prompts, GenerationOptions(MaxNewTokens = 12))
              Expect.equal g1.Texts g2.Texts "greedy deterministic"
              for c in g1.Completions do
                  Expect.isLessThanOrEqual c.Length 12 "max length"
                  Expect.isFalse (Array.contains tok.Value.Eos c) "eos excluded"
              // every greedy token is the argmax of the uncached logits before it
              let full = Array.map2 Array.append prompts g1.Completions
              let struct (fi, fa) = Sequences.PadRight(full, tok.Value.Pad, cpu)
              use logits = m.Logits(images, fi, fa)
              use arg = logits.argmax(-1L)
              for b in 0 .. 1 do
                  for k in 0 .. g1.Completions[b].Length - 1 do
                      let pos = int64 (prompts[b].Length - 1 + k)
                      Expect.equal (int (arg[int64 b, pos].item<int64> ())) (g1.Completions[b][k]) "argmax"
              let opt seed = GenerationOptions(MaxNewTokens = 20, Temperature = 1.0, TopP = 0.95, Seed = seed)
              let s1 = Generator.Generate(m, tok.Value, images, prompts, opt 5L)
              let s2 = Generator.Generate(m, tok.Value, images, prompts, opt 5L)
              let s3 = Generator.Generate(m, tok.Value, images, prompts, opt 6L)
              Expect.equal s1.Texts s2.Texts "same seed, same samples"
              Expect.notEqual s1.Texts s3.Texts "other seed, other samples"
              Expect.isTrue m.training "training mode restored"
          }
          test "rollouts: one batch equals the generator + live score; sampled batches draw from seed + k; sequences end with EOS only when ended" {
              use m = model 5L
              let t = tok.Value
              let rng = Random 10
              let s = tiny.Value.ImageSize
              let faces = [| face rng s true true true; face rng s false true true; face rng s true false false |]
              let rs = Rollouts.Run(m, t, faces, RolloutOptions.Greedy(12))
              use images = VisionBatch.From(faces, cpu)
              let prompts = faces |> Array.map (fun f -> Prompt.Encode(t, f))
              let g = Generator.Generate(m, t, images, prompts, GenerationOptions(MaxNewTokens = 12))
              let live = LiveScore.Compute(m, t, images, prompts, g.Completions)
              for i in 0 .. faces.Length - 1 do
                  Expect.sequenceEqual rs[i].Prompt prompts[i] "prompt"
                  Expect.sequenceEqual rs[i].Completion g.Completions[i] "completion"
                  Expect.equal rs[i].Text g.Texts[i] "text"
                  Expect.equal rs[i].LiveScore live[i] "live score"
                  Expect.equal rs[i].Ended g.Ended[i] "ended"
                  Expect.isTrue (rs[i].Ended <> (rs[i].Completion.Length = 12)) "ended = stopped before the budget"
                  let seq = rs[i].Sequence(t.Eos)
                  Expect.equal seq.Length (prompts[i].Length + rs[i].Completion.Length + (if rs[i].Ended then 1 else 0)) "sequence length"
                  Expect.equal (seq[seq.Length - 1] = t.Eos) rs[i].Ended "EOS appended only when ended"
              let sampled seed = GenerationOptions(MaxNewTokens = 10, Temperature = 1.0, TopP = 0.9, Seed = seed)
              let byOne = Rollouts.Run(m, t, faces[0..1], RolloutOptions(sampled 5L, Batch = 1, LiveScore = false))
              let first = Rollouts.Run(m, t, faces[0..0], RolloutOptions(sampled 5L, LiveScore = false))
              let second = Rollouts.Run(m, t, faces[1..1], RolloutOptions(sampled 6L, LiveScore = false))
              Expect.sequenceEqual byOne[0].Completion first[0].Completion "batch 0 uses the seed"
              Expect.sequenceEqual byOne[1].Completion second[0].Completion "batch 1 uses seed + 1"
              Expect.isTrue (byOne |> Array.forall (fun r -> Double.IsNaN r.LiveScore)) "no live score when not asked"
              Expect.isEmpty (Rollouts.Run(m, t, [||], RolloutOptions.Greedy(5))) "no faces, no rollouts"
          }
          test "live score: in [0,1], read after the answer opening, matching sigmoid(logit Real - logit Spoof)" {
              use m = model 2L
              let t = tok.Value
              let rng = Random 8
              let s = tiny.Value.ImageSize
              let faces = [| face rng s true true true; face rng s true true false; face rng s false false true |]
              use images = VisionBatch.From(faces, cpu)
              let prompts = faces |> Array.map (fun f -> Prompt.Encode(t, f))
              let rendered = t.Encode(Grammar.render Gen.grammar (randomPath rng))
              let thinkOnly = t.Encode("<think>I examine the IR image of the face.")
              let completions = [| rendered; thinkOnly; [||] |]
              let scores = LiveScore.Compute(m, t, images, prompts, completions)
              for sc in scores do
                  Expect.isTrue (sc >= 0.0 && sc <= 1.0 && not (Double.IsNaN sc)) $"score {sc} in [0,1]"
              let open' = [| t.Id "["; t.Id "'" |]
              let ctx0 = LiveScore.Context(t, prompts[0], rendered)
              let a = Array.IndexOf(rendered, t.AnswerOpen)
              Expect.sequenceEqual ctx0 (Array.concat [ prompts[0]; rendered[.. a]; open' ]) "context with <answer>"
              let ctx2 = LiveScore.Context(t, prompts[2], [||])
              Expect.sequenceEqual ctx2 (Array.concat [ prompts[2]; [| t.ThinkClose; t.AnswerOpen |]; open' ]) "context without tags"
              let struct (ids, att) = Sequences.PadRight([| ctx0 |], t.Pad, cpu)
              use one = VisionBatch.From([| faces[0] |], cpu)
              use logits = m.Logits(one, ids, att)
              let last = logits.select(0, 0).select(0, int64 (ctx0.Length - 1))
              let d = last[int64 (t.Id "Real")].item<float32> () - last[int64 (t.Id "Spoof")].item<float32> ()
              Expect.floatClose Accuracy.low scores[0] (1.0 / (1.0 + exp (-(float d)))) "sigmoid of the logit difference"
          }
          test "checkpoint: save/load round trip gives identical logits and metadata" {
              use m = model 3L
              let dir = Path.Combine(tempDir (), "ckpt")
              let meta = CheckpointMeta("sft", 42, "2026-01-01T00:00:00Z", readOnlyDict [ "note", "x" ])
              Checkpoint.Save(dir, m, tok.Value, meta)
              Checkpoint.Save(dir, m, tok.Value, meta) // replacing an existing checkpoint
              for f in [ "config.json"; "tokenizer.json"; "model.bin"; "meta.json" ] do
                  Expect.isTrue (File.Exists(Path.Combine(dir, f))) f
              Expect.isEmpty (Directory.GetDirectories(Path.GetDirectoryName dir) |> Array.filter (fun d -> Path.GetFileName(d).StartsWith ".")) "no temp folders left"
              let struct (m2, t2, meta2) = Checkpoint.Load(dir, cpu)
              use m2 = m2
              Expect.equal meta2.Stage "sft" "stage"
              Expect.equal meta2.Step 42 "step"
              Expect.equal meta2.Extra["note"] "x" "extra"
              Expect.equal t2.VocabSize tok.Value.VocabSize "tokenizer"
              Expect.equal m2.Config m.Config "config"
              let rng = Random 9
              use images = VisionBatch.From([| face rng tiny.Value.ImageSize true false true |], cpu)
              let struct (ids, att) = Sequences.PadRight([| randomTokens rng 9 |], 0, cpu)
              use a = m.Logits(images, ids, att)
              use b = m2.Logits(images, ids, att)
              Expect.equal (maxDiff a b) 0.0 "identical logits"
              use lm = LoadedModel.Load(dir, cpu)
              let out = lm.Run([| face rng tiny.Value.ImageSize true true true |], 5)
              Expect.equal out.Length 1 "one rollout"
              Expect.isTrue (out[0].LiveScore >= 0.0 && out[0].LiveScore <= 1.0) "score"
          }
          test "checkpoint: truncated weights, hash mismatch, wrong config, wrong tokenizer -> InvalidDataException naming the file" {
              use m = model 4L
              let root = tempDir ()
              let fresh name =
                  let d = Path.Combine(root, name)
                  Checkpoint.Save(d, m, tok.Value, CheckpointMeta.Now("sft", 1))
                  d
              let expectBad (d: string) (file: string) why =
                  let msg =
                      Expect.throwsC (fun () -> let struct (x, _, _) = Checkpoint.Load(d, cpu) in x.Dispose()) (fun e ->
                          Expect.isTrue (e :? InvalidDataException) $"{why}: InvalidDataException, got {e.GetType().Name}: {e.Message}"
                          e.Message)
                  Expect.stringContains msg file why
              let d1 = fresh "trunc"
              let w = Path.Combine(d1, "model.bin")
              let bytes = File.ReadAllBytes w
              File.WriteAllBytes(w, bytes[.. bytes.Length - 101])
              expectBad d1 "model.bin" "truncated"
              let d2 = fresh "flip"
              let w2 = Path.Combine(d2, "model.bin")
              let b2 = File.ReadAllBytes w2
              b2[b2.Length / 2] <- b2[b2.Length / 2] ^^^ 0xFFuy
              File.WriteAllBytes(w2, b2)
              expectBad d2 "model.bin" "hash mismatch"
              let d3 = fresh "config"
              let c = Path.Combine(d3, "config.json")
              File.WriteAllText(c, File.ReadAllText(c).Replace("\"mlpHidden\": 160", "\"mlpHidden\": 128"))
              expectBad d3 "config.json" "wrong config"
              let d4 = fresh "tokenizer"
              let tj = Path.Combine(d4, "tokenizer.json")
              File.WriteAllText(tj, File.ReadAllText(tj).Replace("\"Tokens\": [", "\"Tokens\": [").Replace("\"?\",", "\"?\", \"zzzextra\","))
              expectBad d4 "tokenizer.json" "tokenizer size"
              let d5 = fresh "nometa"
              File.Delete(Path.Combine(d5, "meta.json"))
              expectBad d5 "meta.json" "missing meta"
          }
          test "memory: repeated generation, live scores and scoped forward passes leave no live tensors behind" {
              use m = model 6L
              let t = tok.Value
              let rng = Random 12
              let s = tiny.Value.ImageSize
              let faces = [| face rng s true true true; face rng s true false true |]
              let prompts = faces |> Array.map (fun f -> Prompt.Encode(t, f))
              let once () =
                  use images = VisionBatch.From(faces, cpu)
                  let g = Generator.Generate(m, t, images, prompts, GenerationOptions(MaxNewTokens = 8))
                  LiveScore.Compute(m, t, images, prompts, g.Completions) |> ignore
                  use scope = torch.NewDisposeScope()
                  let struct (ids, att) = Sequences.PadRight(prompts, t.Pad, cpu)
                  m.Logits(images, ids, att) |> ignore
              once ()
              let before = DisposeScopeManager.Statistics.ThreadTotalLiveCount
              for _ in 1..30 do once ()
              let after = DisposeScopeManager.Statistics.ThreadTotalLiveCount
              Expect.isLessThanOrEqual (after - before) 0L $"live tensors {before} -> {after}"
          }
          test "training signal: the tiny model overfits 8 samples (chain + answer) to near-zero loss" {
              use m = model 5L
              let t = tok.Value
              let rng = Random 10
              let s = tiny.Value.ImageSize
              let faces = Array.init 8 (fun i -> face rng s true (i % 2 = 0) true)
              use images = VisionBatch.From(faces, cpu)
              let prompts = faces |> Array.map (fun f -> Prompt.Encode(t, f))
              let comps = Array.init 8 (fun _ -> Array.append (t.Encode(Grammar.render Gen.grammar (randomPath rng))) [| t.Eos |])
              let seqs = Array.map2 Array.append prompts comps
              let struct (ids, att) = Sequences.PadRight(seqs, t.Pad, cpu)
              let tmax = seqs |> Array.map Array.length |> Array.max
              let mask =
                  Array.init 8 (fun b -> Array.init (tmax - 1) (fun i -> if i + 1 >= prompts[b].Length && i + 1 < seqs[b].Length then 1.0f else 0.0f))
                  |> Array.concat
              use mask0 = torch.tensor(mask)
              use maskT = mask0.view(8L, int64 (tmax - 1))
              use opt = torch.optim.Adam(m.parameters(), lr = 3e-3)
              let lossValue () =
                  use scope = torch.NewDisposeScope()
                  let lp = Sequences.TokenLogProbs(m.Logits(images, ids, att), ids)
                  let loss = -(lp * maskT).sum() / maskT.sum()
                  opt.zero_grad()
                  loss.backward()
                  opt.step() |> ignore
                  float (loss.item<float32> ())
              let first = lossValue ()
              let mutable last = first
              let mutable steps = 1
              while last > 0.05 && steps < 400 do
                  last <- lossValue ()
                  steps <- steps + 1
              Expect.isLessThan last 0.05 $"loss {first:F3} -> {last:F3} after {steps} Adam steps"
          } ]
