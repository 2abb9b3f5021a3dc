/** The part of `born train --help` about --model gpt (kept apart so the help text loads nothing else). */
export const TRAIN_GPT_USAGE = `born train --model gpt --data FILE.txt [options]

Trains a LLaMA-style decoder (RoPE, RMSNorm, SwiGLU, grouped-query attention) on the bytes of a
text file with AdamW, a linear warm-up into a cosine decay and gradient clipping; the first 90%
of the file trains, the last 10% validates (mean cross-entropy in nats per byte, which is per
character for ASCII text). Writes a Born LLM file (safetensors; config and byte vocabulary in its
metadata) that born.llm.load reads, and prints a sample of generated text.

options with --model gpt (--device, --out, --force, --checkpoint, --resume, --seed as above):
  --data FILE          the text file (required)
  --steps N            optimizer steps (default 300)
  --batch-size N       windows per step (default 16)
  --context N          tokens per window, the model's maxSeqLen (default 64)
  --dim N              model width (default 128)
  --layers N           decoder layers (default 4)
  --heads N            attention heads (default 4; must divide --dim)
  --kv-heads N         key/value heads (default 2; must divide --heads)
  --hidden-dim N       SwiGLU hidden width (default 3 x dim)
  --lr X               peak learning rate (default 0.003)
  --warmup N           linear warm-up steps (default 30)
  --min-lr-factor X    the cosine ends at lr x X (default 0.1)
  --weight-decay X     AdamW's decoupled weight decay (default 0.1; betas 0.9, 0.99)
  --clip X             max global gradient norm (default 1)
  --eval-interval N    validation loss (and --checkpoint) every N steps (default 50)
  --save-init FILE     also write the initial weights there (bench/gpt/train_gpt.py --init starts from them)
  --sample N           bytes to sample after training (default 300; 0: none)
  --prompt TEXT        the sample's prompt (default "This License")
  --temperature X      the sample's temperature (default 0.8; 0: greedy)`;
