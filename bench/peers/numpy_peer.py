"""numpy peer: /usr/bin/python3 bench/peers/numpy_peer.py --workload chain [--warmup W --reps R ...]

Idiomatic numpy, float32 throughout. The chain's exact gelu needs erf: scipy.special.erf
when scipy is importable, else the tanh form of gelu (footnoted in the table).
Matmul goes to whatever BLAS numpy is linked with (Debian: libopenblas0-pthread if installed).
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import N, SIZES, blas_info, emit, fail_all, parse_args, run_case, summarize, time_ms, time_us  # noqa: E402

a = parse_args()
peer = "numpy"
try:
    import numpy as np
except Exception as e:  # noqa: BLE001
    emit(peer, a.workload, "", fail_all(a.workload, f"numpy not importable: {e}"))
    sys.exit(0)


rng = np.random.default_rng(1)
randn = lambda *shape: rng.standard_normal(shape, dtype=np.float32)  # noqa: E731

C0 = np.float32(math.sqrt(2 / math.pi))
gelu_tanh = lambda v: 0.5 * v * (1 + np.tanh(C0 * (v + np.float32(0.044715) * v * v * v)))  # noqa: E731
try:
    from scipy.special import erf

    gelu_note = "gelu exact: scipy.special.erf"
    gelu = lambda v: 0.5 * v * (1 + erf(v * np.float32(math.sqrt(0.5))))  # noqa: E731
except Exception:  # noqa: BLE001
    erf = None
    gelu_note = "scipy missing: gelu in its tanh form (not exact erf)"
    gelu = gelu_tanh


def chain():
    def body():
        x = randn(N, N)
        f = lambda: np.sum(gelu(x * np.float32(1.5) + np.float32(0.5)) * x, axis=1)  # noqa: E731
        y = f()
        assert y.dtype == np.float32 and y.shape == (N,), (y.dtype, y.shape)
        note = gelu_note
        if erf is not None:
            # scipy's float32 erf is slow (it goes through double); show the tanh form's time too
            g = lambda: np.sum(gelu_tanh(x * np.float32(1.5) + np.float32(0.5)) * x, axis=1)  # noqa: E731
            t = summarize("chain", "ms", time_ms(g, a))
            note += f" (with the tanh-form gelu instead: {t['median']:.0f} ms)"
        return summarize("chain", "ms", time_ms(f, a), note=note)

    return [run_case("chain", "ms", body)]


def reduce():
    x = randn(N, N)
    fns = {"sum_all": lambda: x.sum(), "sum_dim0": lambda: x.sum(axis=0), "sum_dim1": lambda: x.sum(axis=1)}
    return [run_case(k, "ms", lambda f=f, k=k: summarize(k, "ms", time_ms(f, a))) for k, f in fns.items()]


def matmul():
    out = []
    for n in SIZES:
        A, B = randn(n, n), randn(n, n)
        cid = f"matmul_{n}"
        out.append(run_case(cid, "ms", lambda A=A, B=B, cid=cid, n=n: summarize(cid, "ms", time_ms(lambda: A @ B, a), flops=2 * n**3)))
    return out


def overhead():
    one = np.float32(1)

    def add():
        x = np.array([1], dtype=np.float32)
        return summarize("overhead_add", "us", time_us(lambda: x + one, a), note="numpy is eager: no data() step")

    def tensor_add():
        return summarize("overhead_tensor_add", "us", time_us(lambda: np.array([1], dtype=np.float32) + one, a))

    return [run_case("overhead_add", "us", add), run_case("overhead_tensor_add", "us", tensor_add)]


work = {"chain": chain, "reduce": reduce, "matmul": matmul, "overhead": overhead}.get(a.workload)
cases = work() if work else fail_all(a.workload, "not applicable (no autodiff)")
emit(peer, a.workload, f"numpy {np.__version__}, {blas_info()}", cases)
