/// scripts/pafas_rewards.py (the GRPO rewards for TRL and VLM-R1) against `pafas score`: the same 12,000 real,
/// mutated and random completions, scored by one python3 process and by the CLI in each reward mode, must get
/// identical format, classification and total rewards. Also: the TRL launch scripts compile and check an export.
module PaFas.Tests.TrainerRewardsTests

open System
open System.Diagnostics
open System.IO
open System.Text
open System.Text.Json.Nodes
open Expecto
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Augmentation
open PaFas.Host.Interop

let private g = Gen.grammar
let private tx = g.Taxonomy

/// The repository root: the folder above the test binary that holds scripts/pafas_rewards.py.
let private repoRoot =
    let rec up (d: DirectoryInfo) =
        if isNull d then failwith "scripts/pafas_rewards.py not found above the test binary"
        elif File.Exists(Path.Combine(d.FullName, "scripts", "pafas_rewards.py")) then d.FullName
        else up d.Parent
    up (DirectoryInfo AppContext.BaseDirectory)

let private script name = Path.Combine(repoRoot, "scripts", name)

/// Runs python3 with the arguments; (exit code, stdout, stderr).
let private python (args: string list) =
    let psi = ProcessStartInfo("python3", RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                               StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8)
    for a in args do psi.ArgumentList.Add a
    psi.Environment["PYTHONIOENCODING"] <- "utf-8"
    psi.Environment["PYTHONDONTWRITEBYTECODE"] <- "1"
    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()
    p.WaitForExit()
    p.ExitCode, out.Result, err.Result

// ---- the completions ------------------------------------------------------------------------------------------

let private leaves = Taxonomy.leaves tx |> List.map (Taxonomy.labelOf tx) |> Array.ofList
let private nodeNames = Array.ofList (Taxonomy.root tx :: Taxonomy.nodes tx @ [ "Unknown Attack"; "Real"; "Spoof" ])
let private tags = [| "<think>"; "</think>"; "<answer>"; "</answer>" |]
/// .NET and Python disagree on what whitespace is for U+001C..U+001F; U+180E, U+200B and U+FEFF are none in both.
let private spaces =
    [| " "; "  "; "\t"; "\n"; "\r\n"; "\r"; "\u000b"; "\u000c"; "\u0085"; "\u00a0"; "\u1680"; "\u2003"; "\u2028"; "\u3000"
       "\u001c"; "\u001f"; "\u180e"; "\u200b"; "\ufeff" |]
/// Case and quote traps: dotted and dotless I, the Kelvin sign (lower-cases to k), long s, sharp s, final sigma,
/// curly quotes, a combining accent, an emoji (a surrogate pair), NUL.
let private odd = [| "\u0130"; "\u0131"; "\u212a"; "\u017f"; "\u00df"; "\u03a3"; "\u2019"; "\u201c"; "\u0301"; "\U0001F600"; "\u0000"; "\u01c5"; "e\u0301" |]
let private words = [| "Sure."; "The answer is"; "I think"; "face"; "Real Face"; "spoof"; "<thin"; "</answe"; "<answer"; "[]"; "'"; "\""; ","; "["; "]" |]

let private pick (r: Random) (xs: 'a[]) = xs[r.Next xs.Length]

let private quoteLabel (r: Random) (l: string list) =
    let q = if r.Next 4 = 0 then "\"" else "'"
    "[" + String.Join(", ", l |> List.map (fun x -> q + x + q)) + "]"

let private junk (r: Random) =
    if r.Next 2 = 0 then String.Concat(Array.init (1 + r.Next 3) (fun _ -> pick r spaces))
    else String.Concat(Array.init (1 + r.Next 4) (fun _ -> pick r (Array.concat [ words; odd; spaces; tags ])))

let private insertAt (r: Random) (s: string) (x: string) = let i = r.Next(s.Length + 1) in s.Insert(i, x)

let private replaceOne (r: Random) (s: string) (a: string) (b: string) =
    let hits = ResizeArray<int>()
    let mutable i = s.IndexOf(a, StringComparison.Ordinal)
    while i >= 0 do
        hits.Add i
        i <- s.IndexOf(a, i + 1, StringComparison.Ordinal)
    if hits.Count = 0 then s else let i = hits[r.Next hits.Count] in s.Substring(0, i) + b + s.Substring(i + a.Length)

/// The answer list of a completion (between <answer> and </answer>) rewritten.
let private onAnswer (f: string -> string) (s: string) =
    let a = s.IndexOf("<answer>", StringComparison.Ordinal)
    let b = if a < 0 then -1 else s.IndexOf("</answer>", a, StringComparison.Ordinal)
    if a < 0 || b < 0 then s else s.Substring(0, a + 8) + f (s.Substring(a + 8, b - a - 8)) + s.Substring(b)

let private mutations: (Random -> string -> string)[] =
    [| fun r s -> replaceOne r s (pick r tags) ""                                        // dropped tag
       fun r s -> insertAt r s (pick r tags)                                             // extra tag
       fun r s -> (let i = s.IndexOf("</think>", StringComparison.Ordinal) in if i < 0 then s else s.Substring(i + 8) + s.Substring(0, i + 8)) // reordered
       fun r s -> junk r + s                                                             // junk before
       fun r s -> s + junk r                                                             // junk after
       fun r s -> replaceOne r s "</think>" ("</think>" + junk r)                        // junk between the blocks
       fun r s -> if r.Next 2 = 0 then s.Replace("'", pick r [| "\""; "\u2019"; "`"; "" |]) else replaceOne r s "'" (pick r [| "\""; "\u2018"; "" |]) // wrong quotes
       fun r s -> onAnswer (fun a -> match r.Next 3 with 0 -> a.ToUpperInvariant() | 1 -> a.ToLowerInvariant() | _ -> a.Replace("e", "E")) s // label case
       fun r s -> onAnswer (fun a -> insertAt r a (pick r spaces)) s                     // whitespace in the answer
       fun r s -> onAnswer (fun _ -> pick r [| ""; "[]"; "[ ]"; "['']"; "[\"\"]"; "[,]"; "''"; "Real Face"; "['Real Face'"; "'Real Face']"; " "; "\u00a0" |]) s // empty or broken answer
       fun r s -> onAnswer (fun a -> a.TrimEnd().TrimEnd(']') + ", '" + pick r nodeNames + "']") s // extra label
       fun r s -> onAnswer (fun a -> let items = a.Trim().Trim('[', ']').Split(',') in if items.Length < 2 then "[]" else "[" + String.Join(",", items |> Array.removeAt (r.Next items.Length)) + "]") s // dropped label
       fun r s -> onAnswer (fun a -> let items = a.Trim().Trim('[', ']').Split(',') in items[r.Next items.Length] <- " '" + pick r nodeNames + "'"; "[" + String.Join(",", items) + "]") s // replaced label
       fun r s -> onAnswer (fun a -> replaceOne r a ", " (pick r [| ";"; " ,"; ",,"; ",\n"; ""; ", ,"; "' '" |])) s // separators
       fun r s -> onAnswer (fun a -> a.Replace(" ", pick r [| "  "; "\t"; "\u00a0"; "\r\n"; "\u2003"; "" |])) s // whitespace inside labels
       fun r s -> onAnswer (fun a -> a.Replace("i", pick r [| "\u0130"; "\u0131"; "I" |]).Replace("k", "\u212a").Replace("s", pick r [| "\u017f"; "S" |])) s // case traps
       fun r s -> (if s.Length < 2 then s else let i = r.Next(s.Length - 1) in s.Remove(i, min (1 + r.Next 12) (s.Length - i))) // deleted span
       fun r s -> insertAt r s (pick r odd)                                              // odd character
       fun r s -> s.Substring(0, r.Next(s.Length + 1))                                   // cut off
       fun r s -> s.Replace("\n", "\r\n").Replace(". ", pick r [| ".\n"; ". \n "; "." |]) // line ends
       fun r s -> replaceOne r s (pick r tags) (pick r [| "<Think>"; "<ANSWER>"; "< answer>"; "</ think>"; "<answer >" |]) // tag spelling
       fun r s -> s.Replace("<answer>", "<answer>" + pick r spaces).Replace("</answer>", pick r spaces + "</answer>") |] // padded answer

/// A string with every lone surrogate (left by a cut) replaced: JSON cannot carry it, and no tokenizer writes it.
let private wellFormed (s: string) =
    let sb = StringBuilder(s.Length)
    for i in 0 .. s.Length - 1 do
        let c = s[i]
        let paired =
            (Char.IsHighSurrogate c && i + 1 < s.Length && Char.IsLowSurrogate s[i + 1])
            || (Char.IsLowSurrogate c && i > 0 && Char.IsHighSurrogate s[i - 1])
        sb.Append(if Char.IsSurrogate c && not paired then '\ufffd' else c) |> ignore
    sb.ToString()

/// Rendered PNRPS chains of every leaf (random modality subsets), with the true answer or another leaf's.
let private realChains (r: Random) =
    [| for (i, label) in Array.indexed leaves do
           let mods = Modality.all |> List.filter (fun _ -> r.Next 3 > 0)
           let avail = match Availability.create (if mods.IsEmpty then Modality.all else mods) with Ok a -> a | Error e -> failwith e
           let sample = { Label = label; Available = avail; Cues = Taxonomy.compatible tx (List.last label) }
           for p in Pnrps.sample g { Pnrps.defaultConfig with Paths = 30 } (100 + i) sample do
               let answer = if r.Next 5 = 0 then pick r leaves else label
               yield label, Grammar.render g { p with Answer = answer } |]

/// A random completion: tokens, or the tag skeleton around a random label path (valid prefixes, junk, any case).
let private randomCompletion (r: Random) =
    if r.Next 3 = 0 then String.Concat(Array.init (r.Next 16) (fun _ -> pick r (Array.concat [ tags; words; spaces; odd; nodeNames ])))
    else
        let path =
            match r.Next 3 with
            | 0 -> let l = pick r leaves in l |> List.truncate (1 + r.Next l.Length)
            | 1 -> List.init (1 + r.Next 6) (fun _ -> pick r nodeNames)
            | _ -> pick r leaves @ (if r.Next 2 = 0 then [ pick r nodeNames ] else [])
        let path = path |> List.map (fun n -> if r.Next 6 = 0 then n.ToUpperInvariant() elif r.Next 6 = 0 then " " + n + " " else n)
        let think = String.Join(" ", Array.init (r.Next 4) (fun _ -> pick r (g.SentenceIndex |> Map.toArray |> Array.map fst)))
        sprintf "%s<think>%s</think>%s<answer>%s%s" (if r.Next 5 = 0 then junk r else "") think (if r.Next 4 = 0 then junk r else "")
            (quoteLabel r path) (match r.Next 6 with 0 -> "" | 1 -> "</answer>" + junk r | _ -> "</answer>")

/// The solution column in the forms a user may hand over: as exported, as VLM-R1 rewrites it, a list, or unusable.
let private solution (r: Random) (label: string list) : JsonNode option =
    let exported = "<answer>" + Grammar.answerText label + "</answer>"
    let str (s: string) = Some(JsonValue.Create s :> JsonNode)
    match r.Next 20 with
    | n when n < 12 -> str exported
    | 12 | 13 -> str ("<answer> " + Grammar.answerText label + " </answer>")
    | 14 -> Some(JsonArray(label |> List.map (fun x -> JsonValue.Create(if r.Next 2 = 0 then x.ToLowerInvariant() else x) :> JsonNode) |> Array.ofList) :> JsonNode)
    | 15 -> str (quoteLabel r (label |> List.map (fun x -> x.ToUpperInvariant())))
    | 16 -> str (pick r [| "real face"; "Spoof Face"; " Flat Print Attack "; List.last label |])
    | 17 -> str (pick r [| ""; "  "; "<answer></answer>"; "["; "['x'"; "[Real Face]"; "['Spoof Face',]" |])
    | 18 -> pick r [| Some(JsonValue.Create 3 :> JsonNode); Some(JsonArray(JsonValue.Create 1) :> JsonNode); Some(JsonArray() :> JsonNode) |]
    | _ -> None

/// The completion as a string or as chat messages (TRL and VLM-R1 pass [{"role": "assistant", "content": ...}]).
let private completionNode (r: Random) (text: string) : JsonNode =
    let msg (content: JsonNode) = JsonArray(JsonObject(dict [ "role", JsonValue.Create "assistant" :> JsonNode; "content", content ])) :> JsonNode
    match r.Next 10 with
    | 0 | 1 -> msg (JsonValue.Create text)
    | 2 -> msg (JsonArray(JsonObject(dict [ "type", JsonValue.Create "text" :> JsonNode; "text", JsonValue.Create text ])))
    | _ -> JsonValue.Create text

/// n completion lines: a seventh real chains, four sevenths mutated chains (one edit, or 2 to 4), the rest random.
let private completionLines (n: int) (seed: int) =
    let r = Random seed
    let real = realChains r
    [| for i in 0 .. n - 1 do
           let label, text =
               match i % 7 with
               | 0 -> pick r real
               | 1 | 2 | 3 | 4 ->
                   let label, t = pick r real
                   let edits = if r.Next 10 < 7 then 1 else 2 + r.Next 3
                   label, Seq.fold (fun s _ -> (pick r mutations) r s) t (seq { 1 .. edits })
               | _ -> pick r leaves, randomCompletion r
           let o = JsonObject()
           o["id"] <- JsonValue.Create(sprintf "c%05d" i)
           o["completion"] <- completionNode r (wellFormed text)
           match solution r label with
           | Some s -> o["solution"] <- s
           | None -> ()
           yield o.ToJsonString() |]

// ---- the comparison -------------------------------------------------------------------------------------------

type private Reward = { Format: float; Classification: float; Total: float }

/// The rewards `pafas score --completions FILE --reward-mode MODE` writes to scored.jsonl, by id.
let private cliRewards (file: string) (mode: string) =
    let out = Gen.tempDir "trainer-rewards" ("cli-" + mode)
    let code = PaFas.Host.Program.Main [| "score"; "--completions"; file; "--reward-mode"; mode; "--out"; out |]
    Expect.equal code 0 (sprintf "pafas score --reward-mode %s" mode)
    File.ReadLines(Path.Combine(out, "scored.jsonl"))
    |> Seq.map (fun l ->
        let o = JsonNode.Parse l
        o["id"].GetValue<string>(),
        { Format = o["format"].GetValue<float>(); Classification = o["classification"].GetValue<float>(); Total = o["total"].GetValue<float>() })
    |> Map.ofSeq

/// The rewards of scripts/pafas_rewards.py (one process, every mode), in file order.
let private pythonRewards (file: string) =
    let code, out, err = python [ script "pafas_rewards.py"; file; "--taxonomy"; Path.Combine(Gen.dataDir, "taxonomy.json") ]
    Expect.equal code 0 (sprintf "pafas_rewards.py exits 0: %s" err)
    out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
    |> Array.map (fun l ->
        let o = JsonNode.Parse l
        o["id"].GetValue<string>(),
        [ for m in [ "exact"; "binary"; "hierarchical" ] ->
              m, { Format = o["format"].GetValue<float>(); Classification = (o["classification"][m]).GetValue<float>(); Total = (o["total"][m]).GetValue<float>() } ]
        |> Map.ofList)

let private parityTests =
    testList
        "parity"
        [ test "12,000 real, mutated and random completions: pafas_rewards.py = pafas score in every mode" {
              let dir = Gen.tempDir "trainer-rewards" "parity"
              let file = Path.Combine(dir, "completions.jsonl")
              let lines = completionLines 12000 18
              File.WriteAllLines(file, lines)
              let py = pythonRewards file
              Expect.equal py.Length lines.Length "one python row per completion"
              let texts = lines |> Array.map (fun l -> let o = JsonNode.Parse l in o["id"].GetValue<string>(), l) |> Map.ofArray
              let cliByMode = [ for m in [ "exact"; "binary"; "hierarchical" ] -> m, cliRewards file m ] |> Map.ofList
              for mode in [ "exact"; "binary"; "hierarchical" ] do
                  let cli = cliByMode[mode]
                  Expect.equal cli.Count lines.Length (sprintf "%s: one CLI row per completion" mode)
                  let diffs = py |> Array.filter (fun (id, rows) -> rows[mode] <> cli[id])
                  let show = diffs |> Array.truncate 5 |> Array.map (fun (id, rows) -> sprintf "%s python %A cli %A line %s" id rows[mode] cli[id] texts[id])
                  Expect.isEmpty diffs (sprintf "%s: %d of %d completions differ, e.g.\n%s" mode diffs.Length lines.Length (String.Join("\n", show)))
                  // The batch reaches every branch of the reward in this mode (so equality is not vacuous).
                  let rows = cli |> Map.toArray |> Array.map snd
                  let count f = rows |> Array.filter f |> Array.length
                  Expect.isGreaterThan (count (fun x -> x.Format = 1.0)) 1500 (sprintf "%s: many well-formed" mode)
                  Expect.isGreaterThan (count (fun x -> x.Format = 0.0 && x.Classification > 0.0)) 100 (sprintf "%s: answer read, format 0" mode)
                  Expect.isGreaterThan (count (fun x -> x.Format = 1.0 && x.Classification = 0.0)) 300 (sprintf "%s: well-formed but wrong" mode)
                  if mode = "hierarchical" then
                      Expect.isGreaterThan (count (fun x -> x.Classification > 0.0 && x.Classification < 1.0)) 500 "partial credit"
              let exact, binary = cliByMode["exact"], cliByMode["binary"]
              Expect.isGreaterThan (exact |> Map.filter (fun id x -> x.Classification = 0.0 && binary[id].Classification = 1.0) |> Map.count) 300
                  "binary credit where exact gives none"
          } ]

let private world =
    lazy
        (let dir = Gen.tempDir "trainer-rewards" "world"
         let synth = SyntheticWorld.Generate(SynthOptions(Out = Path.Combine(dir, "synth"), PerDomain = 8, Size = 32, Seed = 3, Domains = [| "C" |]))
         let aug = Augmenter.Run(AugmentOptions(Data = synth.ManifestPath, Out = Path.Combine(dir, "chains.jsonl"), Paths = 2, Seed = 1, Threads = 1), g)
         dir, synth.ManifestPath, aug.OutFile)

let private launchTests =
    testList
        "launch scripts"
        [ test "every script compiles; the TRL reward functions take the trainers' keyword arguments" {
              let scripts = Directory.GetFiles(Path.Combine(repoRoot, "scripts"), "*.py") |> Array.sort
              Expect.isGreaterThanOrEqual scripts.Length 4 "pafas_rewards, pafas_trl_common, trl_sft, trl_grpo"
              let tmp = Gen.tempDir "trainer-rewards" "pyc"
              let compile = "import py_compile, sys\nfor i, f in enumerate(sys.argv[1:]): py_compile.compile(f, cfile='" + tmp.Replace("\\", "/") + "/%d.pyc' % i, doraise=True)"
              let code, _, err = python ([ "-c"; compile ] @ List.ofArray scripts)
              Expect.equal code 0 (sprintf "py_compile: %s" err)
              let call =
                  "import sys; sys.path.insert(0, sys.argv[1]); import pafas_rewards as p\n" +
                  "c = [[{'role': 'assistant', 'content': \"<think>x</think><answer>['Real Face']</answer>\"}], \"<think>x</think><answer>['Spoof Face']\"]\n" +
                  "kw = dict(prompts=[[], []], completions=c, completion_ids=[[1], [2]], trainer_state=None, images=[[], []], problem=['q', 'q'])\n" +
                  "sol = [\"<answer>['Real Face']</answer>\", \"<answer> ['Real Face'] </answer>\"]\n" +
                  "print(p.format_reward(**kw), p.exact_reward(solution=sol, **kw), sorted(p.REWARD_FUNCS), [f.__name__ for f in p.reward_functions('binary')])"
              let code, out, err = python [ "-c"; call; Path.Combine(repoRoot, "scripts") ]
              Expect.equal code 0 err
              Expect.equal (out.Trim()) "[1.0, 0.0] [1.0, 0.0] ['pafas_binary', 'pafas_exact', 'pafas_format', 'pafas_hierarchical'] ['format_reward', 'binary_reward']" "rewards"
          }
          test "trl_sft.py and trl_grpo.py --check-only accept the exports and name the bad line" {
              let dir, manifest, chains = world.Value
              let sft = TrainingDataExport.Write("trl", "sft", chains, "", Path.Combine(dir, "export"), g)
              let grpo = TrainingDataExport.Write("trl", "grpo", manifest, "", Path.Combine(dir, "export"), g)
              for (name, r) in [ "trl_sft.py", sft; "trl_grpo.py", grpo ] do
                  let code, out, err = python [ script name; "--data"; r.OutFile; "--check-only" ]
                  Expect.equal code 0 (sprintf "%s: %s" name err)
                  Expect.stringContains out (sprintf "%d rows ok" r.Lines) name
              let bad = Path.Combine(dir, "bad-grpo.jsonl")
              let ls = File.ReadAllLines grpo.OutFile
              let o = JsonNode.Parse(ls[1])
              o["solution"] <- JsonValue.Create "<answer>['Spoof Face']</answer>"
              File.WriteAllLines(bad, [| ls[0]; o.ToJsonString() |])
              let code, _, err = python [ script "trl_grpo.py"; "--data"; bad; "--check-only" ]
              Expect.equal code 1 "bad data exits 1"
              Expect.stringContains err (bad + ":2:") "names the file and line"
              let code, _, err = python [ script "trl_grpo.py"; "--data"; grpo.OutFile; "--model"; "m"; "--out"; dir ]
              Expect.equal code 1 "a non-empty output folder is refused"
              Expect.stringContains err "not empty" "says why"
          } ]

let tests = testList "TrainerRewards" [ parityTests; launchTests ]
