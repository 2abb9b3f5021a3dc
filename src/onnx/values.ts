/**
 * The non-tensor values of an ONNX graph: sequences of tensors and optionals (of a tensor or a
 * sequence). A tensor value stays what it is everywhere else (a Tensor or a host array), so the
 * tensor op families never see these: the registry refuses them at a tensor op's inputs.
 */
import type { DType } from '../graph/dtype.js';
import type { Value } from './ops/registry.js';

/** An ordered list of tensors of one element type (shapes may differ), immutable like every value. */
export class SequenceValue {
  constructor(readonly dtype: DType, readonly items: readonly Value[]) {}
  get length(): number { return this.items.length; }
}

/** A tensor or a sequence, or nothing (`value` null: an empty optional). */
export class OptionalValue {
  constructor(readonly value: Value | SequenceValue | null) {}
}

/** Any value a graph name can hold. */
export type AnyValue = Value | SequenceValue | OptionalValue;

export const isSequence = (v: AnyValue): v is SequenceValue => v instanceof SequenceValue;
export const isOptional = (v: AnyValue): v is OptionalValue => v instanceof OptionalValue;
export const isTensorValue = (v: AnyValue): v is Value => !(v instanceof SequenceValue || v instanceof OptionalValue);

/** 'a tensor', 'a sequence' or 'an optional', for type errors. */
export const kindOf = (v: AnyValue): string => (isSequence(v) ? 'a sequence' : isOptional(v) ? 'an optional' : 'a tensor');
