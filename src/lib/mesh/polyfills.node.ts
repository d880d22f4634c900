/**
 * Node-only polyfills for libp2p 3 on Node 20; import this first in every Node entry
 * point (the relay, tests) before anything that loads libp2p.
 *
 * - `Promise.withResolvers` (see `polyfills.ts`).
 * - A global `WebSocket`: @libp2p/websockets dials with the global, which Node 20 only
 *   has behind `--experimental-websocket`. The `ws` package's client is what
 *   @libp2p/websockets itself uses to listen, so it is a faithful stand-in.
 *
 * Never import this from browser code: `ws` is a Node module.
 */
import './polyfills.js';
import WebSocketImpl from 'ws';

const g = globalThis as unknown as { WebSocket?: unknown };
if (typeof g.WebSocket !== 'function') {
	g.WebSocket = WebSocketImpl;
}

export {};
