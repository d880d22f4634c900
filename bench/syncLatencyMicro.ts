/**
 * In-page micro-benchmark for the sync-latency report: what one small live update costs in
 * each step of Outpost's receive path (syncLatencyBrowser.ts measures the whole path), next
 * to the plain `Y.applyUpdate` that y-webrtc and the raw baseline do. Updates like the
 * benchmark's own: one Y.Map key set to a number, applied in order to a document that already
 * holds `history` earlier keys.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import * as Y from 'yjs';
import { newId } from '../src/lib/doc/ids.js';
import { DEFAULT_LIMITS, MessageType } from '../src/lib/mesh/constants.js';
import { openEnvelope, sealEnvelope } from '../src/lib/mesh/gossipEnvelope.js';
import { applicablePart, clocksOfDoc } from '../src/lib/mesh/updateCheck.js';
import { decodeMessage, encodeMessage } from '../src/lib/mesh/wire.js';
import { SessionState, SyncSession } from '../src/lib/mesh/SyncSession.js';
import { deriveWorkspaceKeys } from '../src/lib/mesh/workspaceKeys.js';
import type { WorkspaceKeys } from '../src/lib/mesh/workspaceKeys.js';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.js';

/** Microseconds per update of each step (median of the rounds). */
export interface MicroCosts {
	/** `Y.applyUpdate` into the target (what y-webrtc and the raw stream do). */
	applyUs: number;
	/** updateCheck.ts `applicablePart` reading the target's clocks through a lookup, as SyncSession does (decode, scratch document, its apply). */
	applicablePartUs: number;
	/** Encoding and decoding the session's UPDATE message (wire.ts). */
	wireUs: number;
	/** Sealing and opening a gossip envelope (AES-GCM through WebCrypto, awaited). */
	envelopeUs: number;
	/** `new Y.Doc()` + destroy, as applicablePart makes its scratch document (a random guid: ~30 getRandomValues calls). */
	scratchDocUs: number;
	/** The same with a fixed guid (one getRandomValues call, for the client id). */
	scratchDocFixedGuidUs: number;
	/** Ed25519 sign + verify of a small message through @libp2p/crypto (what gossipsub's StrictSign does per message). */
	signVerifyUs: number;
	/**
	 * Two live SyncSessions wired back to back in the page (no transport): a write on one
	 * side until the other side's document changed. The whole session pipeline, median.
	 */
	sessionPipelineUs: number;
}

/** Two SyncSessions over MemoryDocs joined by direct calls; resolves once both are live. */
async function sessionPair(workspaceId: string, keys: WorkspaceKeys, docId: string): Promise<{ from: Y.Doc; to: Y.Doc; close(): void }> {
	const docs = [new MemoryDocs(), new MemoryDocs()] as const;
	const sessions: SyncSession[] = [];
	for (const [i, role] of (['opener', 'responder'] as const).entries()) {
		sessions.push(
			new SyncSession({
				role,
				workspace: { id: workspaceId, keys },
				localPeerId: `peer-${i}`,
				remotePeerId: `peer-${1 - i}`,
				docs: docs[i]!,
				send: (bytes) => void sessions[1 - i]!.receive(bytes)
			})
		);
	}
	const from = docs[0].get(docId);
	const to = docs[1].get(docId);
	for (const session of sessions) session.start();
	const deadline = performance.now() + 5000;
	while (sessions.some((x) => x.state !== SessionState.live)) {
		if (performance.now() > deadline) throw new Error('the in-page session pair never went live');
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	return { from, to, close: () => sessions.forEach((x) => x.close()) };
}

/** Median microseconds from a write on `from` to the change on `to`, over `count` writes. */
async function pipelineUs(pair: { from: Y.Doc; to: Y.Doc }, count: number): Promise<number> {
	const times: number[] = [];
	const source = pair.from.getMap<number>('lat');
	const target = pair.to.getMap<number>('lat');
	for (let i = 0; i < count; i++) {
		const arrived = new Promise<number>((resolve) => {
			const observer = () => {
				target.unobserve(observer);
				resolve(performance.now());
			};
			target.observe(observer);
		});
		const t0 = performance.now();
		source.set(String(i), t0);
		times.push(((await arrived) - t0) * 1000);
	}
	return median(times);
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s[s.length >> 1] ?? NaN;
}

/** Runs each step over `count` updates, `rounds` times; returns the median cost per update. */
export async function microCosts(init: { count: number; rounds: number; history: number }): Promise<MicroCosts> {
	const source = new Y.Doc();
	const updates: Uint8Array[] = [];
	source.on('update', (update: Uint8Array) => updates.push(update));
	const map = source.getMap<number>('lat');
	for (let i = 0; i < init.history + init.count; i++) map.set(String(i), performance.now());
	const history = Y.mergeUpdates(updates.slice(0, init.history));
	const live = updates.slice(init.history);
	const workspaceId = newId();
	const docId = newId();
	const keys = await deriveWorkspaceKeys(workspaceId, crypto.getRandomValues(new Uint8Array(32)));

	const signer = await generateKeyPair('Ed25519');
	const per = (ms: number) => (ms * 1000) / live.length;
	const rounds: MicroCosts[] = [];
	for (let r = 0; r < init.rounds; r++) {
		const target = new Y.Doc();
		Y.applyUpdate(target, history);
		const checker = new Y.Doc();
		Y.applyUpdate(checker, history);

		let t0 = performance.now();
		for (const u of live) Y.applyUpdate(target, u);
		const applyUs = per(performance.now() - t0);

		t0 = performance.now();
		for (const u of live) {
			applicablePart(u, clocksOfDoc(checker));
			Y.applyUpdate(checker, u);
		}
		const checkAndApply = per(performance.now() - t0);

		t0 = performance.now();
		for (const u of live) decodeMessage(encodeMessage({ type: MessageType.update, docId, update: u }), DEFAULT_LIMITS);
		const wireUs = per(performance.now() - t0);

		t0 = performance.now();
		for (const u of live) await openEnvelope(keys, await sealEnvelope(keys, docId, u));
		const envelopeUs = per(performance.now() - t0);

		t0 = performance.now();
		for (let i = 0; i < live.length; i++) new Y.Doc().destroy();
		const scratchDocUs = per(performance.now() - t0);
		t0 = performance.now();
		for (let i = 0; i < live.length; i++) new Y.Doc({ guid: 'update-check' }).destroy();
		const scratchDocFixedGuidUs = per(performance.now() - t0);

		t0 = performance.now();
		for (const u of live) await signer.publicKey.verify(u, await signer.sign(u));
		const signVerifyUs = per(performance.now() - t0);

		const pair = await sessionPair(workspaceId, keys, docId);
		const sessionPipelineUs = await pipelineUs(pair, live.length);
		pair.close();

		rounds.push({
			sessionPipelineUs,
			applyUs,
			applicablePartUs: checkAndApply - applyUs,
			wireUs,
			envelopeUs,
			scratchDocUs,
			scratchDocFixedGuidUs,
			signVerifyUs
		});
		target.destroy();
		checker.destroy();
	}
	const pick = (key: keyof MicroCosts) => median(rounds.map((r) => r[key]));
	const keysOf = Object.keys(rounds[0] ?? {}) as Array<keyof MicroCosts>;
	return Object.fromEntries(keysOf.map((key) => [key, pick(key)])) as unknown as MicroCosts;
}
