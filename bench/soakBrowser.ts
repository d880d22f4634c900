/**
 * The page side of the soak run's Chromium peers (bench/soakRun.ts), bundled for the browser:
 * a member device of the soak's team in a page, as the in-process peers are in Node. Its
 * browser mesh node dials the relay over WebSocket, its MeshService syncs the workspace over
 * in-memory documents under the team (sessions by identity, the write policy on every apply),
 * and it posts into the soak's channels every `periodMs` while told to.
 */
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import * as Y from 'yjs';
import { TeamAuthority } from '../src/lib/core/TeamAuthority.js';
import { ChannelDoc } from '../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../src/lib/doc/hlc.js';
import { newId } from '../src/lib/doc/ids.js';
import { teamRosterId } from '../src/lib/doc/team/teamId.js';
import { meshService, type MeshService } from '../src/lib/mesh/MeshService.js';
import { createMeshNode } from '../src/lib/mesh/node.browser.js';
import type { MeshNode } from '../src/lib/mesh/node.js';
import { fromHex } from '../src/lib/mesh/workspaceKeys.js';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.js';
import type { SoakPageModule } from './soakPages.js';

const state: {
	node?: MeshNode;
	mesh?: MeshService;
	docs?: MemoryDocs;
	authority?: TeamAuthority;
	peerId?: string;
	channels: string[];
	writer?: ReturnType<typeof setInterval>;
	sent: number;
	errors: string[];
} = { channels: [], sent: 0, errors: [] };

/** Starts this page's member device against the relay and joins the workspace; returns its peer id. */
export async function start(init: { relay: string; keyHex: string; workspaceId: string; secretHex: string; rosterHex: string; channels: string[] }): Promise<string> {
	const privateKey = privateKeyFromProtobuf(fromHex(init.keyHex));
	const node = await createMeshNode({ privateKey, bootstrap: [init.relay] });
	const peerId = node.peerId.toString();
	const docs = new MemoryDocs(init.workspaceId);
	// The team as the owner wrote it (the same roster items as every other device holds).
	Y.applyUpdate(docs.get(teamRosterId(init.workspaceId)), fromHex(init.rosterHex));
	const authority = new TeamAuthority({ workspaceId: init.workspaceId, doc: docs.get(teamRosterId(init.workspaceId)), device: { peerId, privateKey } });
	await authority.settled();
	const mesh = meshService({})({ node });
	mesh.on('error', (e) => state.errors.push(`${e.error.name}: ${e.error.message}`));
	await mesh.start();
	await mesh.addWorkspace({ id: init.workspaceId, secret: fromHex(init.secretHex), docs, authority });
	Object.assign(state, { node, mesh, docs, authority, peerId, channels: init.channels });
	return peerId;
}

/** Posts a message every `periodMs`, into the channels in turn, until {@link stopPosting}. */
export function startPosting(periodMs: number): void {
	const { docs, peerId } = state;
	if (docs === undefined || peerId === undefined) throw new Error('not started');
	state.writer = setInterval(() => {
		const channel = new ChannelDoc(docs.get(state.channels[state.sent % state.channels.length]!));
		state.sent++;
		channel.post({ id: newId(), author: peerId, hlc: formatHlc({ wall: Date.now(), counter: state.sent, node: peerId }), text: `message ${state.sent} from ${peerId}`, sig: 'sig' });
	}, periodMs);
}

/** Stops posting; returns how many messages this page sent. */
export function stopPosting(): number {
	clearInterval(state.writer);
	return state.sent;
}

/** Messages sent so far, messages held (every channel), and what the mesh reported. */
export function counts(): { sent: number; held: number; errors: string[] } {
	const held = state.channels.reduce((n, id) => n + (state.docs?.docs.get(id)?.getArray('messages').length ?? 0), 0);
	return { sent: state.sent, held, errors: state.errors.slice(-5) };
}

/** Stops the mesh and the node. */
export async function stop(): Promise<void> {
	clearInterval(state.writer);
	state.authority?.destroy();
	await state.mesh?.stop();
	await state.node?.stop();
}

// This module is the page's side of soakPages.ts: the shape that module calls.
({ start, startPosting, stopPosting, counts, stop }) satisfies SoakPageModule;
