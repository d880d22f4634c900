/**
 * This device's identity: an Ed25519 key pair kept in Dexie in libp2p's protobuf encoding,
 * so the mesh can use the same key and its peer id as this device's libp2p identity.
 */
import { deviceKeyFromProtobuf, deviceKeyToProtobuf, generateDeviceKey, peerIdOfKey, type DeviceKey } from '../doc/deviceKey.js';
import type { OutpostDb } from './db.js';

/** The device identity in use. */
export interface Identity {
	privateKey: DeviceKey;
	/** The libp2p peer id (base58btc, `12D3KooW…`). */
	peerId: string;
	displayName: string;
}

/** Longest display name kept. */
export const MAX_DISPLAY_NAME = 80;

/**
 * Loads this device's identity, creating and storing a new key on first use. One transaction,
 * so tabs opened together on a first launch get the one key (found in review: each made its
 * own, and a tab whose write lost signed with a key stored nowhere). A row that cannot be read
 * as a key is kept aside, never overwritten.
 */
export async function loadOrCreateIdentity(db: OutpostDb): Promise<Identity> {
	return db.transaction('rw', db.identity, db.settings, async () => {
		const row = await db.identity.get('self');
		if (row) {
			try {
				if (!(row.privateKey instanceof Uint8Array)) throw new TypeError('the stored key is not bytes');
				const privateKey = deviceKeyFromProtobuf(row.privateKey);
				return { privateKey, peerId: peerIdOfKey(privateKey), displayName: row.displayName ?? '' };
			} catch (err) {
				// A damaged key cannot be repaired; keep the row aside and start a new identity.
				console.warn('identity key unreadable, creating a new one', err);
				await db.settings.put({ key: `damaged-identity:${Date.now()}`, value: row });
			}
		}
		const privateKey = generateDeviceKey();
		const peerId = peerIdOfKey(privateKey);
		await db.identity.put({
			id: 'self',
			privateKey: deviceKeyToProtobuf(privateKey),
			peerId,
			displayName: '',
			createdAt: Date.now()
		});
		return { privateKey, peerId, displayName: '' };
	});
}

/** Stores a new display name (trimmed, bounded). */
export async function saveDisplayName(db: OutpostDb, name: string): Promise<string> {
	const clean = name.trim().slice(0, MAX_DISPLAY_NAME);
	await db.identity.update('self', { displayName: clean });
	return clean;
}
