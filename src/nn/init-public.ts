/** nn.init as users see it: PyTorch's torch.nn.init, without Born's internal parameter helpers. */
export {
  calculateGain, calculateFanInAndFanOut, uniform_, normal_, constant_, zeros_, ones_,
  kaimingUniform_, kaimingNormal_, xavierUniform_, xavierNormal_, truncNormal_,
} from './init.js';
export type { Nonlinearity, FanMode, KaimingOptions, TruncNormalOptions } from './init.js';
