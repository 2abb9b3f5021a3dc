/**
 * `born.llm.load('path/to/folder')`: a Hugging Face model folder (config.json, model.safetensors
 * or sharded model-0000k-of-0000n.safetensors with model.safetensors.index.json, tokenizer.json,
 * tokenizer_config.json) as an Llm. The LlamaModel is built without its random init and each
 * weight goes from the file into the buffer its parameter keeps (src/llm/fill.ts), so the peak
 * is the model once plus one tensor in flight.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fmt } from '../../graph/errors.js';
import { skipInit } from '../../nn/parameter.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fillParameter } from '../fill.js';
import { Llm, withMaxSeqLen, type LlmLoadOptions, type LlmMeta } from '../load.js';
import { LlamaModel } from '../model.js';
import { floatWeight, type Projection } from '../../nn/llama.js';
import { fromHuggingFace, type HfTokenizerConfig } from '../tokenizer/hf-json.js';
import { HfError, readHfConfig, readJson, type HfModelConfig } from './config.js';
import { openHfWeights } from './weights.js';

/** Names in a file that hold no weight of the model (older exports saved the rotary frequencies). */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

const W = (p: Projection): Tensor => floatWeight(p, 'llm.load');

/** Every parameter of the model with the Hugging Face name of the tensor that fills it. */
function namedTargets(model: LlamaModel, hf: HfModelConfig): [string, Tensor | undefined][] {
  const out: [string, Tensor | undefined][] = [['model.embed_tokens.weight', model.tokEmbeddings.weight]];
  for (const [l, layer] of model.layers.entries()) {
    const p = `model.layers.${l}.`, a = layer.attention, f = layer.feedForward;
    out.push(
      [`${p}input_layernorm.weight`, layer.attentionNorm.weight],
      [`${p}self_attn.q_proj.weight`, W(a.wq)], [`${p}self_attn.k_proj.weight`, W(a.wk)],
      [`${p}self_attn.v_proj.weight`, W(a.wv)], [`${p}self_attn.o_proj.weight`, W(a.wo)],
      [`${p}post_attention_layernorm.weight`, layer.ffnNorm.weight],
      [`${p}mlp.gate_proj.weight`, W(f.w1)], [`${p}mlp.up_proj.weight`, W(f.w3)], [`${p}mlp.down_proj.weight`, W(f.w2)],
    );
    // Undefined where the attention was built without biases: reported below, by name.
    if (hf.qkvBias) out.push([`${p}self_attn.q_proj.bias`, a.wq.bias], [`${p}self_attn.k_proj.bias`, a.wk.bias], [`${p}self_attn.v_proj.bias`, a.wv.bias]);
  }
  out.push(['model.norm.weight', model.norm.weight]);
  if (model.output) out.push(['lm_head.weight', W(model.output)]);
  return out;
}

/** The tokenizer, BOS/EOS ids and chat template the folder gives (each only if present). */
async function readMeta(dir: string, hf: HfModelConfig): Promise<LlmMeta> {
  const tokConfig = await readJson(dir, 'tokenizer_config.json');
  const generation = await readJson(dir, 'generation_config.json');
  let tokenizerText: string | undefined;
  try {
    tokenizerText = await readFile(join(dir, 'tokenizer.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HfError(`Hugging Face folder ${dir}: cannot read tokenizer.json (${(e as Error).message})`);
  }
  let tokenizer: LlmMeta['tokenizer'];
  if (tokenizerText !== undefined) {
    try {
      tokenizer = fromHuggingFace(tokenizerText, (tokConfig ?? {}) as HfTokenizerConfig);
    } catch (e) {
      throw new HfError(`Hugging Face folder ${dir}: tokenizer.json: ${(e as Error).message}`, { cause: e });
    }
  }
  const eos = new Set<number>(hf.eosIds);
  const genEos = generation?.eos_token_id;
  for (const id of Array.isArray(genEos) ? genEos : [genEos]) if (Number.isInteger(id)) eos.add(id as number);
  if (tokenizer?.eosId !== null && tokenizer?.eosId !== undefined) eos.add(tokenizer.eosId);
  const bosId = hf.bosId ?? tokenizer?.bosId ?? undefined;
  let chatTemplate: string | undefined;
  const t = tokConfig?.chat_template;
  if (typeof t === 'string') chatTemplate = t;
  else if (Array.isArray(t)) {
    // Several named templates: the default one, as transformers picks it.
    const named = t as { name?: unknown; template?: unknown }[];
    const pick = named.find((x) => x.name === 'default') ?? named[0];
    if (typeof pick?.template === 'string') chatTemplate = pick.template;
  }
  chatTemplate ??= await readFile(join(dir, 'chat_template.jinja'), 'utf8').catch(() => undefined);
  return {
    ...(tokenizer ? { tokenizer } : {}), ...(bosId === undefined ? {} : { bosId }),
    ...(eos.size ? { eosIds: [...eos] } : {}), ...(chatTemplate === undefined ? {} : { chatTemplate }),
    name: hf.architecture,
  };
}

/** Loads a Hugging Face folder of a LLaMA, Mistral or Qwen2 causal LM; weights become float32. */
export async function loadHf(dir: string, opts: Pick<LlmLoadOptions, 'maxSeqLen'> = {}): Promise<Llm> {
  const read = await readHfConfig(dir);
  const hf = { ...read, config: withMaxSeqLen(read.config, opts) };
  const weights = await openHfWeights(dir);
  try {
    const model = skipInit(() => new LlamaModel(hf.config));
    model.eval();
    const targets = namedTargets(model, hf);
    const c = hf.config;
    const configSays = `config.json (hidden_size ${c.dim}, intermediate_size ${c.hiddenDim}, ${c.nHeads} heads, ${c.nKvHeads} kv heads, vocab_size ${c.vocabSize})`;
    // Checked before anything is read, so a wrong folder fails fast.
    for (const [name, target] of targets) {
      const e = weights.entry(name);
      if (!e) throw new HfError(`Hugging Face folder ${dir}: no tensor ${JSON.stringify(name)} in ${weights.files.join(', ')}${name === 'lm_head.weight' ? ' (and config.json says tie_word_embeddings is not true)' : ''}`);
      if (!target) throw new HfError(`Hugging Face folder ${dir}: ${hf.architecture} has q/k/v biases (${name}), which GroupedQueryAttention does not take yet`);
      if (e.shape.length !== target.ndim || e.shape.some((d, i) => d !== target.shape[i])) {
        throw new HfError(`Hugging Face folder ${dir}: ${name} is ${fmt(e.shape)} in the file, ${configSays} needs ${fmt(target.shape)}`);
      }
    }
    const used = new Set(targets.map(([n]) => n));
    const extra = [...weights.names()].filter((n) => !used.has(n) && !IGNORED.test(n) && !(c.sharedClassifier && n === 'lm_head.weight'));
    if (extra.length) {
      throw new HfError(`Hugging Face folder ${dir}: ${extra.length} tensor${extra.length > 1 ? 's' : ''} the model has no place for (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', …' : ''}); does config.json describe these weights?`);
    }
    // One host array for every weight, as large as the largest.
    const scratch = new Float32Array(targets.reduce((m, [, t]) => Math.max(m, t!.numel()), 0));
    for (const [name, target] of targets) fillParameter(target!, await weights.read(name, scratch), name);
    return new Llm(model, c, await readMeta(dir, hf));
  } finally {
    await weights.close();
  }
}
