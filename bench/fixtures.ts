/**
 * Builds a channel's history in Node the way it would reach a device from its peers:
 * properly signed {@link MessageRecord}s by several other devices (each with its own
 * Ed25519 key and Yjs client id), Markdown text of varying length, a few thread replies,
 * all encoded as ONE Yjs update, the form y-indexeddb stores after compacting a document.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import * as Y from 'yjs';
import { ChannelDoc } from '../src/lib/doc/ChannelDoc.js';
import { formatHlc } from '../src/lib/doc/hlc.js';
import { base32 } from '../src/lib/doc/ids.js';
import type { MessageRecord } from '../src/lib/doc/schema.js';
import { signMessage } from '../src/lib/doc/signature.js';
import { mulberry32 } from '../tests/fixtures/random.js';
import type { TeamOp, TeamOpBody } from '../src/lib/doc/team/ops.js';
import { signTeamOp } from '../src/lib/doc/team/sign.js';
import { newTeamNonce, teamWorkspaceId } from '../src/lib/doc/team/teamId.js';

/** Another device writing into the channel. */
export interface Device {
	key: PrivateKey;
	peerId: string;
	/** The Yjs client id its edits carry. */
	clientId: number;
}

/** A generated channel history. */
export interface ChannelFixture {
	/** The messages in the order they were written. */
	records: MessageRecord[];
	/** `Y.encodeStateAsUpdate` of the channel document holding them. */
	update: Uint8Array;
	/** How many of the records are thread replies. */
	replies: number;
	/** Milliseconds spent signing and encoding. */
	signMs: number;
	encodeMs: number;
}

/** A small deterministic PRNG, so every run plants the same kind of text. */
export const seededRandom = mulberry32;

/** Creates `count` devices with fresh keys and distinct Yjs client ids. */
export async function makeDevices(count: number, random: () => number): Promise<Device[]> {
	const devices: Device[] = [];
	for (let i = 0; i < count; i++) {
		const key = await generateKeyPair('Ed25519');
		devices.push({ key, peerId: peerIdFromPrivateKey(key).toString(), clientId: 1 + Math.floor(random() * 0x7fffffff) });
	}
	return devices;
}

const WORDS = (
	'the build is green again after the relay fix can someone review my branch before lunch ' +
	'deploy window opens at four we moved the standup to tomorrow morning please check the ' +
	'offline sync on the tablet battery drain looks better with the new scheduler notes from ' +
	'the planning meeting are in the wiki latency on the mesh dropped to a few milliseconds ' +
	'thanks for the quick turnaround I will pick up the storage migration next week'
).split(' ');

const NAMES = ['alice', 'bao', 'chen', 'dara', 'emeka', 'farah'];

/** One message text of 20–200 characters, sometimes with Markdown. */
export function messageText(random: () => number): string {
	const target = 20 + Math.floor(random() * 181);
	const words: string[] = [];
	let length = 0;
	while (length < target) {
		let w = WORDS[Math.floor(random() * WORDS.length)] ?? 'ok';
		const r = random();
		if (r < 0.03) w = `**${w}**`;
		else if (r < 0.05) w = `_${w}_`;
		else if (r < 0.07) w = `\`${w}()\``;
		else if (r < 0.08) w = `@${NAMES[Math.floor(random() * NAMES.length)] ?? 'alice'}`;
		else if (r < 0.09) w = `[${w}](https://example.org/${w})`;
		words.push(w);
		length += w.length + 1;
	}
	let text = words.join(' ');
	const shape = random();
	if (shape < 0.04) text = `- ${words.slice(0, 3).join(' ')}\n- ${words.slice(3).join(' ')}`;
	else if (shape < 0.06) text = `> ${text}`;
	else if (shape < 0.07) text = '```\n' + text + '\n```';
	text = text.slice(0, 200).trim();
	return text.length >= 20 ? text : text.padEnd(20, '.');
}

/** A random 128-bit id from the seeded generator (same format as ids.ts `newId`). */
function seededId(random: () => number): string {
	const bytes = new Uint8Array(16);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
	return base32(bytes);
}

/**
 * Signs `count` messages by `devices` spread over the weeks before `endWall` (about 30 s
 * apart on average), about 4% of them thread replies to a recent top-level message, and
 * encodes them as one update: each message is its own Yjs transaction by its author's
 * client, as if it had been synced message by message, then compacted.
 */
export async function buildChannel(count: number, devices: Device[], endWall: number, random: () => number): Promise<ChannelFixture> {
	const signStart = performance.now();
	const gaps: number[] = [];
	for (let i = 0; i < count; i++) gaps.push(1000 + Math.floor(random() * 59_000));
	let wall = endWall - gaps.reduce((a, b) => a + b, 0);
	const drafts: { device: Device; m: Omit<MessageRecord, 'sig'> }[] = [];
	const recentTop: string[] = [];
	let replies = 0;
	for (let i = 0; i < count; i++) {
		wall += gaps[i] ?? 1000;
		const device = devices[Math.floor(random() * devices.length)] ?? devices[0]!;
		const id = seededId(random);
		const m: Omit<MessageRecord, 'sig'> = {
			id,
			author: device.peerId,
			hlc: formatHlc({ wall, counter: 0, node: device.peerId }),
			text: messageText(random)
		};
		if (recentTop.length > 0 && random() < 0.04) {
			m.parent = recentTop[Math.floor(random() * recentTop.length)];
			replies++;
		} else {
			recentTop.push(id);
			if (recentTop.length > 50) recentTop.shift();
		}
		drafts.push({ device, m });
	}
	const records: MessageRecord[] = [];
	const BATCH = 2000;
	for (let i = 0; i < drafts.length; i += BATCH) {
		const batch = drafts.slice(i, i + BATCH);
		records.push(...(await Promise.all(batch.map(({ device, m }) => signMessage(device.key, m)))));
	}
	const signMs = performance.now() - signStart;

	const encodeStart = performance.now();
	const doc = new Y.Doc({ gc: true });
	const channel = new ChannelDoc(doc);
	const byPeer = new Map(devices.map((d) => [d.peerId, d]));
	for (const r of records) {
		// The author's device wrote this message: its items carry that device's client id.
		doc.clientID = byPeer.get(r.author)?.clientId ?? doc.clientID;
		channel.post(r); // one transaction per message, as a device writes them
	}
	const update = Y.encodeStateAsUpdate(doc);
	doc.destroy();
	return { records, update, replies, signMs, encodeMs: performance.now() - encodeStart };
}

/**
 * Median time (ms) of applying `update` to a fresh Y.Doc in Node, the way y-indexeddb
 * applies stored updates (inside one transaction); the least any Yjs app pays to load it.
 */
export function nodeDecodeMs(update: Uint8Array, rounds: number): number {
	const times: number[] = [];
	for (let i = 0; i < rounds; i++) {
		const doc = new Y.Doc();
		const start = performance.now();
		Y.transact(doc, () => Y.applyUpdate(doc, update), 'bench', false);
		times.push(performance.now() - start);
		doc.destroy();
	}
	times.sort((a, b) => a - b);
	return times[Math.floor(times.length / 2)] ?? NaN;
}

/**
 * A bench's signed team: `owner` creates it, then adds the relay (role `relay`) and each of
 * `members` (role `member`). Returns the workspace id the team founds and its operations in order.
 */
export async function signedTeam(owner: { key: PrivateKey; peerId: string }, relayPeerId: string, members: readonly string[]): Promise<{ workspaceId: string; ops: TeamOp[] }> {
	const nonce = newTeamNonce();
	const workspaceId = teamWorkspaceId(owner.peerId, nonce);
	const ops: TeamOp[] = [];
	const write = async (body: TeamOpBody) =>
		ops.push(await signTeamOp(owner.key, owner.peerId, { ws: workspaceId, prev: ops.length ? [ops.at(-1)!.id] : [], at: Date.now() }, body));
	await write({ t: 'create', nonce, name: 'Owner' });
	await write({ t: 'add', member: relayPeerId, role: 'relay', name: 'Relay' });
	for (const [i, member] of members.entries()) await write({ t: 'add', member, role: 'member', name: members.length === 1 ? 'Member' : `Member ${i + 1}` });
	return { workspaceId, ops };
}
