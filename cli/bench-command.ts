import { UsageError } from './args.js';
import type { BenchArgs } from './bin-args.js';

export async function bench(_args: BenchArgs, _log: (line: string) => void): Promise<void> {
  throw new UsageError('bench: not yet');
}
