/** The models `born train` knows, as in issue 4 (and PyTorch's script in bench/). */
import * as nn from '../nn/index.js';
import type { Module } from '../nn/module.js';

export const MODELS = {
  /** 784-512-256-10 with ReLU. */
  mlp: (): Module => nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)),
  /** conv3x3-32, relu, maxpool2, conv3x3-64, relu, maxpool2, fc128, relu, fc10 (no padding: 28 → 26 → 13 → 11 → 5). */
  cnn: (): Module => nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10)),
} as const;

export type ModelName = keyof typeof MODELS;
export const isModelName = (s: string): s is ModelName => s in MODELS;
