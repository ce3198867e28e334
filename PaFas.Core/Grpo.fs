namespace PaFas.Core

/// What a group's centred rewards are divided by.
type AdvantageScale =
    /// (r - group mean) / (group std + eps): the original GRPO (TRL scale_rewards = "group").
    | GroupScale
    /// (r - group mean) / (batch std + eps), the std taken over every reward of the batch (TRL "batch").
    | BatchScale
    /// r - group mean (Dr. GRPO; TRL scale_rewards = "none").
    | NoScale

/// How per-token losses become one scalar (TRL's loss_type names).
type LossAggregation =
    /// "grpo": mean over each completion's tokens, then mean over completions (long completions weigh less per token).
    | GrpoAgg
    /// "bnpo": sum over all tokens / number of tokens in the batch.
    | Bnpo
    /// "dr_grpo": sum over all tokens / (completions * maxLen), maxLen = the generation limit (a constant).
    | DrGrpo
    /// "dapo": sum over all tokens / number of tokens in the whole global batch. In TRL the denominator counts the
    /// tokens of every micro-batch of a gradient-accumulation step on every process, whereas bnpo counts the
    /// tokens of the local micro-batch only. Over one batch (what `aggregate` sees) the two are equal;
    /// `aggregateGlobal` takes the global count.
    | Dapo

/// Which standard deviation the advantages divide by.
type StdConvention =
    /// sqrt(sum (r - mean)^2 / (n - 1)): Bessel-corrected, what torch.std and TRL use. The default.
    | Bessel
    /// sqrt(sum (r - mean)^2 / n).
    | Population

/// GRPO arithmetic as pure functions over arrays. The host's TorchSharp loss is tested equal to these.
[<RequireQualifiedAccess>]
module Grpo =
    /// The eps added to the std (TRL uses 1e-4).
    let defaultEps = 1e-4

    let private mean (xs: float[]) = if xs.Length = 0 then 0.0 else Array.average xs

    /// Standard deviation; 0 when it is undefined (no values, or one value under Bessel).
    let std (convention: StdConvention) (xs: float[]) =
        let n = xs.Length
        let d = match convention with Bessel -> n - 1 | Population -> n
        if d <= 0 then 0.0
        else
            let m = mean xs
            sqrt ((xs |> Array.sumBy (fun x -> (x - m) * (x - m))) / float d)

    /// Group-relative advantages, one inner array per group (the G completions of one prompt):
    /// A_i = (r_i - mean(group)) / (s + eps), with s per `scale` (NoScale: A_i = r_i - mean, eps unused).
    /// A group whose rewards all tie (a one-completion group included) gets exact zeros (no rounding residue; torch
    /// would give NaN for one completion under Bessel).
    let advantagesWith (convention: StdConvention) (scale: AdvantageScale) (eps: float) (rewards: float[][]) : float[][] =
        let batchStd = lazy (std convention (Array.concat rewards))
        rewards
        |> Array.map (fun group ->
            if group.Length > 0 && group |> Array.forall (fun r -> r = group[0]) then Array.zeroCreate group.Length
            else
                let m = mean group
                let centred = group |> Array.map (fun r -> r - m)
                match scale with
                | NoScale -> centred
                | GroupScale ->
                    let s = std convention group
                    centred |> Array.map (fun c -> c / (s + eps))
                | BatchScale -> centred |> Array.map (fun c -> c / (batchStd.Value + eps)))

    /// Group-relative advantages with the Bessel-corrected std (TRL's convention).
    let advantages (scale: AdvantageScale) (eps: float) (rewards: float[][]) : float[][] =
        advantagesWith Bessel scale eps rewards

    /// Fraction of non-empty groups whose rewards are all equal (zero std, so zero advantages and no learning
    /// signal); 0 when there are no non-empty groups.
    let zeroStdFraction (rewards: float[][]) : float =
        let groups = rewards |> Array.filter (fun g -> g.Length > 0)
        if groups.Length = 0 then 0.0
        else
            let zeroStd = groups |> Array.filter (fun g -> g |> Array.forall (fun r -> r = g[0])) |> Array.length
            float zeroStd / float groups.Length

    /// Reads "group", "batch", "none" (TRL's scale_rewards; "true"/"false" also accepted).
    let parseScale (s: string) : Result<AdvantageScale, string> =
        match (if isNull s then "" else s.Trim().ToLowerInvariant()) with
        | "group" | "true" -> Ok GroupScale
        | "batch" -> Ok BatchScale
        | "none" | "false" -> Ok NoScale
        | other -> Error(sprintf "unknown advantage scale '%s' (expected group, batch or none)" other)

    let scaleText = function GroupScale -> "group" | BatchScale -> "batch" | NoScale -> "none"

    /// Reads "grpo", "bnpo", "dr_grpo" (also "dr-grpo", "drgrpo"), "dapo".
    let parseAggregation (s: string) : Result<LossAggregation, string> =
        match (if isNull s then "" else s.Trim().ToLowerInvariant()) with
        | "grpo" -> Ok GrpoAgg
        | "bnpo" -> Ok Bnpo
        | "dr_grpo" | "dr-grpo" | "drgrpo" -> Ok DrGrpo
        | "dapo" -> Ok Dapo
        | other -> Error(sprintf "unknown loss aggregation '%s' (expected grpo, bnpo, dr_grpo or dapo)" other)

    let aggregationText = function GrpoAgg -> "grpo" | Bnpo -> "bnpo" | DrGrpo -> "dr_grpo" | Dapo -> "dapo"

    /// The weight of every token of each completion, so that loss = sum_i weight_i * sum_t perToken[i][t]
    /// (the host multiplies its masked per-token loss by these). `lengths` = completion token counts;
    /// `globalTokens` = the token count Dapo divides by. Raises ArgumentException when a DrGrpo length exceeds
    /// maxLen or maxLen < 1 for DrGrpo. Empty completions get weight 0 under GrpoAgg (TRL clamps their length to 1).
    let tokenWeightsGlobal (agg: LossAggregation) (maxLen: int) (globalTokens: int) (lengths: int[]) : float[] =
        let n = lengths.Length
        let total = Array.sum lengths
        let over (d: int) = if d <= 0 then 0.0 else 1.0 / float d
        match agg with
        | GrpoAgg -> lengths |> Array.map (fun l -> if n = 0 then 0.0 else 1.0 / (float n * float (max l 1)))
        | Bnpo -> Array.create n (over total)
        | Dapo -> Array.create n (over globalTokens)
        | DrGrpo ->
            if n > 0 && maxLen < 1 then invalidArg "maxLen" (sprintf "dr_grpo needs maxLen >= 1, got %d" maxLen)
            match lengths |> Array.tryFind (fun l -> l > maxLen) with
            | Some l -> invalidArg "maxLen" (sprintf "dr_grpo: a completion has %d tokens, more than maxLen = %d" l maxLen)
            | None -> Array.create n (over (n * maxLen))

    /// Token weights for one batch (Dapo counts this batch's tokens, so it equals Bnpo).
    let tokenWeights (agg: LossAggregation) (maxLen: int) (lengths: int[]) : float[] =
        tokenWeightsGlobal agg maxLen (Array.sum lengths) lengths

    /// Aggregates with an explicit global token count for Dapo (the other modes ignore it).
    let aggregateGlobal (agg: LossAggregation) (maxLen: int) (globalTokens: int) (perToken: float[][]) : float =
        let w = tokenWeightsGlobal agg maxLen globalTokens (perToken |> Array.map Array.length)
        Array.fold2 (fun acc wi (ts: float[]) -> acc + wi * Array.sum ts) 0.0 w perToken

    /// One scalar from per-token losses: perToken[i] holds completion i's token losses (its length = its
    /// completion token count). GrpoAgg: mean_i (sum_t l_it / |i|); Bnpo, Dapo: sum l / sum |i|;
    /// DrGrpo: sum l / (n * maxLen). 0 for an empty batch.
    let aggregate (agg: LossAggregation) (maxLen: int) (perToken: float[][]) : float =
        aggregateGlobal agg maxLen (perToken |> Array.sumBy Array.length) perToken

    /// The clipped surrogate of one token (to be maximised): min(ratio * A, clip(ratio, 1 - epsLow, 1 + epsHigh) * A),
    /// ratio = pi_theta / pi_old = exp(logp - oldLogp). epsLow = epsHigh = 0.2 is PPO/GRPO; DAPO raises epsHigh.
    let clippedObjective (epsLow: float) (epsHigh: float) (ratio: float) (advantage: float) : float =
        let clipped = max (1.0 - epsLow) (min (1.0 + epsHigh) ratio)
        min (ratio * advantage) (clipped * advantage)

    /// The k3 estimator of KL(pi_theta || pi_ref) at one token: exp(ref - logp) - (ref - logp) - 1 (>= 0).
    let klK3 (logp: float) (refLogp: float) : float =
        let d = refLogp - logp
        exp d - d - 1.0

    /// The per-token loss the host minimises: -(clippedObjective(exp(logp - oldLogp), A) - beta * klK3(logp, refLogp)).
    let tokenLoss (epsLow: float) (epsHigh: float) (beta: float) (logp: float) (oldLogp: float) (refLogp: float) (advantage: float) : float =
        let surrogate = clippedObjective epsLow epsHigh (exp (logp - oldLogp)) advantage
        let kl = if beta = 0.0 then 0.0 else beta * klK3 logp refLogp
        -(surrogate - kl)
