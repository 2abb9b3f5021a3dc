"""PyTorch peer: /usr/bin/python3 bench/peers/torch_peer.py --workload chain [--warmup W --reps R ...]

torch.set_num_threads(2) (Debian's torch defaults to 1 here), float32, no autograd
except in mlp-step / train-* (forward+backward, Adam training of the `born train` models).
gelu: torch.nn.functional.gelu, exact erf form (its default).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# export_models.py (one level up): the `born train` models and the exported weights' readers.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _common import (  # noqa: E402
    MLP_SIZES,
    N,
    SIZES,
    TRAIN_BATCH,
    blas_info,
    emit,
    fail_all,
    loss_check,
    parse_args,
    run_case,
    summarize,
    time_ms,
    time_steps,
    time_us,
)
from export_models import make_model  # noqa: E402

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


def mlp_step():
    def body():
        d = MLP_SIZES
        layers = []
        for i in range(len(d) - 1):
            layers += [torch.nn.Linear(d[i], d[i + 1]), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        params = list(model.parameters())
        x = torch.rand(TRAIN_BATCH, d[0])
        y = torch.randint(0, d[-1], (TRAIN_BATCH,))

        def step():
            with torch.enable_grad():
                loss = F.cross_entropy(model(x), y)
                gs = torch.autograd.grad(loss, params)
            loss.item()
            return gs

        return summarize("mlp_step", "ms", time_ms(step, a), note="torch.autograd.grad(loss, model.parameters()), eager")

    return [run_case("mlp_step", "ms", body)]


def train(which):
    cid = f"train_{which}"

    def body():
        model = make_model(which)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(TRAIN_BATCH, 1, 28, 28)
        y = torch.randint(0, 10, (TRAIN_BATCH,))
        losses = []

        def step():
            with torch.enable_grad():
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
            losses.append(loss.item())

        samples, slow = time_steps(step, a)
        return summarize(cid, "ms", samples, samples=TRAIN_BATCH, check=loss_check(losses[0], losses[-1], len(losses)), note=slow)

    return [run_case(cid, "ms", body)]


def infer(which):
    """The exported weights (bench/export_models.py), eval mode, no_grad (set above).
    One call: torch.from_numpy(x) -> model -> .numpy()."""
    import numpy as np
    from export_models import load_model, read_safetensors

    out = []
    try:
        if os.environ.get("BORN_BENCH_MODELS_ERROR"):
            raise RuntimeError(os.environ["BORN_BENCH_MODELS_ERROR"])
        d = os.environ["BORN_BENCH_MODELS"]
        model = load_model(which, d)
        io = read_safetensors(os.path.join(d, "io.safetensors"))
    except Exception as e:  # noqa: BLE001
        return fail_all(f"infer-{which}", f"cannot load the exported model: {type(e).__name__}: {e}")
    for batch in (1, 256):
        cid = f"infer_{which}_{batch}"

        def body(batch=batch, cid=cid):
            x = np.array(io["input"][:batch])  # a writable copy: torch.from_numpy warns on read-only buffers
            ref = io[f"{which}_out"][:batch]
            got = [None]

            def f():
                got[0] = model(torch.from_numpy(x)).numpy()

            plan = a if batch == 1 else argparse.Namespace(**{**vars(a), "warmup": min(a.warmup, 3)})
            r = summarize(cid, "ms", time_ms(f, plan), samples=batch if batch > 1 else None, note="model.eval(), torch.no_grad()")
            err = float(np.abs(got[0] - ref).max())
            r["check"] = f"ok (max |Δ| {err:.1e} from the exported logits)" if err <= 2e-5 else f"WRONG: max |Δ| {err:.1e} from the exported logits"
            return r

        out.append(run_case(cid, "ms", body))
    return out


def embedding_bwd():
    def body():
        V, D, T = 32000, 256, 512
        W = torch.randn(V, D, requires_grad=True)
        ids = torch.randint(0, V, (T,))
        dy = torch.randn(T, D)

        def step():
            with torch.enable_grad():
                return torch.autograd.grad(F.embedding(ids, W), W, dy)

        return summarize("embedding_bwd", "ms", time_ms(step, a), note="torch.autograd.grad(F.embedding(ids, W), W, dy), dense")

    return [run_case("embedding_bwd", "ms", body)]


cases = {
    "chain": chain,
    "reduce": reduce,
    "matmul": matmul,
    "overhead": overhead,
    "mlp-step": mlp_step,
    "train-mlp": lambda: train("mlp"),
    "train-cnn": lambda: train("cnn"),
    "infer-mlp": lambda: infer("mlp"),
    "infer-cnn": lambda: infer("cnn"),
    "embedding-bwd": embedding_bwd,
}[a.workload]()
emit(peer, a.workload, f"torch {torch.__version__}, {torch.get_num_threads()} threads, {blas_info()}", cases)
