/**
 * The in-page half of the connect benchmark's y-webrtc baseline (bench/connect.ts), bundled
 * for Chromium. On load it starts a y-webrtc provider at once, with the room, password and
 * signalling URL from the page's query string, no ICE servers (a closed LAN), and records
 * when the provider first reports `synced` (ms since navigation start).
 */
import { WebrtcProvider } from 'y-webrtc';
import * as Y from 'yjs';

/** What the page exposes as `globalThis.__yWebrtcBench`. */
export interface BaselineTimes {
	/** The provider was created. */
	started: number;
	/** First `synced: true`. */
	synced?: number;
	/** A signalling connection is open (this page can be found). */
	signalling?: number;
}

declare global {
	// eslint-disable-next-line no-var -- a global the benchmark reads with page.evaluate
	var __yWebrtcBench: BaselineTimes | undefined;
}

const params = new URLSearchParams(location.search);
const room = params.get('room');
const signalling = params.get('signalling');
if (room && signalling) {
	const times: BaselineTimes = { started: performance.now() };
	globalThis.__yWebrtcBench = times;
	const doc = new Y.Doc();
	doc.getMap('m').set(params.get('name') ?? 'page', performance.now());
	const provider = new WebrtcProvider(room, doc, {
		signaling: [signalling],
		password: params.get('password') ?? undefined,
		peerOpts: { config: { iceServers: [] } }
	});
	provider.on('synced', ({ synced }: { synced: boolean }) => {
		if (synced && times.synced === undefined) times.synced = performance.now();
	});
	const poll = setInterval(() => {
		if (provider.signalingConns.some((c) => c.connected)) {
			times.signalling ??= performance.now();
			clearInterval(poll);
		}
	}, 5);
}
