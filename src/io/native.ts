// The project's N-API addons (native/, built by node-gyp from `npm ci` into build/Release): one loader for all, so
// each is loaded once, on first use, and a missing build is one clear error naming the file and the fix.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Returns a function that loads build/Release/<target>.node on its first call (and returns it on later ones). */
export function nativeAddon<T>(target: string, what: string): () => T {
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), `../../build/Release/${target}.node`);
  let addon: T | undefined;
  return () => {
    if (addon) return addon;
    try {
      addon = createRequire(import.meta.url)(file) as T;
    } catch (error) {
      throw new Error(
        `${what} not built (${file}): run npm ci / npm run install (needs a C compiler, make, python3 and Node's headers)`,
        { cause: error },
      );
    }
    return addon;
  };
}
