/** Element types: float32 for values, int32 for class ids. */
export type DType = 'float32' | 'int32';

/** The typed array that holds a tensor of dtype `D`. */
export type TypedArrayFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;
