#!/usr/bin/python3
"""PyTorch reference for `born train` (issue 4): the same models, data, optimiser and loop.

    /usr/bin/python3 bench/pytorch_fashion_mnist.py                  # MLP 2 epochs, then CNN 1 epoch
    /usr/bin/python3 bench/pytorch_fashion_mnist.py --models cnn --epochs-cnn 2 --threads 2

Fashion-MNIST from the IDX files of Debian's `dataset-fashion-mnist`
(/usr/share/datasets/fashion-mnist/*.gz, read with gzip + numpy; --data DIR for another place).
Pixels / 255 as float32 (no normalisation), [N, 1, 28, 28]; labels int64.
Models as src/cli/models.ts, PyTorch's default initialisation:
  mlp: Flatten, Linear 784-512, ReLU, Linear 512-256, ReLU, Linear 256-10
  cnn: Conv 1→32 3x3, ReLU, MaxPool 2, Conv 32→64 3x3, ReLU, MaxPool 2 (no padding: 28→26→13→11→5),
       Flatten, Linear 1600-128, ReLU, Linear 128-10
Adam lr 1e-3, batch 256 (the last batch smaller), the training set shuffled every epoch,
mean softmax cross-entropy. After each epoch: the mean training loss and accuracy, the test
loss and accuracy (batches of 1000, eval mode, no grad), and samples/s of the training loop
(the time of the epoch's steps, as `born train` reports it: batching, forward, backward,
update, reading the loss and the hit count; evaluation not included).

torch.set_num_threads(2) by default (Debian's torch starts with 1 thread here). With Debian's
OpenBLAS 0.3.21 on a recent Xeon, set OPENBLAS_CORETYPE=SkylakeX (or Haswell) to avoid its
slow generic kernels; bench/run.ts does the same for its peers. --json FILE writes the figures.
"""

import argparse
import gzip
import json
import os
import platform
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from export_models import make_model  # the `born train` models, shared with the benchmark peers

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array: images uint8 [N, 28, 28], labels uint8 [N]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (header {raw[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
    return data.reshape(dims)


def find(dir_, stem):
    for name in (f"{stem}.gz", stem):
        p = os.path.join(dir_, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{stem}(.gz) not found in {dir_}")


def load_split(dir_, split):
    images = read_idx(find(dir_, f"{split}-images-idx3-ubyte"))
    labels = read_idx(find(dir_, f"{split}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255)).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    loss = hits = 0.0
    for i in range(0, len(x), batch):
        logits = model(x[i : i + batch])
        loss += F.cross_entropy(logits, y[i : i + batch], reduction="sum").item()
        hits += (logits.argmax(1) == y[i : i + batch]).sum().item()
    model.train()
    return loss / len(x), hits / len(x)


def train(which, epochs, train_set, test_set, args):
    torch.manual_seed(args.seed)
    model = make_model(which)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    x, y = train_set
    gen = torch.Generator().manual_seed(args.seed)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        loss_sum = hits = n = 0.0
        t0 = time.perf_counter()
        for i in range(0, len(x), args.batch_size):
            idx = order[i : i + args.batch_size]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            b = len(idx)
            loss_sum += loss.item() * b
            hits += (logits.detach().argmax(1) == yb).sum().item()
            n += b
        seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(model, *test_set)
        ev = {
            "model": which,
            "epoch": epoch,
            "loss": loss_sum / n,
            "accuracy": hits / n,
            "test_loss": test_loss,
            "test_accuracy": test_acc,
            "samples_per_second": n / seconds,
            "seconds": seconds,
        }
        history.append(ev)
        print(
            f"{which} epoch {epoch}/{epochs}: loss {ev['loss']:.4f}, accuracy {100 * ev['accuracy']:.2f}%, "
            f"test loss {test_loss:.4f}, test accuracy {100 * test_acc:.2f}%, "
            f"{ev['samples_per_second']:,.0f} samples/s ({seconds:.1f} s)",
            flush=True,
        )
    return history


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DATA, help=f"folder of the IDX files (default {DATA})")
    p.add_argument("--models", default="mlp,cnn", help="comma-separated: mlp, cnn")
    p.add_argument("--epochs-mlp", type=int, default=2)
    p.add_argument("--epochs-cnn", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write the per-epoch figures here")
    args = p.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in ("mlp", "cnn"):
            p.error(f"unknown model {m} (mlp, cnn)")

    torch.set_num_threads(args.threads)
    train_set = load_split(args.data, "train")
    test_set = load_split(args.data, "t10k")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, python {platform.python_version()}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
        f"data {args.data}: {len(train_set[0])} train, {len(test_set[0])} test; "
        f"Adam lr {args.lr}, batch {args.batch_size}, seed {args.seed}",
        flush=True,
    )
    results = []
    for m in models:
        results += train(m, args.epochs_mlp if m == "mlp" else args.epochs_cnn, train_set, test_set, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
