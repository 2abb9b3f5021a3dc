"""The models of the inference workloads, with one set of weights for every peer.

    /usr/bin/python3 bench/export_models.py OUT_DIR

Builds the `born train` models (src/cli/models.ts) with PyTorch layers, in Born's layout and
parameter names (nn.Sequential indices: Born's Sequential names its children the same way,
Linear weights [out, in], Conv2d weights [out, in, kh, kw], NCHW, flatten in C, H, W order),
initialised from a fixed seed, and writes into OUT_DIR:

  mlp.safetensors, cnn.safetensors   the state dicts, float32 (what Born's load() reads)
  mlp.onnx, cnn.onnx                 the same models for onnxruntime, opset 13, input "x"
                                     [batch, 1, 28, 28], output "y" [batch, 10], dynamic batch
  matmul.onnx                        one MatMul node, inputs "a" [n, k] and "b" [k, m], output "c"
  io.safetensors                     "input" [256, 1, 28, 28] in [0, 1) and PyTorch's outputs for
                                     it, "mlp_out" and "cnn_out" [256, 10] (eval mode, float32)
  manifest.json                      versions and the seed

bench/run.ts runs this once into dist-bench/models/ (again when this file changes); the peers
read the files from there ($BORN_BENCH_MODELS). The safetensors writer is written out here so
that only torch is needed (no safetensors or onnx Python packages).
"""

import json
import os
import struct
import sys

import numpy as np
import torch

SEED = 1234
BATCH = 256
OPSET = 13


def make_model(which):
    nn = torch.nn
    if which == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def write_safetensors(path, tensors, metadata=None):
    """float32 tensors (name -> numpy array) in the safetensors layout, names sorted."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """The inverse of write_safetensors (float32 only): name -> numpy array."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {spec['dtype']}, this reader takes F32 only")
        b, e = spec["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(spec["shape"])
    return out


def load_model(which, directory):
    """The exported model, weights read back from its safetensors file, in eval mode."""
    m = make_model(which)
    sd = {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(os.path.join(directory, f"{which}.safetensors")).items()}
    m.load_state_dict(sd, strict=True)
    return m.eval()


class MatMul(torch.nn.Module):
    def forward(self, a, b):
        return torch.matmul(a, b)


def export_onnx(module, args, path, inputs, outputs, dynamic):
    tmp = path + ".tmp"
    torch.onnx.export(module, args, tmp, input_names=inputs, output_names=outputs, dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True)
    os.replace(tmp, path)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    x = torch.rand(BATCH, 1, 28, 28)
    io = {"input": x.numpy()}
    for which in ("mlp", "cnn"):
        m = make_model(which).eval()
        write_safetensors(os.path.join(out_dir, f"{which}.safetensors"), {k: v.detach().numpy() for k, v in m.state_dict().items()}, {"model": which, "format": "pt"})
        with torch.no_grad():
            io[f"{which}_out"] = m(x).numpy()
        export_onnx(m, (x[:1],), os.path.join(out_dir, f"{which}.onnx"), ["x"], ["y"], {"x": {0: "batch"}, "y": {0: "batch"}})
    export_onnx(MatMul(), (torch.rand(4, 3), torch.rand(3, 2)), os.path.join(out_dir, "matmul.onnx"), ["a", "b"], ["c"], {"a": {0: "n", 1: "k"}, "b": {0: "k", 1: "m"}, "c": {0: "n", 1: "m"}})
    write_safetensors(os.path.join(out_dir, "io.safetensors"), io)
    manifest = {"seed": SEED, "batch": BATCH, "opset": OPSET, "torch": torch.__version__, "numpy": np.__version__}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1])
