#!/usr/bin/env python3
"""PyTorch eager reference for `pafas bench`: the PA-FAS model (per-modality ViT patch encoders + a Qwen2/Llama-style
decoder: RMSNorm, rotary positions, SwiGLU, grouped-query attention, tied or untied output head) built from a preset of
data/models.json, timing the same SFT step (same batch, sequence length, loss, clipping, AdamW) and greedy decoding of
one face with and without a KV cache. Prints one JSON object (parameter count, analytic FLOPs per step, timings).

Runs with Debian's python3-torch 1.13 (no scaled_dot_product_attention there: attention is written out).

    /usr/bin/python3 scripts/reference_pytorch.py --preset small --vocab 151 --text-tokens 148 --prompt-tokens 16 --threads 2
    /usr/bin/python3 scripts/reference_pytorch.py --spec runs/bench/bench.json --threads 2   # workload from pafas bench

The FLOP formula is the one documented in PaFas.Host/Bench/Flops.cs (matrix products only, 2mnk each; a training step
is 3x forward minus one stem term).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def _threads_from_argv(argv):
    """--threads N (or --threads=N), read before torch is imported: OpenBLAS sizes its own thread pool at load."""
    for i, x in enumerate(argv):
        if x == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if x.startswith("--threads="):
            return x.split("=", 1)[1]
    return None


_t = _threads_from_argv(sys.argv[1:])
if _t and _t.isdigit() and int(_t) > 0:
    # Debian's torch calls BLAS through the generic libblas.so.3 (OpenBLAS here), whose pool torch.set_num_threads
    # does not size: fix it (and OpenMP's) to the same count, unless the caller set them.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", _t)
    os.environ.setdefault("OMP_NUM_THREADS", _t)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_preset(name, models_json):
    with open(models_json) as f:
        doc = json.load(f)
    presets = {k.lower(): v for k, v in doc["presets"].items()}
    if name not in presets:
        sys.exit(f"{models_json}: no preset '{name}' (presets: {', '.join(presets)})")
    return presets[name]


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt((xf * xf).mean(-1, keepdim=True) + self.eps)
        return y.to(x.dtype) * self.weight


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


def rope_tables(positions, head_dim, theta):
    inv = torch.tensor([theta ** (-2.0 * i / head_dim) for i in range(head_dim // 2)], dtype=torch.float32)
    freqs = positions.float().unsqueeze(-1) * inv
    emb = torch.cat([freqs, freqs], -1).unsqueeze(1)
    return emb.cos(), emb.sin()


def rope_apply(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, dim // heads
        self.wq = nn.Linear(dim, heads * self.hd, bias=False)
        self.wk = nn.Linear(dim, kv_heads * self.hd, bias=False)
        self.wv = nn.Linear(dim, kv_heads * self.hd, bias=False)
        self.wo = nn.Linear(heads * self.hd, dim, bias=False)

    def forward(self, x, cos, sin, mask, kc=None, vc=None, offset=0):
        b, s, _ = x.shape
        q = self.wq(x).view(b, s, self.heads, self.hd).transpose(1, 2)
        k = self.wk(x).view(b, s, self.kv_heads, self.hd).transpose(1, 2)
        v = self.wv(x).view(b, s, self.kv_heads, self.hd).transpose(1, 2)
        if cos is not None:
            q, k = rope_apply(q, cos, sin), rope_apply(k, cos, sin)
        if kc is not None:
            kc[:, :, offset:offset + s] = k
            vc[:, :, offset:offset + s] = v
            k, v = kc[:, :, :offset + s], vc[:, :, :offset + s]
        if self.heads != self.kv_heads:
            k = k.repeat_interleave(self.heads // self.kv_heads, 1)
            v = v.repeat_interleave(self.heads // self.kv_heads, 1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hd)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        o = torch.softmax(scores, -1) @ v
        return self.wo(o.transpose(1, 2).reshape(b, s, self.heads * self.hd))


class Block(nn.Module):
    def __init__(self, dim, heads, kv_heads, hidden, eps):
        super().__init__()
        self.attn_norm = RMSNorm(dim, eps)
        self.attn = Attention(dim, heads, kv_heads)
        self.mlp_norm = RMSNorm(dim, eps)
        self.mlp = SwiGLU(dim, hidden)

    def forward(self, x, cos=None, sin=None, mask=None, kc=None, vc=None, offset=0):
        h = x + self.attn(self.attn_norm(x), cos, sin, mask, kc, vc, offset)
        return h + self.mlp(self.mlp_norm(h))


class VisionEncoder(nn.Module):
    CHANNELS = (3, 1, 1)

    def __init__(self, c):
        super().__init__()
        vd, p = c["visionDim"], c["patchSize"]
        self.np = (c["imageSize"] // p) ** 2
        self.absent_tokens = c["absentTokens"]
        self.stems = nn.ModuleList([nn.Conv2d(ch, vd, p, stride=p) for ch in self.CHANNELS])
        self.pos = nn.ParameterList([nn.Parameter(torch.zeros(self.np, vd)) for _ in range(3)])
        self.modality = nn.Parameter(torch.zeros(3, vd))
        self.absent = nn.Parameter(torch.zeros(3, c["absentTokens"], vd))
        self.blocks = nn.ModuleList([Block(vd, c["visionHeads"], c["visionHeads"], c["visionMlpHidden"], c["normEps"])
                                     for _ in range(c["visionLayers"])])
        self.norm = RMSNorm(vd, c["normEps"])
        self.proj1 = nn.Linear(vd, c["dim"])
        self.proj2 = nn.Linear(c["dim"], c["dim"])

    def forward(self, images, present):
        slots = torch.arange(self.np) % self.absent_tokens
        parts = []
        for m in range(3):
            t = self.stems[m](images[m]).flatten(2).transpose(1, 2) + self.pos[m]
            a = self.absent[m].index_select(0, slots) + self.pos[m]
            pm = present[:, m].view(-1, 1, 1)
            parts.append(torch.where(pm, t, a.unsqueeze(0).expand_as(t)) + self.modality[m])
        x = torch.cat(parts, 1)
        for b in self.blocks:
            x = b(x)
        return self.proj2(F.gelu(self.proj1(self.norm(x))))


class PaFasModel(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        self.vn = 3 * (c["imageSize"] // c["patchSize"]) ** 2
        self.hd = c["dim"] // c["heads"]
        self.vision = VisionEncoder(c)
        self.embed = nn.Embedding(vocab, c["dim"])
        self.layers = nn.ModuleList([Block(c["dim"], c["heads"], c["kvHeads"], c["mlpHidden"], c["normEps"]) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["dim"], c["normEps"])
        self.head = None if c["tieEmbeddings"] else nn.Linear(c["dim"], vocab, bias=False)
        depth = c["layers"] + c["visionLayers"]
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("norm.weight"):
                    p.fill_(1.0)
                elif name.endswith(".bias"):
                    p.zero_()
                else:
                    std = 0.02 / math.sqrt(2.0 * max(1, depth)) if name.endswith(("wo.weight", "down.weight")) else 0.02
                    nn.init.normal_(p, 0.0, std)

    def new_cache(self, b, cap):
        c = self.c
        shape = (b, c["kvHeads"], cap, self.hd)
        return {"k": [torch.zeros(shape) for _ in self.layers], "v": [torch.zeros(shape) for _ in self.layers], "len": 0, "last": None}

    def forward(self, images, present, tokens, cache=None):
        """Right-aligned, unpadded batches (every sequence of the bench has the same length)."""
        b, t = tokens.shape
        vn = self.vn
        x = self.embed(tokens)
        if cache is None or cache["len"] == 0:
            x = torch.cat([self.vision(images, present), x], 1)
            positions = torch.arange(vn + t).unsqueeze(0).expand(b, vn + t)
            offset = 0
        else:
            offset = cache["len"]
            positions = cache["last"].unsqueeze(1) + torch.arange(1, t + 1).unsqueeze(0)
        s = x.shape[1]
        total = offset + s
        qi = torch.arange(offset, total).unsqueeze(1)
        kj = torch.arange(total).unsqueeze(0)
        mask = (kj <= qi) | (kj < vn)
        mask = mask.unsqueeze(0).unsqueeze(0)
        cos, sin = rope_tables(positions, self.hd, self.c["ropeTheta"])
        for i, layer in enumerate(self.layers):
            kc = cache["k"][i] if cache is not None else None
            vc = cache["v"][i] if cache is not None else None
            x = layer(x, cos, sin, mask, kc, vc, offset)
        if cache is not None:
            cache["len"] = total
            cache["last"] = positions[:, -1].clone()
        text = self.norm(x[:, s - t:])
        return F.linear(text, self.embed.weight) if self.head is None else self.head(text)


def forward_flops(c, vocab, t):
    """Same formula as PaFas.Host/Bench/Flops.cs: (total, stems) per sample."""
    p = c["patchSize"]
    np_ = (c["imageSize"] // p) ** 2
    nv, vd, d, l = 3 * np_, c["visionDim"], c["dim"], 3 * np_ + t
    kv = c["kvHeads"] * (d // c["heads"])
    stems = 2 * np_ * p * p * vd * (3 + 1 + 1)
    vision = c["visionLayers"] * (2 * nv * (4 * vd * vd + 3 * vd * c["visionMlpHidden"]) + 4 * nv * nv * vd)
    proj = 2 * nv * (vd * d + d * d)
    decoder = c["layers"] * (2 * l * (2 * d * d + 2 * d * kv + 3 * d * c["mlpHidden"]) + 4 * l * l * d)
    head = 2 * t * d * vocab
    return float(stems + vision + proj + decoder + head), float(stems)


def train_flops(c, vocab, t, batch):
    f, stems = forward_flops(c, vocab, t)
    return batch * (3 * f - stems)


def inputs(c, b, gen):
    s = c["imageSize"]
    images = [torch.rand(b, 3, s, s, generator=gen), torch.rand(b, 1, s, s, generator=gen), torch.rand(b, 1, s, s, generator=gen)]
    return images, torch.ones(b, 3, dtype=torch.bool)


def bench_sft(c, vocab, t, prompt, batch, repeat, steps, gen):
    model = PaFasModel(c, vocab)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    images, present = inputs(c, batch, gen)
    tokens = torch.randint(8, vocab, (batch, t), generator=gen)
    labels = torch.full((batch, t), -100, dtype=torch.long)
    labels[:, prompt - 1:t - 1] = tokens[:, prompt:]
    targets = int((labels != -100).sum())

    def step():
        opt.zero_grad()
        logits = model(images, present, tokens)
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), labels.reshape(-1), ignore_index=-100, reduction="sum") / targets
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        runs.append((time.perf_counter() - t0) / steps)
    return runs


def greedy(model, images, present, prompt, n, cached):
    with torch.no_grad():
        if cached:
            cache = model.new_cache(1, model.vn + prompt.shape[1] + n)
            logits = model(images, present, prompt, cache)
            out = []
            for k in range(n):
                nxt = int(logits[0, -1].argmax())
                out.append(nxt)
                if k == n - 1:
                    break
                logits = model(None, None, torch.tensor([[nxt]]), cache)
            return out
        seq = prompt
        out = []
        for _ in range(n):
            logits = model(images, present, seq)
            nxt = int(logits[0, -1].argmax())
            out.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], 1)
        return out


def bench_decode(c, vocab, prompt_len, news, repeat, gen, uncached):
    model = PaFasModel(c, vocab)
    model.eval()
    images, present = inputs(c, 1, gen)
    prompt = torch.randint(8, vocab, (1, prompt_len), generator=gen)
    greedy(model, images, present, prompt, 8, True)
    result = {"cached": {}, "uncached": {}}
    room = c["maxSeq"] - model.vn - prompt_len
    for n in news:
        if n > room:
            continue
        for kind in (["cached", "uncached"] if uncached else ["cached"]):
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                made = len(greedy(model, images, present, prompt, n, kind == "cached"))
                runs.append(made / (time.perf_counter() - t0))
            result[kind][str(n)] = statistics.median(runs)
    return result


def op_overhead_us(repeat, n=20000):
    """Microseconds per small operation (add of two 1 x 192 tensors), as pafas bench's decode.op_overhead_us."""
    a, b = torch.randn(1, 192), torch.randn(1, 192)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            a + b
        runs.append((time.perf_counter() - t0) * 1e6 / n)
    return statistics.median(runs)


def matmul_peak(n, repeat):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        rates.append(2.0 * n ** 3 / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", help="bench.json of `pafas bench` (preset, vocabulary, lengths are read from its spec)")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--models", default=os.path.join(ROOT, "data", "models.json"))
    ap.add_argument("--vocab", type=int, default=0)
    ap.add_argument("--text-tokens", type=int, default=148, help="prompt + completion + EOS per training sequence")
    ap.add_argument("--prompt-tokens", type=int, default=16)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--new-tokens", default="32,128,256")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = leave the default)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--what", default="sft,decode,matmul", help="comma list of sft, decode, uncached, matmul")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    if a.spec:
        with open(a.spec) as f:
            spec = json.load(f)["spec"]
        if not spec:
            sys.exit(f"{a.spec}: no spec (run pafas bench with a model target: sft, decode, ...)")
        a.preset, a.vocab, a.text_tokens, a.prompt_tokens = spec["preset"], spec["vocab"], spec["text_tokens"], spec["decode_prompt_tokens"]
        a.batches = ",".join(str(b) for b in spec["sft_batches"])
        a.new_tokens = ",".join(str(n) for n in spec["decode_new_tokens"])
    if a.vocab <= 8:
        sys.exit("--vocab: give the tokenizer's vocabulary size (or --spec bench.json)")
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    c = load_preset(a.preset, a.models)
    what = set(a.what.split(","))
    batches = [int(x) for x in a.batches.split(",")]
    model = PaFasModel(c, a.vocab)
    out = {
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""), "preset": a.preset, "vocab": a.vocab,
        "text_tokens": a.text_tokens, "visual_tokens": model.vn, "parameters": sum(p.numel() for p in model.parameters()),
        "sft_flops_per_step": {str(b): train_flops(c, a.vocab, a.text_tokens, b) for b in batches},
    }
    del model
    if "sft" in what:
        out["sft"] = {}
        for b in batches:
            steps = 2 if b >= 32 else 3 if b >= 8 else 10
            runs = bench_sft(c, a.vocab, a.text_tokens, a.prompt_tokens, b, a.repeat, steps, gen)
            med = statistics.median(runs)
            out["sft"][str(b)] = {"step_ms": med * 1e3, "samples_per_s": b / med, "tokens_per_s": b * a.text_tokens / med,
                                  "gflops": train_flops(c, a.vocab, a.text_tokens, b) / med / 1e9, "runs_ms": [r * 1e3 for r in runs]}
    if "decode" in what or "uncached" in what:
        out["op_overhead_us"] = op_overhead_us(a.repeat)
        out["decode"] = bench_decode(c, a.vocab, a.prompt_tokens, [int(x) for x in a.new_tokens.split(",")], a.repeat, gen, "uncached" in what)
    if "matmul" in what:
        out["matmul_peak_gflops"] = matmul_peak(2048, max(3, a.repeat)) / 1e9
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
