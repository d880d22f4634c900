/**
 * The Web Crypto `CryptoKey` type as a global, as the DOM library declares it: the mesh code
 * the relay imports (workspaceKeys.ts) names it, and the relay compiles without the DOM library.
 */
import type { webcrypto } from 'node:crypto';

declare global {
	type CryptoKey = webcrypto.CryptoKey;
}
