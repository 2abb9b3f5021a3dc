/** The help text of `born` and of each of its commands (`born <command> --help`). */
import { TRAIN_GPT_USAGE } from './train-gpt-usage.js';

export const USAGE = {
  born: `usage: born <command> [options]

commands:
  train [options]      train a model on Fashion-MNIST and write its weights
  eval [options]       test accuracy of weights written by born train
  export [options]     weights written by born train as an ONNX model
  run MODEL [options]  run an ONNX model on .npy inputs
  info [MODEL]         version, devices and worker threads; or an ONNX model's contents
  bench [options]      issue 9's benchmark table against installed peers (source checkout)
  generate [options]   stream a language model's continuation of a prompt
  chat [options]       talk with a model that carries a chat template
  serve [options]      an HTTP inference server for Born, ONNX and language models
  build --model FILE   one executable file that serves the model (born serve inside)
  help [command]       this text, or a command's

Every command takes --help (-h) and --version.`,

  train: `usage: born train [options]

Trains a model on Fashion-MNIST with Adam and writes its weights as safetensors, with the
model name in the file's metadata (born eval reads it from there).

options:
  --model mlp|cnn|gpt  the model (default mlp; gpt: a language model on a text file, below)
  --epochs N           passes over the training set (default 2)
  --batch-size N       examples per step (default 256)
  --lr X               learning rate (default 0.001)
  --seed N             seed of initialisation and shuffling (default 0)
  --device D           cpu (default), webgpu, or auto (a hardware GPU if there is one)
  --data DIR           the directory holding the four idx files (plain or .gz); without it,
                       Debian's /usr/share/datasets/fashion-mnist (installed when missing if
                       run as root)
  --no-install         never install Debian's dataset-fashion-mnist package
  --out FILE           where the weights go (default model.safetensors); an existing file
                       holding another model, or not written by born train, is kept unless
                       --force
  --force              overwrite --out whatever it holds
  --checkpoint FILE    write a resumable checkpoint after every epoch
  --resume FILE        continue from a checkpoint
  --limit N            only the first N training and test examples (quick runs)
  -h, --help           this text
  --version            born's version

${TRAIN_GPT_USAGE}`,

  eval: `usage: born eval --weights FILE [options]

Reports the test loss and accuracy of weights written by born train.

options:
  --weights FILE       the .safetensors file (required)
  --model mlp|cnn      the model; default: the name in the file's metadata
  --data DIR           the directory holding the idx files (see born train --help)
  --no-install         never install Debian's dataset-fashion-mnist package
  --batch-size N       examples per batch (default 256)
  --seed N             accepted for symmetry with born train (default 0)
  --device D           cpu (default), webgpu, or auto
  -h, --help           this text
  --version            born's version`,

  export: `usage: born export --weights FILE [options]

Writes the model of weights written by born train as an ONNX file (opset 17 by default): input
'input' [batch, 1, 28, 28] (float32 images), output 'logits' [batch, 10], the weights as
initializers under their state-dict names. The batch dimension is symbolic unless
--static-batch; onnxruntime and born run then take any batch size.

options:
  --weights FILE       the .safetensors file (required)
  --model mlp|cnn      the model; default: the name in the file's metadata
  --out FILE           where the ONNX model goes (default model.onnx)
  --batch N            the batch the forward pass is recorded at (default 1; the fixed batch
                       with --static-batch)
  --static-batch       a fixed batch dimension of --batch instead of a symbolic one
  --opset N            the ONNX opset to declare, 17 or newer (default 17)
  -h, --help           this text
  --version            born's version`,

  run: `usage: born run MODEL.onnx --input FILE.npy [--input NAME=FILE.npy ...] [options]

Runs an ONNX model on inputs read from .npy files and prints each output (name, dtype, shape
and values) or writes it as a .npy file. An --input without NAME= binds to the model's inputs
in their declared order (after the named ones); an --out without NAME= likewise to its outputs.

options:
  --input [NAME=]FILE  an input, a .npy file (repeat for each input)
  --out [NAME=]FILE    write an output to a .npy file instead of printing it (repeatable)
  --device D           cpu (default), webgpu, or auto (a hardware GPU if there is one)
  -h, --help           this text
  --version            born's version`,

  info: `usage: born info [MODEL.onnx]

Without a model: prints born's version, the Node version, the devices and the worker thread
count. With one: its inputs and outputs (dtype and shape, symbolic dimensions by name), opset
imports, producer, a histogram of its op types and its parameter count and bytes.

options:
  -h, --help           this text
  --version            born's version`,

  bench: `usage: born bench [options]

Runs issue 9's benchmark table (gelu chain, sums, matmul, MLP and CNN training, MLP and CNN
inference at batch 1 and 256) against every peer installed here (tfjs-wasm, numpy, PyTorch,
onnxruntime-node), in one run, writes bench/RESULTS.md and prints the "Done means" summary:
each target, its threshold, Born's measured ratio and pass/fail. Needs the source checkout
(bench/ and its development dependencies), not the installed package. Takes 10-20 minutes.

options:
  --quick              fewer repetitions (the same sizes)
  --only LIST          workloads (default chain,reduce,matmul,train-mlp,train-cnn,infer-mlp,infer-cnn);
                       also overhead, mlp-step, embedding-bwd, or done-means
  --peers LIST         peers (default installed): born, tfjs-wasm, tfjs-cpu, numpy, torch,
                       ort, js-loop, or installed
  --out FILE           where the table goes (default bench/RESULTS.md, and its .json)
  --no-write           print only
  --no-merge           do not carry over the figures of pairs this run skips from --out's .json
  --python PATH        interpreter of the numpy and PyTorch peers (default /usr/bin/python3)
  --wait-quiet S       before each peer, wait up to S seconds for other load to settle
  --retries N          rerun a peer disturbed by other load up to N times
  --timeout-s S        per peer process (default 900)
  --no-build           use the compiled dist-bench/ as it is (skip tsc -p tsconfig.bench.json)
  -h, --help           this text
  --version            born's version`,

  generate: `usage: born generate --model FILE [--prompt TEXT | --prompt-ids 1,2,3] [options]

Streams the model's continuation of the prompt to stdout (token ids, space-separated, when the
model has no tokenizer), then prints the prompt's and the generation's tokens/s to stderr.
Without a prompt it starts from BOS. Models: llama2.c checkpoints (.bin), GGUF files (.gguf).

options:
  --model FILE         the checkpoint (required)
  --prompt TEXT        the prompt, encoded with the model's tokenizer
  --prompt-ids LIST    the prompt as token ids, separated by commas
  --tokenizer FILE     llama2.c's tokenizer.bin, for checkpoints that hold none
  --max-tokens N       tokens to generate at most (default 256; fewer where the context ends)
  --temperature X      0: greedy (default 0.8)
  --seed N             seed of the sampling (default: a random one)
  --top-k N            sample among the N most likely tokens (default 40; 0: all)
  --top-p X            nucleus sampling threshold (default 0.95; 1: off)
  --min-p X            drop tokens under X times the most likely one's probability (default 0.05)
  --repetition-penalty X  penalty on tokens already seen (default 1: none)
  --device D           cpu (default), webgpu, or auto (a hardware GPU if there is one)
  -h, --help           this text
  --version            born's version`,

  chat: `usage: born chat --model FILE [--system TEXT] [--message TEXT] [options]

A conversation with a model whose files carry a chat template (GGUF tokenizer.chat_template):
each line of stdin is a user turn, and the reply streams to stdout; /exit or the end of input
ends it. With --message, answers that one message and exits.

options:
  --model FILE         the model (required; GGUF)
  --system TEXT        a system message opening the conversation
  --message TEXT       answer this one message, then exit
  --template FILE      a Jinja chat template to use instead of the model's
  --max-tokens N       tokens per reply at most (default 256)
  --temperature X      0: greedy (default 0.8)
  --seed N             seed of the sampling (default: a random one)
  --top-k N, --top-p X, --min-p X, --repetition-penalty X   as born generate
  --device D           cpu (default), webgpu, or auto
  -h, --help           this text
  --version            born's version`,

  build: `usage: born build --model [NAME=]FILE [--model NAME=FILE ...] [--out app]

Writes one executable file (a Node single-executable application) that serves the models with
born serve: ./app --port 8080 takes every flag of born serve. The models, Born and the packages
the server needs are inside it; on its first start it unpacks them into $BORN_SEA_CACHE, else
$XDG_CACHE_HOME/born-sea (~/.cache/born-sea), else a per-user directory under the temporary
directory, and later starts reuse that copy. It runs where this Node binary runs (same OS and
CPU architecture), on the CPU device (WebGPU's native addon is left out).

options:
  --model [NAME=]FILE  a model born serve takes (repeatable); without NAME=, named after the
                       file (its base name without the extension)
  --out FILE           the executable to write (default app; replaced if it exists)
  --node FILE          the Node binary to make it from (default: the one running born)
  -h, --help           this text
  --version            born's version`,

  serve: `usage: born serve --model FILE [--model name=FILE ...] [options]

Serves models over HTTP: POST /v1/models/{name}:predict (JSON {"inputs": ...}, .npy as
application/x-npy, or raw little-endian bytes as application/octet-stream with X-Born-Dtype and
X-Born-Shape headers), GET /v1/models, /healthz, /readyz, /metrics (Prometheus); language models
also answer POST /v1/completions and /v1/chat/completions. Concurrent requests for a model are
batched. Prints 'born serve: listening on http://HOST:PORT' once the models are loaded and warmed
up. SIGTERM drains (every accepted request is answered) and exits 0; SIGHUP reloads the files.

models: Born weights (.safetensors written by born train), ONNX (.onnx), language models
(.gguf, llama2.c .bin, Born LLM .safetensors, a Hugging Face folder); --model FILE is named
after the file (model.onnx: 'model').

options:
  --model [NAME=]FILE  a model to serve (repeatable)
  --port N             the port (default 8080; 0: one the system chooses)
  --host H             the address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --max-batch N        rows per batch at most (default 32)
  --max-wait-ms N      how long a request waits for others to batch with (default 1)
  --batches N          batches of a model running at once at most (default 2)
  --queue N            requests waiting per model at most; past it 503 (default 256)
  --timeout-ms N       per-request deadline; past it 504 (default 30000)
  --body-limit SIZE    largest request body, e.g. 10mb, 512kb (default 10mb); past it 413
  --drain-delay-ms N   on SIGTERM, time between /readyz turning unready and closing (default 0)
  --watch              reload a model when its file changes
  --device D           cpu (default), webgpu, or auto
  -h, --help           this text
  --version            born's version`,
} as const;

export type Command = Exclude<keyof typeof USAGE, 'born'>;
export const isCommand = (s: string): s is Command => s !== 'born' && s in USAGE;
