export { Optimizer, SGD, Adam, AdamW, RMSprop } from './optim.js';
export type { SGDOptions, AdamOptions, RMSpropOptions, ParamState, Update } from './optim.js';
export { Adagrad, Adamax, NAdam, RAdam } from './optim-more.js';
export type { AdagradOptions, AdamaxOptions, NAdamOptions, RAdamOptions } from './optim-more.js';
export {
  StepLR, CosineAnnealingLR, LinearWarmup, LambdaLR, ExponentialLR, MultiStepLR, OneCycleLR,
  CosineAnnealingWarmRestarts, ReduceLROnPlateau,
} from './schedulers.js';
export type { OneCycleOptions, ReduceLROnPlateauOptions } from './schedulers.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export { Trainer, evaluate } from './trainer.js';
export type { FitOptions, EpochEvent, StepEvent, Metrics, TrainerEvents } from './trainer.js';
