import { describe, expect, it } from 'vitest';
import { runProgram } from './run-program.js';

describe('runProgram (the printers\' test harness)', () => {
  it('binds slots, the uniform block, and reads every slot back in CPU layout', async () => {
    const code = `
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<uniform> u: array<vec4<u32>, 1>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < 5u) { out[g.x] = f32(a[g.x]) * bitcast<f32>(u[0][0]) + f32(bitcast<i32>(u[0][1])); }
}`;
    const [out, a] = await runProgram({ code, entry: 'main', workgroups: [1, 1, 1], slots: [0, 1], uniformWords: 2 },
      [{ dtype: 'float32', count: 5 }, { dtype: 'bool', data: Uint8Array.from([1, 0, 1, 1, 0]) }],
      [{ dtype: 'float32', value: 2.5 }, { dtype: 'int32', value: -1 }]);
    expect(Array.from(out as Float32Array)).toEqual([1.5, -1, 1.5, 1.5, -1]);
    expect(Array.from(a as Uint8Array)).toEqual([1, 0, 1, 1, 0]);
  });
});
