/**
 * Element types: float32 for values, int32 for class ids, and float16 (IEEE half) as a storage
 * type for inputs: half the bytes, widened to float32 wherever it is computed on.
 */
export type DType = 'float32' | 'int32' | 'float16';

/** The typed array `read()` gives for a tensor of dtype `D` (a float16 tensor reads as the float32 values it holds). */
export type TypedArrayFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** Bytes one element of `dtype` takes in storage. */
export function bytesPerElement(dtype: DType): 2 | 4 {
  return dtype === 'float16' ? 2 : 4;
}
