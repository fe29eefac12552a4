// `webgpu-softmax`, the package's bin (`npx webgpu-softmax train data.csv`): train, predict and
// bench. A bad command line or a bad file ends with one line on stderr and exit code 2.

import { UsageError } from './args.js';
import { parseBinArgs } from './bin-args.js';
import { DataError } from './data.js';

const PROGRAM = 'webgpu-softmax';

async function main(): Promise<void> {
  const args = parseBinArgs(process.argv.slice(2));
  switch (args.command) {
    case 'help':
      console.log(args.text);
      return;
    case 'train':
      return (await import('./train-command.js')).train(args, (line) => console.log(line));
    case 'predict':
      // stdout carries the predictions; everything else goes to stderr.
      return (await import('./predict-command.js')).predict(args, (line) => console.error(line));
    case 'bench':
      return (await import('./bench-command.js')).bench(args, (line) => console.log(line));
  }
}

try {
  await main();
  // Dawn keeps the event loop alive after its devices are gone; the work is done.
  process.exit(0);
} catch (error) {
  if (error instanceof UsageError || error instanceof DataError) {
    const hint = error instanceof UsageError ? ` (${PROGRAM} --help lists the commands)` : '';
    console.error(`${PROGRAM}: ${error.message}${hint}`);
    process.exit(2);
  }
  throw error;
}
