/** What the Chromium test's pages import: the browser node and the helpers they use. */
export { createMeshNode } from '../../src/lib/mesh/node.browser.js';
export { dialWithRetry } from '../../src/lib/mesh/dial.js';
export { linkKind } from '../../src/lib/mesh/node.js';
export { generateKeyPair } from '@libp2p/crypto/keys';
export { multiaddr } from '@multiformats/multiaddr';
