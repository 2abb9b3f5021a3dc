"""Shared by the Python peers: the BENCH_RESULT protocol of bench/common.ts, timing, arguments."""

import argparse
import ctypes
import gc
import json
import math
import os
import sys
import time

CASES = {
    "chain": ["chain"],
    "reduce": ["sum_all", "sum_dim0", "sum_dim1"],
    "matmul": ["matmul_256", "matmul_512", "matmul_1024"],
    "overhead": ["overhead_add", "overhead_tensor_add"],
    "mlp-step": ["mlp_step"],
    "train-mlp": ["train_mlp"],
    "train-cnn": ["train_cnn"],
    "infer-mlp": ["infer_mlp_1", "infer_mlp_256"],
    "infer-cnn": ["infer_cnn_1", "infer_cnn_256"],
    "embedding-bwd": ["embedding_bwd"],
}
UNITS = {"overhead": "us"}
N = 4096
SIZES = (256, 512, 1024)
TRAIN_BATCH = 256
MLP_SIZES = (784, 512, 256, 10)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True, choices=list(CASES))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--budget-ms", type=float, default=20000)
    p.add_argument("--min-reps", type=int, default=3)
    return p.parse_args()


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def summarize(case_id, unit, times, **extra):
    r = {"id": case_id, "unit": unit, "median": median(times), "min": min(times), "n": len(times)}
    r.update({k: v for k, v in extra.items() if v is not None})
    return r


def time_ms(fn, a):
    """Warm up, then time fn() call by call (ms); GC between calls, outside the timed region."""
    for _ in range(a.warmup):
        fn()
    samples, spent = [], 0.0
    while len(samples) < a.reps and (len(samples) < a.min_reps or spent < a.budget_ms):
        gc.collect()
        t0 = time.perf_counter_ns()
        fn()
        dt = (time.perf_counter_ns() - t0) / 1e6
        samples.append(dt)
        spent += dt
    return samples


def time_steps(fn, a, slow_ms=None):
    """Training steps, as timeSteps in common.ts: a first warm-up step slower than slow_ms
    (default the whole budget) is the only sample; else warm-up and time_ms."""
    slow_ms = a.budget_ms if slow_ms is None else slow_ms
    if a.warmup > 0:
        gc.collect()
        t0 = time.perf_counter_ns()
        fn()
        dt = (time.perf_counter_ns() - t0) / 1e6
        if dt > slow_ms:
            return [dt], f"one step of {dt / 1000:.1f} s, timed cold (no separate warm-up, no repetition: too slow for this budget)"
    rest = argparse.Namespace(**{**vars(a), "warmup": max(0, a.warmup - 1)})
    return time_ms(fn, rest), None


def loss_check(first, last, steps):
    if steps < 2:
        return f"ok (one step only: loss {first:.3f})" if math.isfinite(first) else f"WRONG: loss {first}"
    what = f"loss {first:.3f} → {last:.3f} over {steps} steps on one batch"
    ok = math.isfinite(first) and math.isfinite(last) and last < first
    return f"ok ({what})" if ok else f"WRONG: {what}"


def time_us(fn, a):
    """Per-call latency in µs, each call timed on its own, no GC in between."""
    for _ in range(a.warmup):
        fn()
    samples, spent = [], 0.0
    while len(samples) < a.reps and (len(samples) < a.min_reps or spent < a.budget_ms * 1000):
        t0 = time.perf_counter_ns()
        fn()
        dt = (time.perf_counter_ns() - t0) / 1e3
        samples.append(dt)
        spent += dt
    return samples


def run_case(case_id, unit, body):
    try:
        return body()
    except Exception as e:  # noqa: BLE001 - a failing case is reported, not fatal
        return {"id": case_id, "unit": unit, "error": f"{type(e).__name__}: {e}"[:300]}


def fail_all(workload, msg):
    unit = UNITS.get(workload, "ms")
    return [{"id": c, "unit": unit, "error": msg[:300]} for c in CASES[workload]]


def emit(peer, workload, version, cases):
    sys.stdout.write("BENCH_RESULT " + json.dumps({"peer": peer, "workload": workload, "version": version, "cpuS": time.process_time(), "cases": cases}) + "\n")
    sys.stdout.flush()


def blas_info():
    """The OpenBLAS mapped into this process (Debian picks it via update-alternatives): config and core."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.split()[-1]})
    except Exception:  # noqa: BLE001
        return "BLAS ?"
    for lib in libs:
        try:
            dll = ctypes.CDLL(lib)
            dll.openblas_get_config.restype = ctypes.c_char_p
            dll.openblas_get_corename.restype = ctypes.c_char_p
            cfg = dll.openblas_get_config().decode()
            core = dll.openblas_get_corename().decode()
            return f"{cfg.split(' DYNAMIC')[0]} ({os.path.realpath(lib).split('/')[-2]}), core {core}, {dll.openblas_get_num_threads()} threads"
        except Exception:  # noqa: BLE001
            continue
    return "BLAS " + (",".join(os.path.basename(x) for x in libs) or "?")
