// node:crypto, loaded on first use. An ESM import of node:crypto builds the module's export facade when the
// importing module loads, and that reads every export (webcrypto, subtle), which loads WebCrypto: about a
// tenth of a cached report's start-up, for hashes and random ids that many runs never compute.
import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;

/** The node:crypto module (the same object every call). */
export function nodeCrypto(): typeof Crypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}
