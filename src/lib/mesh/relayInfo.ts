/**
 * The relay that served this app describes itself at `/.well-known/outpost.json`
 * (`{ peerId, multiaddrs }`, see relay/server.ts). This module fetches that, defensively,
 * and keeps the relay's peer id and the addresses a page can dial: on an `https:` page only secure WebSockets
 * (a browser refuses `ws:` from a secure page, except to its own machine); on `http:`
 * (localhost) plain WebSockets. A missing or odd answer means "no relay here" (the app
 * may be served by a dev server or opened from its cache offline), never an error.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { pinRelayPeerId, RELAY_INFO_PATH } from './relayHttp.js';

/** Where the relay describes itself. */
export { RELAY_INFO_PATH } from './relayHttp.js';
const MAX_ADDRESSES = 16;
const FETCH_TIMEOUT_MS = 3000;

/**
 * The dialable addresses (each ending in `/p2p/<peer id>`) of a relay's self-description,
 * for a page loaded at `pageUrl`. Anything malformed is skipped.
 */
export function pickRelayAddresses(info: unknown, pageUrl: URL): string[] {
	if (typeof info !== 'object' || info === null) return [];
	const { peerId, multiaddrs } = info as { peerId?: unknown; multiaddrs?: unknown };
	if (typeof peerId !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(peerId) || !Array.isArray(multiaddrs)) return [];
	const secure = pageUrl.protocol === 'https:';
	const pageIsLoopback = isLoopback(pageUrl.hostname);
	const picked: string[] = [];
	for (const raw of multiaddrs.slice(0, MAX_ADDRESSES)) {
		if (typeof raw !== 'string' || raw.length > 300) continue;
		let ma;
		try {
			ma = multiaddr(raw);
		} catch {
			continue;
		}
		const wss = WebSocketsSecure.matches(ma);
		const ws = !wss && WebSockets.matches(ma);
		const host = ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6' || c.name === 'dns4' || c.name === 'dns')?.value;
		const loopback = host !== undefined && isLoopback(host);
		// The relay's loopback listener only helps a page on the relay's own machine.
		if (loopback && !pageIsLoopback) continue;
		if (!(wss || (ws && (!secure || loopback)))) continue;
		const last = ma.getComponents().at(-1);
		const full = last?.name === 'p2p' ? ma : ma.encapsulate(`/p2p/${peerId}`);
		picked.push(full.toString());
	}
	return picked;
}

/** What the serving relay says about itself, reduced to what this page can use. */
export interface ServingRelay {
	/** Dialable multiaddrs (see {@link pickRelayAddresses}); empty when there is no relay. */
	addresses: string[];
	/** The app's URLs on the LAN (for invite links made on localhost). */
	urls: string[];
	/**
	 * The relay's peer id (its device in a team: the member an admin adds before asking it to
	 * archive a workspace, relayApi.ts); undefined when there is no relay.
	 */
	peerId?: string;
}

/** The peer id of a relay's self-description, when it is one. */
export function pickRelayPeerId(info: unknown): string | undefined {
	if (typeof info !== 'object' || info === null) return undefined;
	const { peerId } = info as { peerId?: unknown };
	return typeof peerId === 'string' && /^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(peerId) ? peerId : undefined;
}

/** The app URLs of a relay's self-description: http(s) URLs only, bounded. */
export function pickAppUrls(info: unknown): string[] {
	if (typeof info !== 'object' || info === null) return [];
	const { urls } = info as { urls?: unknown };
	if (!Array.isArray(urls)) return [];
	return urls
		.slice(0, MAX_ADDRESSES)
		.filter((u): u is string => typeof u === 'string' && u.length < 300 && /^https?:\/\/[^\s/]+$/.test(u.replace(/\/+$/, '')));
}

/** Fetches the serving relay's self-description; empty when there is none (see the module comment). */
export async function fetchServingRelay(pageUrl: URL = new URL(location.href)): Promise<ServingRelay> {
	try {
		const response = await fetch(new URL(RELAY_INFO_PATH, pageUrl), {
			cache: 'no-store',
			signal: AbortSignal.timeout(FETCH_TIMEOUT_MS)
		});
		if (!response.ok || !(response.headers.get('content-type') ?? '').includes('json')) return { addresses: [], urls: [] };
		const info: unknown = await response.json();
		const peerId = pickRelayPeerId(info);
		// Signed calls to this origin name the relay the page added to its teams (relayHttp.ts).
		if (peerId !== undefined) pinRelayPeerId(pageUrl.origin, peerId);
		return { addresses: pickRelayAddresses(info, pageUrl), urls: pickAppUrls(info), ...(peerId !== undefined ? { peerId } : {}) };
	} catch {
		return { addresses: [], urls: [] };
	}
}

function isLoopback(host: string): boolean {
	const h = host.replace(/^\[|\]$/g, '');
	return h === 'localhost' || h === '::1' || h.startsWith('127.');
}
