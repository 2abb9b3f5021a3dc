"""Shared by the Python peers: the BENCH_RESULT protocol of bench/common.ts, timing, arguments."""

import argparse
import ctypes
import gc
import json
import os
import sys
import time

CASES = {
    "chain": ["chain"],
    "reduce": ["sum_all", "sum_dim0", "sum_dim1"],
    "matmul": ["matmul_256", "matmul_512", "matmul_1024"],
    "overhead": ["overhead_add", "overhead_tensor_add"],
}
UNITS = {"overhead": "us"}
N = 4096
SIZES = (256, 512, 1024)


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


def summarize(case_id, unit, samples, **extra):
    r = {"id": case_id, "unit": unit, "median": median(samples), "min": min(samples), "n": len(samples)}
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
