// The file piscina loads in each thread. It is CommonJS so that piscina's require() of it is a
// plain one: Node 20 also lets require() load an ES module, and when it loaded worker.js that way a
// thread now and then died at start-up with a fatal V8 error inside that path ("v8::Module::
// IsGraphAsync must be used on an instantiated module"), failing a test about one run in a hundred.
// worker.js is imported from here instead, as piscina imports a module that require() refuses.
import type { KernelTask } from './worker.js';

let run: ((task: KernelTask) => Promise<void>) | undefined;

export = async function runTask(task: KernelTask): Promise<void> {
  run ??= ((await import('./worker.js')) as { default: (task: KernelTask) => Promise<void> }).default;
  return run(task);
};
