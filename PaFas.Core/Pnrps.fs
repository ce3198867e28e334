namespace PaFas.Core

open System
open System.Collections.Generic

/// Settings of Positive-Negative Random Path Sampling.
type PnrpsConfig =
    { /// alpha in the length bound Lmax = floor(alpha * (D - 1)); the paper takes alpha > 1 (1 allows no detour
      /// on the deepest leaves). Must be finite and at least 1.
      Alpha: float
      /// N: distinct paths wanted per sample (the paper's N = 50); at least 1.
      Paths: int
      /// Probability, at each decision point of the walk, of taking a feasible negative detour (entering a wrong
      /// child) instead of the positive step; in [0, 1].
      DetourProbability: float
      /// Most observation clauses made while at one node (the root included); at least 0.
      MaxObservationsPerNode: int
      /// The walk gives up after MaxAttemptsFactor * N walks and fills the rest by enumeration; at least 1.
      MaxAttemptsFactor: int }

/// What PNRPS needs to know about a labelled sample.
type PnrpsSample =
    { /// The true label (a root-to-leaf path of the taxonomy).
      Label: Label
      /// The modalities the sample has.
      Available: Availability
      /// The cue annotation (cues observed present). Cues of missing modalities or without a template are ignored.
      Cues: Set<Cue> }

/// Positive-Negative Random Path Sampling (PA-FAS, Sec. "Reasoning Path Augmentation").
///
/// A path is `Start <available modalities>` followed by a rule-guided depth-first walk over the taxonomy from its
/// root to the sample's true leaf. The rules (each checked by `validate`, which names the rule it finds broken):
/// - `start`: the first step, and only it, is `Start` naming exactly the available modalities in the fixed order.
/// - `depth-first`: `Forward n` enters a child of the current node (the root at first); `Reflect(n, _)` rules out
///   the current node n and returns to its parent.
/// - `forward-once` / `reflect-once`: each node gets at most one forward step (+v) and at most one backward step (-v).
/// - `evidence`: a reflection rules out a node off the true label path (a negative detour) and cites a cue of the
///   sample's annotation, from an available modality, that is not compatible with that node (`Taxonomy.compatible`).
///   A node on the true path is never ruled out, so every detour is closed by its reflection.
/// - `modality` / `annotation` / `template`: observations and evidence cite only cues of available modalities, in
///   the annotation, with a clause template.
/// - `observe-once` / `observations`: each cue is observed at most once, and at most MaxObservationsPerNode
///   observations are made while at one node.
/// - `length`: the path length, defined as the number of Forward and Reflect steps (the +v and -v moves; Start and
///   Observe clauses are made at a node and do not move), is at most `maxLength` = floor(alpha * (D - 1)), D = the
///   taxonomy depth counting the root level.
/// - `end`: the last step is the forward step into the true leaf, so `Grammar.conclusion` is the true leaf and the
///   nodes entered and not ruled out are exactly the label.
/// - `answer`: the path's answer is the true label.
/// If the sample has no usable cue that contradicts a wrong node, that node cannot be entered: without usable
/// evidence the walk simply has no detours.
[<RequireQualifiedAccess>]
module Pnrps =
    /// alpha = 2, N = 50, detour probability 0.35, two observations per node, 20 walks per wanted path.
    let defaultConfig =
        { Alpha = 2.0
          Paths = 50
          DetourProbability = 0.35
          MaxObservationsPerNode = 2
          MaxAttemptsFactor = 20 }

    /// Checks the ranges documented on `PnrpsConfig`.
    let checkConfig (c: PnrpsConfig) : Result<unit, string> =
        if Double.IsNaN c.Alpha || Double.IsInfinity c.Alpha || c.Alpha < 1.0 then
            Error(sprintf "alpha must be a finite number >= 1, got %g" c.Alpha)
        elif c.Paths < 1 then Error(sprintf "paths (N) must be at least 1, got %d" c.Paths)
        elif Double.IsNaN c.DetourProbability || c.DetourProbability < 0.0 || c.DetourProbability > 1.0 then
            Error(sprintf "detour probability must be in [0, 1], got %g" c.DetourProbability)
        elif c.MaxObservationsPerNode < 0 then
            Error(sprintf "max observations per node must be >= 0, got %d" c.MaxObservationsPerNode)
        elif c.MaxAttemptsFactor < 1 then Error(sprintf "max attempts factor must be >= 1, got %d" c.MaxAttemptsFactor)
        else Ok()

    /// Lmax = floor(alpha * (D - 1)) with D = `Taxonomy.depth` (levels including the root); a tolerance of 1e-9
    /// keeps e.g. 1.2 * 5 at 6 despite rounding.
    let maxLength (t: Taxonomy) (c: PnrpsConfig) =
        int (floor (c.Alpha * float (Taxonomy.depth t - 1) + 1e-9))

    /// Cues a path may cite for this sample: in the annotation, of an available modality, with a template.
    let usableCues (g: Grammar) (s: PnrpsSample) : Cue list =
        s.Cues
        |> Set.filter (fun c -> Availability.has c.Modality s.Available && g.Templates.Cues.ContainsKey c)
        |> Set.toList

    // ---- the walk's state machine, shared by the random walk and the enumeration ----

    type private Ctx =
        { Tax: Taxonomy
          Root: string
          Leaf: string
          OnPath: Set<string>
          LabelLength: int
          Usable: Cue list
          /// Usable cues that rule the node out; empty = the node cannot be entered.
          Refuting: string -> Cue list
          MaxObs: int
          Max: int }

    type private State =
        { /// Entered and not ruled out, deepest first (true-path nodes below, wrong nodes on top).
          Stack: string list
          Entered: Set<string>
          Observed: Set<Cue>
          ObsAt: Map<string, int>
          Used: int
          /// Steps so far, last first.
          Rev: Step list }

    let private context (g: Grammar) (cfg: PnrpsConfig) (s: PnrpsSample) =
        let t = g.Taxonomy
        let usable = usableCues g s
        let cache = Dictionary<string, Cue list>()
        let refuting n =
            match cache.TryGetValue n with
            | true, cs -> cs
            | _ ->
                let compat = Taxonomy.compatible t n
                let cs = usable |> List.filter (compat.Contains >> not)
                cache[n] <- cs
                cs
        { Tax = t
          Root = Taxonomy.root t
          Leaf = Taxonomy.leaf s.Label
          OnPath = Set.ofList s.Label
          LabelLength = s.Label.Length
          Usable = usable
          Refuting = refuting
          MaxObs = cfg.MaxObservationsPerNode
          Max = maxLength t cfg }

    let private current (c: Ctx) (st: State) = match st.Stack with n :: _ -> n | [] -> c.Root

    /// Moves still needed to finish: one reflection per wrong node on the stack, one forward per missing label node.
    let private need (c: Ctx) (st: State) =
        let wrong = st.Stack |> List.filter (c.OnPath.Contains >> not) |> List.length
        wrong + c.LabelLength - (st.Stack.Length - wrong)

    let private start (c: Ctx) (s: PnrpsSample) =
        { Stack = []
          Entered = Set.empty
          Observed = Set.empty
          ObsAt = Map.empty
          Used = 0
          Rev = [ Start(Availability.toList s.Available) ] }

    /// Steps that keep the path completable within the length bound (None = the path may end here). Because every
    /// state reached this way can still be completed, the enumeration never dead-ends and every walk is valid.
    let private observeMoves (c: Ctx) (st: State) =
        let cur = current c st
        if cur = c.Leaf || st.ObsAt.TryFind cur |> Option.defaultValue 0 >= c.MaxObs then []
        else c.Usable |> List.filter (st.Observed.Contains >> not) |> List.map Observe

    let private forwardMoves (c: Ctx) (st: State) =
        let cur = current c st
        let slack = c.Max - st.Used - need c st
        Taxonomy.children c.Tax cur
        |> List.filter (fun n ->
            not (st.Entered.Contains n)
            && (c.OnPath.Contains n || (slack >= 2 && not (c.Refuting n).IsEmpty)))

    let private reflectMoves (c: Ctx) (st: State) =
        match st.Stack with
        | n :: _ when not (c.OnPath.Contains n) -> c.Refuting n |> List.map (fun e -> Reflect(n, e))
        | _ -> []

    let private advance (c: Ctx) (st: State) (step: Step) =
        let st = { st with Rev = step :: st.Rev }
        match step with
        | Observe cue ->
            let cur = current c st
            { st with
                Observed = st.Observed.Add cue
                ObsAt = st.ObsAt.Add(cur, 1 + (st.ObsAt.TryFind cur |> Option.defaultValue 0)) }
        | Forward n -> { st with Stack = n :: st.Stack; Entered = st.Entered.Add n; Used = st.Used + 1 }
        | Reflect _ -> { st with Stack = List.tail st.Stack; Used = st.Used + 1 }
        | Start _ -> st

    let private finished (c: Ctx) (st: State) = current c st = c.Leaf && st.Stack.Length = c.LabelLength

    /// Every valid step list for the sample, lazily, in a fixed order (observations, then forward steps, then
    /// reflections at each state). Empty when the label is not a root-to-leaf path or is longer than `maxLength`.
    let enumerate (g: Grammar) (cfg: PnrpsConfig) (s: PnrpsSample) : seq<Step list> =
        let c = context g cfg s
        let rec go (st: State) =
            seq {
                if finished c st then yield List.rev st.Rev
                else
                    let ms =
                        observeMoves c st @ (forwardMoves c st |> List.map Forward) @ reflectMoves c st
                    for m in ms do
                        yield! go (advance c st m)
            }
        if not (Taxonomy.isValidLabel g.Taxonomy s.Label) || s.Label.Length > c.Max then Seq.empty
        else go (start c s)

    let private pick (rng: Random) (xs: 'a list) = List.item (rng.Next(List.length xs)) xs

    /// Probability of an observation clause when one is allowed (then the walk moves on).
    let private observeProbability = 0.5

    /// One rule-guided random depth-first walk.
    let private walk (c: Ctx) (cfg: PnrpsConfig) (rng: Random) (init: State) =
        let rec go (st: State) =
            if finished c st then List.rev st.Rev
            else
                let obs = observeMoves c st
                if not obs.IsEmpty && rng.NextDouble() < observeProbability then go (advance c st (pick rng obs))
                else
                    let fwd = forwardMoves c st
                    let wrong = fwd |> List.filter (c.OnPath.Contains >> not)
                    let positive = fwd |> List.filter c.OnPath.Contains
                    let detour = not wrong.IsEmpty && rng.NextDouble() < cfg.DetourProbability
                    if detour then go (advance c st (Forward(pick rng wrong)))
                    else
                        match positive, reflectMoves c st with
                        | p :: _, _ -> go (advance c st (Forward p))
                        | [], (_ :: _ as rs) -> go (advance c st (pick rng rs))
                        | [], [] -> failwith "PNRPS: the walk reached a state it cannot complete (bug)"
        go init

    /// Checks a path against every rule above; the error names the rule and the offending step (0-based).
    let validate (g: Grammar) (cfg: PnrpsConfig) (s: PnrpsSample) (p: ReasoningPath) : Result<unit, string> =
        let t = g.Taxonomy
        let lmax = maxLength t cfg
        let onPath = Set.ofList s.Label
        let leaf = Taxonomy.leaf s.Label
        let cueText = Cue.text
        let checkCue (i: int) (what: string) (cue: Cue) =
            if not (Availability.has cue.Modality s.Available) then
                Error(sprintf "modality: step %d %s %s, but the sample has no %s image" i what (cueText cue) (Modality.key cue.Modality))
            elif not (s.Cues.Contains cue) then
                Error(sprintf "annotation: step %d %s %s, which is not in the sample's annotation" i what (cueText cue))
            elif not (g.Templates.Cues.ContainsKey cue) then
                Error(sprintf "template: step %d %s %s, which has no clause template" i what (cueText cue))
            else Ok()
        let rec run (i: int) (stack: string list) (entered: Set<string>) (reflected: Set<string>) (observed: Set<Cue>)
                    (obsAt: Map<string, int>) (used: int) (steps: Step list) =
            let cur = match stack with n :: _ -> n | [] -> Taxonomy.root t
            match steps with
            | [] ->
                if List.rev stack <> s.Label then
                    Error(sprintf "end: the path ends with [%s] entered and not ruled out, not the true label [%s]"
                              (String.Join("; ", List.rev stack)) (String.Join("; ", s.Label)))
                else Ok()
            | _ when not stack.IsEmpty && cur = leaf && List.rev stack = s.Label ->
                Error(sprintf "end: step %d follows the forward step into the true leaf '%s', which must be the last step" i leaf)
            | step :: rest ->
                match step with
                | Start _ -> Error(sprintf "start: step %d is a second Start clause" i)
                | Observe cue ->
                    let k = obsAt.TryFind cur |> Option.defaultValue 0
                    match checkCue i "observes" cue with
                    | Error e -> Error e
                    | Ok() when observed.Contains cue -> Error(sprintf "observe-once: step %d observes %s a second time" i (cueText cue))
                    | Ok() when k >= cfg.MaxObservationsPerNode ->
                        Error(sprintf "observations: step %d is observation %d at node '%s' (at most %d)" i (k + 1) cur cfg.MaxObservationsPerNode)
                    | Ok() -> run (i + 1) stack entered reflected (observed.Add cue) (obsAt.Add(cur, k + 1)) used rest
                | Forward n ->
                    if not (Taxonomy.contains t n) || n = Taxonomy.root t then
                        Error(sprintf "depth-first: step %d enters '%s', which is not a taxonomy node" i n)
                    elif entered.Contains n then Error(sprintf "forward-once: step %d enters '%s' a second time" i n)
                    elif Taxonomy.parent t n <> Some cur then
                        Error(sprintf "depth-first: step %d enters '%s', which is not a child of the current node '%s'" i n cur)
                    elif used + 1 > lmax then
                        Error(sprintf "length: step %d is move %d, over the bound floor(alpha*(D-1)) = %d" i (used + 1) lmax)
                    else run (i + 1) (n :: stack) (entered.Add n) reflected observed obsAt (used + 1) rest
                | Reflect(n, cue) ->
                    if reflected.Contains n then Error(sprintf "reflect-once: step %d rules out '%s' a second time" i n)
                    elif stack.IsEmpty || cur <> n then
                        Error(sprintf "depth-first: step %d rules out '%s', but the current node is '%s'" i n cur)
                    elif onPath.Contains n then
                        Error(sprintf "evidence: step %d rules out '%s', which is on the true label path" i n)
                    else
                        match checkCue i "cites" cue with
                        | Error e -> Error e
                        | Ok() when (Taxonomy.compatible t n).Contains cue ->
                            Error(sprintf "evidence: step %d cites %s, which is compatible with '%s' and cannot rule it out" i (cueText cue) n)
                        | Ok() when used + 1 > lmax ->
                            Error(sprintf "length: step %d is move %d, over the bound floor(alpha*(D-1)) = %d" i (used + 1) lmax)
                        | Ok() -> run (i + 1) (List.tail stack) entered (reflected.Add n) observed obsAt (used + 1) rest
        match checkConfig cfg with
        | Error e -> Error("config: " + e)
        | Ok() ->
            if not (Taxonomy.isValidLabel t s.Label) then
                Error(sprintf "label: [%s] is not a root-to-leaf path of the taxonomy" (String.Join("; ", s.Label)))
            elif p.Answer <> s.Label then
                Error(sprintf "answer: the path answers [%s], not the true label [%s]" (String.Join("; ", p.Answer)) (String.Join("; ", s.Label)))
            else
                let avail = Availability.toList s.Available
                match p.Steps with
                | Start ms :: rest when ms = avail -> run 1 [] Set.empty Set.empty Set.empty Map.empty 0 rest
                | Start ms :: _ ->
                    Error(sprintf "start: Start names [%s], the sample has [%s]"
                              (String.Join(", ", ms |> List.map Modality.key)) (String.Join(", ", avail |> List.map Modality.key)))
                | _ -> Error "start: the path must begin with a Start clause"

    /// Samples N = cfg.Paths distinct valid paths for the sample, or all valid paths when fewer exist.
    /// Deterministic for a given seed (one System.Random(seed) drives every choice). If at most N paths exist
    /// (found by enumerating up to N + 1) they are all returned; otherwise random walks run until N distinct paths
    /// are found or MaxAttemptsFactor * N walks are spent, and the rest is filled from the enumeration, so exactly N
    /// come back. Each path's answer is the true label. Throws ArgumentException for an invalid config or a label
    /// that is not a root-to-leaf path of the taxonomy (callers filter with Taxonomy.isValidLabel).
    let sample (g: Grammar) (cfg: PnrpsConfig) (seed: int) (s: PnrpsSample) : ReasoningPath list =
        match checkConfig cfg with
        | Error e -> invalidArg (nameof cfg) ("PNRPS: " + e)
        | Ok() -> ()
        if not (Taxonomy.isValidLabel g.Taxonomy s.Label) then
            invalidArg (nameof s) (sprintf "PNRPS: label [%s] is not a root-to-leaf path of the taxonomy" (String.Join("; ", s.Label)))
        let toPath steps = { Steps = steps; Answer = s.Label }
        let n = cfg.Paths
        let few = enumerate g cfg s |> Seq.truncate (n + 1) |> List.ofSeq
        if few.Length <= n then few |> List.map toPath
        else
            let c = context g cfg s
            let rng = Random(seed)
            let seen = HashSet<Step list>(HashIdentity.Structural)
            let found = ResizeArray<Step list>()
            let mutable attempts = 0
            let budget = int (min (int64 Int32.MaxValue) (int64 cfg.MaxAttemptsFactor * int64 n))
            while found.Count < n && attempts < budget do
                attempts <- attempts + 1
                let steps = walk c cfg rng (start c s)
                if seen.Add steps then found.Add steps
            if found.Count < n then
                // The enumeration yields each path once; take just enough unseen ones.
                enumerate g cfg s
                |> Seq.filter (seen.Contains >> not)
                |> Seq.truncate (n - found.Count)
                |> Seq.iter found.Add
            found |> Seq.truncate n |> Seq.map toPath |> List.ofSeq
