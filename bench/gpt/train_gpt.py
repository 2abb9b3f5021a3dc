#!/usr/bin/python3
"""The PyTorch reference of `born train --model gpt` (src/train/gpt/, src/cli/train-gpt.ts).

The same run, step for step: the bytes of a text file over its own byte vocabulary, the last
10% for validation; the same LLaMA-style decoder (Meta's / llama2.c's model.py: RMSNorm,
interleaved RoPE with theta 10000, grouped-query attention, SwiGLU, an untied classifier) with
PyTorch's default initialisation, which Born's mirrors (Embedding N(0, 1), Linear U(+-1/sqrt(in)),
norm weights 1) from another random stream; the very same batches (Born's seeded permutation,
data/dataset.ts, re-implemented bit for bit below); AdamW (betas 0.9, 0.99, eps 1e-8, decoupled
weight decay on every parameter), LambdaLR with a linear warm-up into a cosine, clip_grad_norm_;
the validation loss (mean cross-entropy, nats per byte) over the same consecutive windows.

    /usr/bin/python3 bench/gpt/train_gpt.py --data /tmp/licenses.txt [--seed N] [--init FILE] [--steps 300 ...]

Flags and defaults are born train --model gpt's.
"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from export_models import read_safetensors  # noqa: E402  (bench/: its float32 safetensors reader)

M32 = 0xFFFFFFFF
BATCH_STREAM = 0x6770  # src/train/gpt/data.ts


def mix(h):
    h &= M32
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & M32
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def permutation(n, seed, stream=0):
    """Born's permutation(n, seed, stream) (src/data/dataset.ts): splitmix32 into Fisher-Yates."""
    s = (mix(mix(seed & M32) ^ (seed // 4294967296)) ^ mix(stream + 0x632BE5AB)) & M32
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        s = (s + 0x9E3779B9) & M32
        a = mix(s)
        s = (s + 0x9E3779B9) & M32
        b = mix(s) >> 11
        u = (a * 2097152 + b) / 9007199254740992.0
        j = math.floor(u * (i + 1))
        p[i], p[j] = p[j], p[i]
    return p


class WindowSampler:
    """src/train/gpt/data.ts's WindowSampler: a permutation of window starts per pass."""

    def __init__(self, ids, context, batch_size, seed):
        self.ids, self.t, self.b, self.seed = ids, context, batch_size, seed
        self.starts = len(ids) - context
        self.pass_, self.order = -1, None

    def starts_at(self, step):
        per_pass = self.starts // self.b
        p, k = divmod(step, per_pass)
        if p != self.pass_:
            self.order, self.pass_ = permutation(self.starts, self.seed, BATCH_STREAM + p), p
        return self.order[k * self.b:(k + 1) * self.b]

    def batch_at(self, step):
        return windows(self.ids, self.starts_at(step), self.t)


def windows(ids, starts, t):
    idx = torch.tensor(starts).unsqueeze(1) + torch.arange(t + 1)
    w = ids[idx]
    return w[:, :-1].contiguous(), w[:, 1:].contiguous()


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, max_pos, theta):
    freqs = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
    angles = torch.outer(torch.arange(max_pos).float(), freqs)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """Adjacent pairs (x[2i], x[2i+1]) rotated, as llama2.c; x [B, H, T, hd], cos/sin [T, hd/2]."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, dim, n_heads, n_kv_heads):
        super().__init__()
        self.h, self.hkv, self.hd = n_heads, n_kv_heads, dim // n_heads
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, n_kv_heads * self.hd, bias=False)
        self.wv = nn.Linear(dim, n_kv_heads * self.hd, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.wq(x).view(b, t, self.h, self.hd).transpose(1, 2)
        k = self.wk(x).view(b, t, self.hkv, self.hd).transpose(1, 2)
        v = self.wv(x).view(b, t, self.hkv, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        rep = self.h // self.hkv  # query head h reads kv head h // rep (llama2.c's repeat_kv)
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float('-inf'))
        y = F.softmax(att, dim=-1) @ v
        return self.wo(y.transpose(1, 2).reshape(b, t, self.h * self.hd))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c['dim'], c['heads'], c['kv_heads'])
        self.feed_forward = FeedForward(c['dim'], c['hidden'])
        self.attention_norm = RMSNorm(c['dim'], 1e-5)
        self.ffn_norm = RMSNorm(c['dim'], 1e-5)

    def forward(self, x, cos, sin):
        h = x + self.attention(self.attention_norm(x), cos, sin)
        return h + self.feed_forward(self.ffn_norm(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.tok_embeddings = nn.Embedding(c['vocab'], c['dim'])
        self.layers = nn.ModuleList([Block(c) for _ in range(c['layers'])])
        self.norm = RMSNorm(c['dim'], 1e-5)
        self.output = nn.Linear(c['dim'], c['vocab'], bias=False)
        cos, sin = rope_tables(c['dim'] // c['heads'], c['context'], 10000.0)
        self.register_buffer('cos', cos, persistent=False)
        self.register_buffer('sin', sin, persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        h = self.tok_embeddings(ids)
        for layer in self.layers:
            h = layer(h, self.cos[:t], self.sin[:t])
        return self.output(self.norm(h))


def warmup_cosine(steps, warmup, min_factor):
    """src/train/gpt/train.ts's warmupCosine."""
    def f(s):
        if s < warmup:
            return (s + 1) / warmup
        p = min(1.0, (s - warmup) / max(1, steps - 1 - warmup))
        return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * p))
    return f


@torch.no_grad()
def validation_loss(model, ids, t, batch_size):
    model.eval()
    count = (len(ids) - 1) // t
    total, n = 0.0, 0
    for w in range(0, count, batch_size):
        x, y = windows(ids, [(w + i) * t for i in range(min(batch_size, count - w))], t)
        logits = model(x)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction='sum').item()
        n += y.numel()
    model.train()
    return total / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', required=True)
    ap.add_argument('--init', help="start from these weights (born train --model gpt --save-init FILE) instead of PyTorch's init")
    for name, default in [('steps', 300), ('batch-size', 16), ('context', 64), ('dim', 128), ('layers', 4),
                          ('heads', 4), ('kv-heads', 2), ('hidden-dim', 0), ('warmup', 30), ('eval-interval', 50),
                          ('seed', 0), ('threads', 0)]:
        ap.add_argument('--' + name, type=int, default=default)
    for name, default in [('lr', 0.003), ('min-lr-factor', 0.1), ('weight-decay', 0.1), ('clip', 1.0)]:
        ap.add_argument('--' + name, type=float, default=default)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = open(a.data, 'rb').read()
    vocab = sorted(set(text))
    id_of = {b: i for i, b in enumerate(vocab)}
    ids = torch.tensor([id_of[b] for b in text], dtype=torch.long)
    n_train = len(text) - math.floor(len(text) * 0.1)
    train, val = ids[:n_train], ids[n_train:]
    c = dict(vocab=len(vocab), dim=a.dim, layers=a.layers, heads=a.heads, kv_heads=a.kv_heads,
             hidden=a.hidden_dim or 3 * a.dim, context=a.context)
    model = Llama(c)
    if a.init:
        # strict: every name and shape as Born's
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in read_safetensors(a.init).items()})
    n_params = sum(p.numel() for p in model.parameters())
    print(f'data: {a.data} ({len(text)} bytes, vocabulary of {len(vocab)} bytes; {len(train)} train, {len(val)} validation); '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads; seed {a.seed}')
    print(f'model: {c}, {n_params} parameters{", initial weights from " + a.init if a.init else ""}; {a.steps} steps of {a.batch_size} x {a.context} tokens, AdamW lr {a.lr} '
          f'(warm-up {a.warmup}, cosine to x{a.min_lr_factor}), weight decay {a.weight_decay}, clip {a.clip}')
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.99), eps=1e-8, weight_decay=a.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(a.steps, a.warmup, a.min_lr_factor))
    sampler = WindowSampler(train, a.context, a.batch_size, a.seed)
    print(f'first batch starts: {sampler.starts_at(0)}')
    t0 = time.perf_counter()
    window, k = 0.0, 0
    for step in range(a.steps):
        x, y = sampler.batch_at(step)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, c['vocab']), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        sched.step()
        window += loss.item()
        k += 1
        done = step + 1
        if done % a.eval_interval == 0 or done == a.steps:
            v = validation_loss(model, val, a.context, a.batch_size)
            print(f'step {done}/{a.steps}: train loss {window / k:.4f}, val loss {v:.4f} nats/token, '
                  f'lr {opt.param_groups[0]["lr"]:.2e}, grad norm {norm.item():.3f} ({time.perf_counter() - t0:.1f} s)', flush=True)
            window, k = 0.0, 0
    print(f'final validation loss: {v:.4f} nats/token')


if __name__ == '__main__':
    main()
