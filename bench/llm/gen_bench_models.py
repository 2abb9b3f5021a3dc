"""Random LLaMA GGUF files for bench/llm.ts: ~100M parameters (dim 768, 16 layers, hidden 2048,
12 heads, 4 kv heads, context 1024, the fixtures' SentencePiece-style vocabulary) in f32 and q8_0.

    /usr/bin/python3 bench/llm/gen_bench_models.py [DIR]    # default /tmp/born-llm-bench

The files (~400 MB and ~110 MB) are never committed. The weights and the metadata come from the
GGUF fixtures' generator (test/llm/fixtures/gguf: gen_gguf.random_weights, arch_meta, quants,
gguf_write, vocab), so the bench reads the same layout as the loader's tests. The two output
projections of each block (attn_output, ffn_down) are scaled by 1/sqrt(2 * layers), GPT-2's
residual scaling, so that the residual stream keeps unit size through the 16 layers and the logits
stay sane (greedy decoding gives varied tokens rather than NaNs or a constant).
"""
import math
import os
import sys

import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'llm', 'fixtures', 'gguf')
sys.path.insert(0, FIXTURES)
from gen_gguf import arch_meta, random_weights  # noqa: E402
from gguf_write import write_gguf  # noqa: E402
from quants import TYPE_IDS, quantize  # noqa: E402
from vocab import spm_vocab  # noqa: E402

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, CONTEXT = 768, 2048, 16, 12, 4, 1024
FILE_TYPE = {'f32': 0, 'q8_0': 7}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else '/tmp/born-llm-bench'
    os.makedirs(out_dir, exist_ok=True)
    tokens, tok_meta = spm_vocab()
    cfg = dict(dim=DIM, hidden_dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS, n_kv_heads=KV_HEADS,
               vocab_size=len(tokens), seq_len=CONTEXT, eps=1e-5, theta=10000.0)
    w = random_weights(np.random.default_rng(100), DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, len(tokens), tied=False)
    residual = np.float32(1.0 / math.sqrt(2 * LAYERS))
    for name in w:
        if name.endswith(('attn_output.weight', 'ffn_down.weight')):
            w[name] *= residual
    params = sum(a.size for a in w.values())
    for ty in ('f32', 'q8_0'):
        name = 'llama-100m-%s' % ty
        meta = arch_meta('llama', cfg, name, [('general.file_type', 'uint32', FILE_TYPE[ty])]) + tok_meta
        tensors = []
        for n, a in w.items():
            t = ty if a.ndim == 2 else 'f32'  # norms stay f32, as llama.cpp's quantize leaves them
            tensors.append((n, TYPE_IDS[t], list(a.shape), quantize(t, a)))
        path = os.path.join(out_dir, name + '.gguf')
        size = write_gguf(path, meta, tensors)
        del tensors
        print('%s: %d parameters, %d bytes' % (path, params, size))


if __name__ == '__main__':
    main()
