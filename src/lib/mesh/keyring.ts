/**
 * The gossip keys of one workspace (PROTOCOL.md "Key generations"). The team's `keys`
 * operations (doc/team) seal each generation's workspace key to every device; this keyring
 * opens this device's boxes and keeps, per generation id, the AES-GCM key that gossip
 * envelopes (gossipEnvelope.ts) of that generation are sealed with.
 *
 * - **Sealing** uses the team's current (newest) generation, so a member removed before it
 *   was made cannot read what is sent from then on. While the team has no generation yet,
 *   the legacy key derived from the workspace secret (key id '') is used; once it has one
 *   that this device cannot open yet, sealing fails with {@link GossipKeyUnavailableError}
 *   rather than fall back to a key a removed member holds.
 * - **Opening** accepts every generation this device holds (envelopes sealed just before a
 *   rotation are still in flight), and the legacy key only while the team has no
 *   generation: the secret travels in invite links, so once keys are generated it no
 *   longer admits anyone.
 * - **Admitting** a device after a rotation takes a holder of the current generation: the
 *   keyring keeps each opened workspace key in memory, and {@link GossipKeyring.sealCurrentTo}
 *   seals the current one to new devices (a `keys` operation of the same generation).
 */
import type { DeviceKey } from '../doc/deviceKey.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Team } from '../doc/team/fold.js';
import { openCheckedKeyBox, sealForDevices } from '../doc/team/keyBox.js';
import { GossipKeyUnavailableError, KeyBoxRejectedError } from './errors.js';
import { deriveBytes, KeyPurpose, type WorkspaceKeys } from './workspaceKeys.js';

/** A gossip key and the id envelopes name it by ('' for the legacy key). */
export interface GossipKey {
	readonly id: string;
	readonly key: CryptoKey;
}

/** Options of a {@link GossipKeyring}. */
export interface GossipKeyringInit {
	workspaceId: string;
	/** The legacy gossip key, derived from the workspace secret (`WorkspaceKeys.gossip`). */
	legacy: CryptoKey;
	/** Told about each box of this device that does not open, once per generation (it must not throw). */
	onError?: (error: Error) => void;
}

/** The id under which envelopes sealed with the legacy key travel. */
export const LEGACY_KEY_ID = '';

/** HKDF `info` of a generation's gossip key, derived from its workspace key. */
export const GENERATION_GOSSIP_PURPOSE = 'outpost/gossip-generation/1';

const utf8 = new TextEncoder();

/**
 * The gossip key bytes of a key generation: HKDF-SHA256(ikm = the generation's workspace
 * key, salt = UTF-8(workspaceId), info = {@link GENERATION_GOSSIP_PURPOSE}, 32).
 */
export function generationGossipBytes(workspaceKey: Uint8Array, workspaceId: string): Uint8Array {
	return hkdf(sha256, workspaceKey, utf8.encode(workspaceId), utf8.encode(GENERATION_GOSSIP_PURPOSE), 32);
}

/** The gossip keys of one workspace; see the module comment. */
export class GossipKeyring {
	readonly workspaceId: string;
	private readonly legacy: GossipKey;
	/** Opened generations: id → AES-GCM key. */
	private readonly keys = new Map<string, CryptoKey>();
	/** Opened generations: id → workspace key, kept to seal it to devices admitted later. */
	private readonly workspaceKeys = new Map<string, Uint8Array>();
	/** Opened generations: id → the box opened (a box the team later puts in its place is opened again). */
	private readonly opened = new Map<string, string>();
	/** Generations whose box did not open, or held another key than the generation's: id → that box (reported once). */
	private readonly failed = new Map<string, string>();
	/** The team's current generation, undefined while it has none. */
	private currentGen: string | undefined;
	/** Counts calls of {@link update}, so that only the latest one sets the current generation. */
	private updates = 0;

	constructor(private readonly init: GossipKeyringInit) {
		this.workspaceId = init.workspaceId;
		this.legacy = { id: LEGACY_KEY_ID, key: init.legacy };
	}

	/** A keyring holding only the legacy key of `keys` (what envelopes use without a keyring). */
	static legacyOnly(keys: Pick<WorkspaceKeys, 'workspaceId' | 'gossip'>): GossipKeyring {
		return new GossipKeyring({ workspaceId: keys.workspaceId, legacy: keys.gossip });
	}

	/** A keyring for a workspace, its legacy key derived from the secret; pass the team to {@link update}. */
	static async fromSecret(workspaceId: string, secret: Uint8Array, onError?: (error: Error) => void): Promise<GossipKeyring> {
		const legacy = await importGossipKey(await deriveBytes(secret, workspaceId, KeyPurpose.gossip));
		return new GossipKeyring({ workspaceId, legacy, ...(onError ? { onError } : {}) });
	}

	/** The id of the team's current key generation ('' while it has none). */
	get currentId(): string {
		return this.currentGen ?? LEGACY_KEY_ID;
	}

	/**
	 * The key envelopes are sealed with now.
	 * @throws {GossipKeyUnavailableError} when the team's current generation has not been opened here.
	 */
	current(): GossipKey {
		if (this.currentGen === undefined) return this.legacy;
		const key = this.keys.get(this.currentGen);
		if (key === undefined) throw new GossipKeyUnavailableError(this.currentGen);
		return { id: this.currentGen, key };
	}

	/** The key of generation `id` ('' for the legacy key), undefined when this device does not hold it. */
	get(id: string): CryptoKey | undefined {
		if (id === LEGACY_KEY_ID) return this.currentGen === undefined ? this.legacy.key : undefined;
		return this.keys.get(id);
	}

	/** Whether this device holds the key of generation `id`. */
	has(id: string): boolean {
		return this.keys.has(id);
	}

	/**
	 * The body of a `keys` operation that seals the current generation's key to `devices`
	 * (devices admitted after it was made), for an author that holds it; undefined while the
	 * team has no generation or this device does not hold the current one.
	 * @throws {KeyBoxError} when a device is not an Ed25519 peer id.
	 */
	sealCurrentTo(devices: Iterable<string>): { t: 'keys'; gen: string; boxes: Record<string, string> } | undefined {
		const gen = this.currentGen;
		const key = gen === undefined ? undefined : this.workspaceKeys.get(gen);
		if (gen === undefined || key === undefined) return undefined;
		return { t: 'keys', gen, boxes: sealForDevices(key, devices, this.workspaceId, gen) };
	}

	/**
	 * Takes the team as folded now: opens the boxes sealed to `peerId` (this device, whose key
	 * is `privateKey`) of every generation not opened yet (or whose box the team replaced: a
	 * keeper's box in place of one a key holder gave first), and follows the team's current
	 * generation. A box that does not open, or holds a key that fails the generation's check,
	 * is reported through `onError`, never thrown, and its key is not used.
	 */
	async update(team: Team, privateKey: DeviceKey, peerId: string): Promise<void> {
		if (team.workspaceId !== this.workspaceId) throw new TypeError(`team of ${team.workspaceId}, keyring of ${this.workspaceId}`);
		const call = ++this.updates;
		const opening: Promise<void>[] = [];
		for (const generation of team.keyGenerations.values()) {
			const box = generation.boxes.get(peerId);
			if (box === undefined || this.opened.get(generation.id) === box || this.failed.get(generation.id) === box) continue;
			opening.push(this.open(generation.id, box, privateKey, generation.check));
		}
		await Promise.all(opening);
		if (call === this.updates) this.currentGen = team.currentKey;
	}

	private async open(generation: string, box: string, privateKey: DeviceKey, check: string | undefined): Promise<void> {
		let bytes: Uint8Array;
		try {
			bytes = openCheckedKeyBox(privateKey, box, this.workspaceId, generation, check);
		} catch (error) {
			if (this.failed.get(generation) === box) return;
			this.failed.set(generation, box);
			this.init.onError?.(new KeyBoxRejectedError(generation, error));
			return;
		}
		const key = await importGossipKey(generationGossipBytes(bytes, this.workspaceId));
		if (this.opened.get(generation) === box) return;
		this.keys.set(generation, key);
		this.workspaceKeys.set(generation, bytes);
		this.opened.set(generation, box);
		this.failed.delete(generation);
	}
}

/** Imports 32 bytes as a non-extractable AES-GCM key, then zeroes them. */
async function importGossipKey(bytes: Uint8Array): Promise<CryptoKey> {
	try {
		return await crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
	} finally {
		bytes.fill(0);
	}
}
