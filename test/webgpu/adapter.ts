// Whether these tests can reach a WebGPU adapter: '' where they can, else why not (the first line
// of the error setDefaultDevice gives, or `gate`'s reason when the caller passes one).
import * as born from '../../src/index.js';

export async function webgpuSkipReason(gate = ''): Promise<string> {
  if (gate) return gate;
  try {
    await born.setDefaultDevice('webgpu');
    await born.setDefaultDevice('cpu');
    return '';
  } catch (e) {
    return (e as Error).message.split('\n')[0]!;
  }
}
