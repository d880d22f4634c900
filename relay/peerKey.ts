/**
 * The relay's libp2p identity: an Ed25519 key kept in `<data>/peer-key` in libp2p's
 * protobuf encoding (as devices keep theirs), made on first start. The peer id derives
 * from it, so the relay's multiaddrs — in invites and other relays' `--peer` flags —
 * stay valid across restarts.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { PeerKeyError } from './errors.ts';

/** Where the key lives in a data directory. */
export function peerKeyPath(dataDir: string): string {
	return join(dataDir, 'peer-key');
}

/**
 * The stored key, or a new one written there when there is none.
 * @throws {PeerKeyError} when the file exists but is not a key: never silently replace
 *   an identity other relays and invites know.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<{ key: PrivateKey; created: boolean }> {
	const path = peerKeyPath(dataDir);
	let bytes: Uint8Array | undefined;
	try {
		bytes = await readFile(path);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	if (bytes !== undefined) {
		try {
			return { key: privateKeyFromProtobuf(bytes), created: false };
		} catch (error) {
			throw new PeerKeyError(`${path} is not a libp2p private key; move it away to make a new identity`, { cause: error });
		}
	}
	const key = await generateKeyPair('Ed25519');
	await mkdir(dirname(path), { recursive: true });
	const temp = `${path}.${process.pid}.tmp`;
	await writeFile(temp, privateKeyToProtobuf(key), { mode: 0o600 });
	await rename(temp, path);
	return { key, created: true };
}
