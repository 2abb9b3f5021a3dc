#!/usr/bin/env bash
# The WebGPU benchmark (bench/webgpu.ts) on a machine with a GPU, for issue 10's GPU targets:
# matmul 4096 at >= 50 % of the card's fp32 peak and >= 2x tfjs-webgpu, MLP training >= 5x the
# CPU device. Run from a checkout with node_modules installed (`npm ci`) and Node >= 20:
#
#   bench/gpu-check.sh                       # 3 rounds, writes bench/RESULTS-gpu.md (+ -webgpu.json)
#   PEAK_TFLOPS=67 bench/gpu-check.sh        # the card's fp32 peak (e.g. H100 SXM 67, H200 67, A100 19.5)
#   OUT_MD=/tmp/gpu.md ROUNDS=1 bench/gpu-check.sh --quick
#
# Extra arguments go to webgpu.js (e.g. --cap-s 120, --sizes 1024,2048,4096,8192).
# Needs a Vulkan loader and the vendor's Vulkan driver (Dawn's `webgpu` package opens
# libvulkan.so.1): on Debian/Ubuntu `apt-get install libvulkan1`; NVIDIA's driver ships its ICD.
# A software adapter (lavapipe) is refused unless ALLOW_SOFTWARE=1: its figures are this
# repository's bench/RESULTS.md section already.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "gpu-check: $*" >&2; exit 1; }

command -v node >/dev/null || die "node not found (Node >= 20 needed)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node $(node --version): >= 20 needed"
for p in webgpu @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu typescript; do
  [ -e "node_modules/$p/package.json" ] || die "node_modules/$p missing: run npm ci first"
done
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  echo "gpu-check: warning: libvulkan.so.1 not in the linker cache (apt-get install libvulkan1)" >&2
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu-check: nvidia-smi: /' >&2 || true

echo "gpu-check: compiling bench/ (tsc -p tsconfig.bench.json)" >&2
node node_modules/typescript/bin/tsc -p tsconfig.bench.json

# The adapter Dawn gives, before spending minutes on it.
adapter=$(node --input-type=module -e "
  const b = await import('./dist-bench/src/index.js');
  await b.setDefaultDevice('webgpu');
  const d = b.engine.device('webgpu'); await d.ready();
  console.log(d.adapterName); process.exit(0);" 2>/dev/null) || die "no WebGPU adapter: is a Vulkan driver installed? (node -e \"await (await import('./dist-bench/src/index.js')).setDefaultDevice('webgpu')\" says why)"
echo "gpu-check: adapter: $adapter" >&2
if echo "$adapter" | grep -qiE 'llvmpipe|lavapipe|swiftshader|software'; then
  [ "${ALLOW_SOFTWARE:-0}" = 1 ] || die "the adapter is a software one ($adapter): no GPU reached through Vulkan (set ALLOW_SOFTWARE=1 to run anyway)"
fi

out=${OUT_MD:-bench/RESULTS-gpu.md}
args=(--rounds "${ROUNDS:-3}" --cap-s "${CAP_S:-120}" --no-merge --out "$out")
[ -n "${PEAK_TFLOPS:-}" ] && args+=(--peak-tflops "$PEAK_TFLOPS")
node dist-bench/bench/webgpu.js "${args[@]}" "$@"
echo "gpu-check: the table is in $out" >&2
