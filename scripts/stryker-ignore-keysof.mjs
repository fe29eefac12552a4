// A StrykerJS ignorer: the object literal given to keysOf<T>({ a: true, ... }) is a typed list
// of keys, whose values keysOf never reads, so flipping one to false changes nothing and every
// such mutant would survive as noise. (Stryker skips the children of an ignored node too.)
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'keysOf', {
    shouldIgnore(path) {
      const call = path.parentPath;
      if (path.isObjectExpression() && call?.isCallExpression() && call.get('callee').isIdentifier({ name: 'keysOf' })) {
        return 'keysOf reads only the keys of its argument';
      }
      return undefined;
    },
  }),
];
