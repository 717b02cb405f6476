// Node built-ins that only some paths need, loaded on first use instead of at start: node:crypto (ids, event ids,
// the trace's config hash) and node:https (an https URL) each cost Node a dozen internal modules to compile, which a
// start that never uses them should not pay (start-up, docs/performance.md).
import type * as Crypto from 'node:crypto';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

let crypto: typeof Crypto | undefined;
let https: typeof Https | undefined;

/** node:crypto, loaded on the first call. */
export const nodeCrypto = (): typeof Crypto => (crypto ??= load('node:crypto') as typeof Crypto);

/** node:https, loaded on the first call. */
export const nodeHttps = (): typeof Https => (https ??= load('node:https') as typeof Https);
