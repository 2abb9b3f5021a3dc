export { Optimizer, SGD, Adam, AdamW, RMSprop } from './optim.js';
export type { SGDOptions, AdamOptions, RMSpropOptions, ParamState, Update } from './optim.js';
export { StepLR, CosineAnnealingLR, LinearWarmup } from './schedulers.js';
export { clipGradNorm } from './clip.js';
export { Trainer, evaluate } from './trainer.js';
export type { FitOptions, EpochEvent, StepEvent, Metrics, TrainerEvents } from './trainer.js';
