/**
 * The fuzz run shared by `npm test` (100,000 cases) and `npm run bench:fuzz` (1,000,000):
 * honest inputs of every protocol stage and document type, mutated (random bytes, cut short,
 * bits flipped, a length field blown up, two inputs spliced), each fed to the layer that
 * takes it from a peer:
 *
 * - `wire`: every message type of the sync protocol (membership and sync stages) through
 *   `decodeMessage`, which may refuse only with the protocol's named errors;
 * - `update:<type>`: updates to a channel, a workspace root, an AI chat and a plain
 *   document through the update check (`applicablePart`), the document's write policy
 *   (`checkRemoteUpdate`) and, when both accept, `applyRemoteUpdate` on the real document
 *   (what every replica applies a checked remote update with: it keeps nothing pending), which
 *   must then not throw (the dry run's promise);
 * - `envelope`: sealed gossip envelopes through `openEnvelope` (named `EnvelopeError` only).
 *
 * A crash is any other exception; a hang, a case over {@link HANG_MS}, by either of two
 * measures. CPU time (of this process, WebCrypto's threads included): the work the input cost,
 * which the machine's load leaves alone. Wall time, which a loaded machine stretches (a test
 * run beside others gets a fraction of a core) but which also counts a case that waits: a case
 * over the bound by the wall clock alone is run again alone where that repeats it exactly (it
 * left everything as it was: all but an accepted update), and is a hang when it is over the
 * bound again. Crashes and hangs name their case, the seed and the input (hex).
 *
 * After the run (the honest peers' view) each document still takes another honest peer's next
 * record and holds it, and still holds what was honestly written before the run. The honest
 * writer's own next record is tried first and only reported where it does not arrive: every
 * mutated update is written under its client id, a limit the README lists (fuzzDocs.ts).
 *
 * Deterministic from its seed (mulberry32): the ids and Yjs client ids of the honest documents
 * are drawn from it too, and what a mutation draws never depends on the bytes it mutates (an
 * envelope's nonce is random), so a seed replays the same inputs against the same states. Found
 * so: with random client ids every run differed, and about one in fifteen crashed, on a check
 * that passed followed by a raw `Y.applyUpdate` integrating structs an earlier hostile update
 * had left pending, unchecked (tests/unit/mesh/fuzzLayers.test.ts). Replicas apply with
 * `applyRemoteUpdate`, which keeps nothing pending; so does the run now.
 */
import * as Y from 'yjs';
import { checkRemoteUpdate } from '../../src/lib/doc/team/writePolicy.js';
import { MessageType, PROTOCOL_VERSION, DEFAULT_LIMITS } from '../../src/lib/mesh/constants.js';
import { openEnvelope, sealEnvelope } from '../../src/lib/mesh/gossipEnvelope.js';
import { applicablePart, applyRemoteUpdate } from '../../src/lib/mesh/updateCheck.js';
import { decodeMessage, encodeMessage, type Message } from '../../src/lib/mesh/wire.js';
import { deriveWorkspaceKeys } from '../../src/lib/mesh/workspaceKeys.js';
import { mulberry32 } from '../fixtures/random.js';
import { docCases, seededId, type DocCase, type Random } from './fuzzDocs.js';

/** Errors a layer may refuse hostile input with. */
const NAMED = new Set(['MalformedMessageError', 'MessageTooLargeError', 'UnexpectedMessageError', 'ProtocolVersionError', 'EnvelopeError']);

/** A case that takes longer than this is a hang. */
export const HANG_MS = 1000;

/** The origin of the updates the run applies. */
const FUZZ_ORIGIN = 'fuzz';

/** What a run found. */
export interface FuzzFigures {
	cases: number;
	/** Cases per layer. */
	byLayer: Record<string, number>;
	/** Mutated inputs a layer accepted (well-formed after all) per layer. */
	accepted: Record<string, number>;
	seed: number;
	/** Exceptions that were not a named refusal: layer, case, seed and input (hex), to replay. */
	crashes: string[];
	/** Cases over {@link HANG_MS} (see the module comment for how a case is timed), described as crashes are. */
	hangs: string[];
	/** The case that took the most CPU time. */
	slowest: { layer: string; ms: number; case: number };
	/** The case that took longest by the clock on the wall (machine load included). */
	longestWall: { layer: string; ms: number; case: number };
	seconds: number;
	/** Documents whose honest writer's next record did not arrive (fuzzDocs.ts `DocCase.fromWriter`: a limit the README lists). */
	writerCutOff: string[];
	/** Whether every document still took another honest peer's record and held its honest content afterwards. */
	honestIntact: boolean;
}

/** A mutation of `bytes` that differs from it (and from `other`: a splice could give either back whole). */
function mutate(bytes: Uint8Array, random: Random, other: Uint8Array): Uint8Array {
	const out = mutation(bytes, random, other);
	// Drawn whether needed or not: what is drawn never depends on the bytes (an envelope's nonce is random).
	const [where, bit] = [random(), random()];
	if (!same(out, bytes) && !same(out, other)) return out;
	const flipped = out.length > 0 ? out.slice() : Uint8Array.of(0);
	flipped[Math.floor(where * flipped.length)]! ^= 1 << Math.floor(bit * 8);
	return flipped;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((x, i) => x === b[i]);
}

function mutation(bytes: Uint8Array, random: Random, other: Uint8Array): Uint8Array {
	const kind = Math.floor(random() * 5);
	if (kind === 0) return Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256));
	if (kind === 1) return bytes.slice(0, Math.floor(random() * bytes.length));
	if (kind === 2) {
		const out = bytes.slice();
		for (let i = 1 + Math.floor(random() * 4); i > 0 && out.length > 0; i--) out[Math.floor(random() * out.length)]! ^= 1 << Math.floor(random() * 8);
		return out;
	}
	if (kind === 3) {
		// A varint blown up at a random place: a huge length or count where a small one was.
		const atByte = Math.floor(random() * (bytes.length + 1));
		const huge = [0xff, 0xff, 0xff, 0xff, 0x0f].slice(0, 1 + Math.floor(random() * 5));
		return Uint8Array.from([...bytes.subarray(0, atByte), ...huge, ...bytes.subarray(atByte + 1)]);
	}
	const cut = Math.floor(random() * bytes.length);
	return Uint8Array.from([...bytes.subarray(0, cut), ...other.subarray(Math.floor(random() * other.length))]);
}

/** Honest messages of every type of the sync protocol. */
function wireMessages(workspaceId: string, update: Uint8Array, random: Random): Uint8Array[] {
	const newId = () => seededId(random);
	const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
	const messages: Message[] = [
		{ type: MessageType.hello, version: PROTOCOL_VERSION, workspaceId, nonce: bytes(32), admission: bytes(200) },
		{ type: MessageType.challenge, nonce: bytes(32), proof: bytes(32) },
		{ type: MessageType.proof, proof: bytes(32) },
		{ type: MessageType.ok },
		{ type: MessageType.denied, reason: 3 },
		{ type: MessageType.digest, more: false, entries: [newId(), newId(), newId()].map((docId) => ({ docId, digest: bytes(32) })) },
		{ type: MessageType.syncStep1, docId: newId(), stateVector: Y.encodeStateVector(new Y.Doc()) },
		{ type: MessageType.syncStep2, docId: newId(), update },
		{ type: MessageType.update, docId: newId(), update },
		{ type: MessageType.done, received: 3 }
	] as Message[];
	return messages.map(encodeMessage);
}

/** The input one case feeds to its layer, and that layer's handling of it (true: accepted). */
interface Case {
	layer: string;
	input: Uint8Array;
	run: () => boolean | Promise<boolean>;
	/** Whether it changes nothing when it is refused as well as when accepted (all but updates, which an accepted one changes). */
	pure: boolean;
}

/** Milliseconds of CPU time this process spent since `since` (all its threads: WebCrypto's too). */
function cpuMsSince(since: NodeJS.CpuUsage): number {
	const { user, system } = process.cpuUsage(since);
	return (user + system) / 1000;
}

/** Wall and CPU milliseconds `run` took, and what it returned or threw. */
async function timed(run: () => boolean | Promise<boolean>): Promise<{ wall: number; cpu: number; accepted: boolean; error?: unknown }> {
	const wall0 = performance.now();
	const cpu0 = process.cpuUsage();
	let accepted = false;
	let error: unknown;
	let threw = false;
	try {
		accepted = await run();
	} catch (caught) {
		threw = true;
		error = caught;
	}
	const out = { wall: performance.now() - wall0, cpu: cpuMsSince(cpu0), accepted };
	return threw ? { ...out, error } : out;
}

/** Runs `count` cases from `seed`; see the module comment. */
export async function fuzzLayers(count: number, seed = 1): Promise<FuzzFigures> {
	const random = mulberry32(seed);
	const workspaceId = seededId(random);
	const keys = await deriveWorkspaceKeys(workspaceId, Uint8Array.from({ length: 32 }, (_, i) => i));
	const docs = docCases(workspaceId, random);
	const docNames = Object.keys(docs);
	const wire = wireMessages(workspaceId, docs.channel!.honest[1]!, random);
	const envelopes = await Promise.all(docs.plain!.honest.slice(0, 4).map((u) => sealEnvelope(keys, docs.plain!.docId, u)));
	const figures: FuzzFigures = {
		seed,
		cases: 0,
		byLayer: {},
		accepted: {},
		crashes: [],
		hangs: [],
		slowest: { layer: '', ms: 0, case: -1 },
		longestWall: { layer: '', ms: 0, case: -1 },
		seconds: 0,
		writerCutOff: [],
		honestIntact: false
	};
	const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
	/** A layer's refusal of `error`: false when it is one of the named ones, else rethrown (a crash). */
	const refusal = (error: unknown): false => {
		if (!(error instanceof Error) || !NAMED.has(error.name)) throw error;
		return false;
	};
	/** The next case: a layer, a mutated input drawn for it, and the layer's handling. */
	const draw = (): Case => {
		const roll = random();
		if (roll < 0.45) {
			const input = mutate(pick(wire), random, pick(wire));
			const run = (): boolean => {
				try {
					decodeMessage(input, DEFAULT_LIMITS);
					return true;
				} catch (error) {
					return refusal(error);
				}
			};
			return { layer: 'wire', input, pure: true, run };
		}
		if (roll >= 0.98) {
			const input = mutate(pick(envelopes), random, pick(envelopes));
			return { layer: 'envelope', input, pure: true, run: () => openEnvelope(keys, input).then(() => true, refusal) };
		}
		const name = pick(docNames);
		const doc = docs[name]!;
		const input = mutate(pick(doc.honest), random, pick(doc.honest));
		return {
			layer: `update:${name}`,
			input,
			pure: false,
			run: () => {
				const part = applicablePart(input, Y.encodeStateVector(doc.target));
				if (part === undefined || checkRemoteUpdate(workspaceId, doc.docId, doc.target, part, doc.context) !== undefined) return false;
				// What every replica does with a checked remote update (DocStore, the relay's
				// archive): it keeps nothing pending, so the policy saw all that integrates. Must
				// not throw: the check passed.
				applyRemoteUpdate(doc.target, part, FUZZ_ORIGIN);
				return true;
			}
		};
	};
	const started = performance.now();

	for (let i = 0; i < count; i++) {
		const { layer, input, run, pure } = draw();
		const where = () => `${layer} case ${i} of seed ${seed}`;
		const inputHex = () => Buffer.from(input).toString('hex');
		const result = await timed(run);
		if ('error' in result) {
			const { error } = result;
			figures.crashes.push(`${where()}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}; input ${inputHex()}`);
		}
		if (result.cpu > figures.slowest.ms) figures.slowest = { layer, ms: result.cpu, case: i };
		if (result.wall > figures.longestWall.ms) figures.longestWall = { layer, ms: result.wall, case: i };
		// Over the bound by the wall clock only: the machine ran other work, or the case waited.
		// Run again alone where that is the same case (it left everything as it was), to tell.
		const unchanged = pure || (!result.accepted && !('error' in result));
		const again = result.wall > HANG_MS && result.cpu <= HANG_MS && unchanged ? (await timed(run)).wall : undefined;
		if (result.cpu > HANG_MS || (again !== undefined && again > HANG_MS)) {
			const rerun = again === undefined ? '' : `, ${again.toFixed(0)} ms on the wall clock again`;
			figures.hangs.push(`${where()}: ${result.cpu.toFixed(0)} ms CPU, ${result.wall.toFixed(0)} ms on the wall clock${rerun}; input ${inputHex()}`);
		}
		figures.cases++;
		figures.byLayer[layer] = (figures.byLayer[layer] ?? 0) + 1;
		if (result.accepted) figures.accepted[layer] = (figures.accepted[layer] ?? 0) + 1;
	}
	figures.seconds = (performance.now() - started) / 1000;
	/** Whether `doc`'s target takes honest update `update` as a replica does: checked, then applied. */
	const takes = (doc: DocCase, update: Uint8Array): boolean => {
		const part = applicablePart(update, Y.encodeStateVector(doc.target));
		if (part === undefined || checkRemoteUpdate(workspaceId, doc.docId, doc.target, part, doc.context) !== undefined) return false;
		applyRemoteUpdate(doc.target, part, FUZZ_ORIGIN);
		return true;
	};
	for (const [name, doc] of Object.entries(docs)) if (!(takes(doc, doc.fromWriter()) && doc.holdsLast())) figures.writerCutOff.push(name);
	figures.honestIntact = Object.values(docs).every((doc) => takes(doc, doc.fromPeer()) && doc.holdsLast() && doc.intact());
	return figures;
}

/** One line of figures. */
export function fuzzReport(f: FuzzFigures): string {
	const layers = Object.entries(f.byLayer)
		.sort()
		.map(([layer, n]) => `${layer} ${n} (${f.accepted[layer] ?? 0} accepted)`)
		.join(', ');
	return (
		`fuzz (seed ${f.seed}): ${f.cases} mutated inputs in ${f.seconds.toFixed(1)} s (${Math.round(f.cases / f.seconds)}/s); ` +
		`${f.crashes.length} crashes, ${f.hangs.length} over 1 s, slowest ${f.slowest.ms.toFixed(1)} ms of CPU (${f.slowest.layer}, case ${f.slowest.case}), ` +
		`longest on the wall clock ${f.longestWall.ms.toFixed(1)} ms (${f.longestWall.layer}, case ${f.longestWall.case}); ` +
		`honest documents intact: ${f.honestIntact ? 'yes' : 'NO'}${f.writerCutOff.length > 0 ? ` (the mutated writer's own next record lost: ${f.writerCutOff.join(', ')})` : ''}; ${layers}`
	);
}
