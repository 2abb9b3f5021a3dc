"""PyTorch peer: /usr/bin/python3 bench/peers/torch_peer.py --workload chain [--warmup W --reps R ...]

torch.set_num_threads(2) (Debian's torch defaults to 1 here), float32, no autograd.
gelu: torch.nn.functional.gelu, exact erf form (its default).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import N, SIZES, blas_info, emit, fail_all, parse_args, run_case, summarize, time_ms, time_us  # noqa: E402

a = parse_args()
peer = "torch"
try:
    import torch
except Exception as e:  # noqa: BLE001
    emit(peer, a.workload, "", fail_all(a.workload, f"torch not importable: {e}"))
    sys.exit(0)

THREADS = int(os.environ.get("BORN_BENCH_TORCH_THREADS", "2"))
torch.set_num_threads(THREADS)
torch.set_grad_enabled(False)
torch.manual_seed(1)
F = torch.nn.functional


def chain():
    def body():
        x = torch.randn(N, N)
        f = lambda: (F.gelu(x * 1.5 + 0.5) * x).sum(dim=1).numpy()  # noqa: E731
        return summarize("chain", "ms", time_ms(f, a), note="F.gelu (exact erf)")

    return [run_case("chain", "ms", body)]


def reduce():
    x = torch.randn(N, N)
    fns = {
        "sum_all": lambda: x.sum().numpy(),
        "sum_dim0": lambda: x.sum(dim=0).numpy(),
        "sum_dim1": lambda: x.sum(dim=1).numpy(),
    }
    return [run_case(k, "ms", lambda f=f, k=k: summarize(k, "ms", time_ms(f, a))) for k, f in fns.items()]


def matmul():
    out = []
    for n in SIZES:
        A, B = torch.randn(n, n), torch.randn(n, n)
        cid = f"matmul_{n}"
        out.append(run_case(cid, "ms", lambda A=A, B=B, cid=cid, n=n: summarize(cid, "ms", time_ms(lambda: (A @ B).numpy(), a), flops=2 * n**3)))
    return out


def overhead():
    def add():
        x = torch.tensor([1.0])
        return summarize("overhead_add", "us", time_us(lambda: (x + 1).numpy(), a), note="torch is eager: .numpy() as data()")

    def tensor_add():
        return summarize("overhead_tensor_add", "us", time_us(lambda: (torch.tensor([1.0]) + 1).numpy(), a))

    return [run_case("overhead_add", "us", add), run_case("overhead_tensor_add", "us", tensor_add)]


cases = {"chain": chain, "reduce": reduce, "matmul": matmul, "overhead": overhead}[a.workload]()
emit(peer, a.workload, f"torch {torch.__version__}, {torch.get_num_threads()} threads, {blas_info()}", cases)
