/**
 * `born.llm` without loading the language-model modules at `import born` (about 40 modules: the
 * model, the loaders, GGUF, Hugging Face folders, generation, chat templates), which a program that
 * never touches an LLM should not pay for at start-up.
 *
 * - The async entry points (`born.llm.load`, `loadGguf`, `chatPromptIds`, …) import src/llm on
 *   their first call and then call through, so they work at any time.
 * - The tokenizers (`born.llm.tokenizers`, `Tokenizer`, `StreamDecoder`) are small, need no tensors
 *   and are used synchronously right after the import: they stay eager.
 * - The other members (classes such as `born.llm.Llm`, synchronous helpers) are read from the loaded
 *   module: after any async entry point has run, after `await born.llm.ready()`, or as soon as any
 *   module imports src/llm statically (it registers itself here through provideLlm). Read before
 *   that, one throws an Error that says how to load it.
 */
import type * as LlmModule from './llm/index.js';
import * as tokenizerModule from './llm/tokenizer/index.js';

type Llm = typeof LlmModule;

const EAGER = {
  tokenizers: tokenizerModule,
  Tokenizer: tokenizerModule.Tokenizer,
  StreamDecoder: tokenizerModule.StreamDecoder,
} as const;
const ASYNC = ['load', 'loadLlama2c', 'loadBornLlm', 'saveBornLlm', 'openLlama2c', 'loadGguf', 'openGguf', 'loadHf', 'chatPromptIds', 'applyChatTemplate'] as const;
const DEFERRED = ['Llm', 'LlamaModel', 'KvCache', 'Llama2cError', 'parseHeader', 'expectedBytes', 'ChatTemplateError', 'gguf', 'GgufError', 'HfError', 'parseHfConfig'] as const;

// Every export of src/llm is in exactly one list: a new export that is in none fails to compile here.
type Listed = keyof typeof EAGER | (typeof ASYNC)[number] | (typeof DEFERRED)[number];
const everyExportListed: [Exclude<keyof Llm, Listed>] extends [never] ? true : Exclude<keyof Llm, Listed> = true;
void everyExportListed;

let loaded: Llm | null = null;
let loading: Promise<Llm> | null = null;

/** Called by src/llm/index.ts when it is evaluated, however it was imported. */
export function provideLlm(module: Llm): void {
  loaded = module;
}

/** Whether the language-model modules have been evaluated (for tests and the cold-start bench). */
export const llmLoaded = (): boolean => loaded !== null;

function loadLlm(): Promise<Llm> {
  if (loaded) return Promise.resolve(loaded);
  return (loading ??= import('./llm/index.js').then((m) => (loaded = m)));
}

/** `born.llm`: the namespace of src/llm/index.ts, typed as it, plus `ready()`. */
export type LlmNamespace = Llm & {
  /** Loads the language-model modules, so that every member of born.llm can be read synchronously. */
  ready(): Promise<void>;
};

function makeLlm(): LlmNamespace {
  const ns: Record<string, unknown> = { ...EAGER, ready: async () => { await loadLlm(); } };
  for (const name of ASYNC) {
    ns[name] = async (...args: unknown[]): Promise<unknown> =>
      ((await loadLlm())[name] as (...a: unknown[]) => Promise<unknown>)(...args);
  }
  for (const name of DEFERRED) {
    Object.defineProperty(ns, name, {
      enumerable: true,
      get: () => {
        if (loaded) return loaded[name];
        throw new Error(`born.llm.${name} is not loaded yet: the language-model modules load on the first born.llm.load(...) ` +
          '(or any other async born.llm function), or with `await born.llm.ready()`');
      },
    });
  }
  return Object.freeze(ns) as LlmNamespace;
}

export const llm: LlmNamespace = makeLlm();
