namespace PaFas.Core

open System

/// How SFT chains are permuted (PA-FAS, "answer shuffling", and the "path shuffle" diagnostic).
type ShuffleMode =
    /// Each chain keeps its reasoning (steps); its answer becomes another chain's answer.
    | AnswerShuffle
    /// The reverse diagnostic: each chain keeps its answer; its reasoning steps become another chain's.
    | PathShuffle
    /// Chains are left as they are.
    | NoShuffle

/// One SFT chain: the reasoning steps and the answer it is trained with, and the sample's true label. Its text is
/// rendered only at the edge (`Grammar.render`); a raw-label chain has no steps.
type Chain =
    { SampleId: string
      Steps: Step list
      Answer: Label
      TrueLabel: Label }

[<RequireQualifiedAccess>]
module Shuffle =
    /// Reads "answer", "path" or "none" (case-insensitive, surrounding whitespace ignored).
    let parseMode (s: string) : Result<ShuffleMode, string> =
        match (if isNull s then "" else s.Trim().ToLowerInvariant()) with
        | "answer" -> Ok AnswerShuffle
        | "path" -> Ok PathShuffle
        | "none" -> Ok NoShuffle
        | other -> Error(sprintf "shuffle must be answer, path or none, got '%s'" other)

    /// "answer", "path" or "none" (the inverse of `parseMode`).
    let toText =
        function
        | AnswerShuffle -> "answer"
        | PathShuffle -> "path"
        | NoShuffle -> "none"

    /// A seeded random permutation p over positions 0..n-1 (position i takes the item at p[i]) that moves items
    /// between different groups (samples) where possible: uniform random first, then each position that kept an
    /// item of its own group swaps with a random position where the swap sends both items across groups. Such a
    /// partner always exists while the group holds at most half of the items, so then no item stays in its group;
    /// when one group holds more than half, exactly 2*size - n of its items must and do stay (the fewest possible).
    let permutation (seed: int) (groups: string[]) : int[] =
        let n = groups.Length
        let rng = Random(seed)
        let p = Array.init n id
        for i in n - 1 .. -1 .. 1 do
            let j = rng.Next(i + 1)
            let t = p[i]
            p[i] <- p[j]
            p[j] <- t
        let stays i = groups[p[i]] = groups[i]
        // A swap of i and j sends both across groups when neither receives an item of its own group.
        let fixes i j = groups[p[j]] <> groups[i] && groups[p[i]] <> groups[j]
        let order = Array.init n id
        for k in n - 1 .. -1 .. 1 do
            let j = rng.Next(k + 1)
            let t = order[k]
            order[k] <- order[j]
            order[j] <- t
        // Passes until no swap helps: a swap never makes a position stay, so this terminates, and at the end a
        // position still in its own group has no partner at all, which only happens in a group holding over half.
        let mutable changed = true
        while changed do
          changed <- false
          for i in order do
            if stays i then
                // A few random probes, then a scan from a random offset (linear only in hard cases).
                let mutable partner = -1
                let mutable tries = 0
                while partner < 0 && tries < 32 do
                    let j = rng.Next n
                    if fixes i j then partner <- j
                    tries <- tries + 1
                if partner < 0 then
                    let off = rng.Next n
                    let mutable k = 0
                    while partner < 0 && k < n do
                        let j = (off + k) % n
                        if fixes i j then partner <- j
                        k <- k + 1
                if partner >= 0 then
                    let t = p[i]
                    p[i] <- p[partner]
                    p[partner] <- t
                    changed <- true
        p

    /// Applies the shuffle; the order of chains, their sample ids and true labels are kept. Answer shuffle permutes
    /// the answers over the whole set, path shuffle the reasoning steps (both with `permutation` over sample ids).
    let apply (mode: ShuffleMode) (seed: int) (chains: Chain list) : Chain list =
        match mode with
        | NoShuffle -> chains
        | AnswerShuffle | PathShuffle ->
            let arr = List.toArray chains
            let p = permutation seed (arr |> Array.map (fun c -> c.SampleId))
            arr
            |> Array.mapi (fun i c ->
                let src = arr[p[i]]
                match mode with
                | AnswerShuffle -> { c with Answer = src.Answer }
                | _ -> { c with Steps = src.Steps })
            |> List.ofArray
