/**
 * Tab delegations. One browser tab per profile runs its libp2p node with the device key;
 * any other tab runs with a throwaway key (two nodes cannot share a peer id). The device key
 * signs a short-lived delegation naming that throwaway peer id, which the tab presents as
 * its admission: a peer admits it while the delegating device is a current member device
 * and the delegation has not expired. A delegation writes nothing into the team.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { verifyByPeerId, type DeviceKey } from '../deviceKey.js';
import { isPeerIdString } from './ops.js';

/** Tag at the start of every encoded delegation (distinct from a team operation's). */
export const DELEGATION_TAG = 'outpost/tab-delegation/1';
/** How long a delegation is valid (a tab makes a new one each time it starts). */
export const DELEGATION_MS = 30 * 24 * 60 * 60 * 1000;

/** A delegation: `device` lets `tab` speak for it in workspace `ws` until `expires`. */
export interface Delegation {
	ws: string;
	device: string;
	tab: string;
	expires: number;
}

const utf8 = new TextEncoder();

function signedBytes(d: Delegation): Uint8Array {
	return utf8.encode(JSON.stringify([DELEGATION_TAG, d.ws, d.device, d.tab, d.expires]));
}

/** Signs a delegation with the device key; returns its encoding. */
export async function signDelegation(key: DeviceKey, d: Delegation): Promise<Uint8Array> {
	const e = encoding.createEncoder();
	encoding.writeVarString(e, DELEGATION_TAG);
	encoding.writeVarString(e, JSON.stringify(d));
	encoding.writeVarUint8Array(e, await key.sign(signedBytes(d)));
	return encoding.toUint8Array(e);
}

/** The delegation `bytes` holds when it is well formed and signed by its device; else undefined. Never throws. */
export async function readDelegation(bytes: Uint8Array): Promise<Delegation | undefined> {
	try {
		const dec = decoding.createDecoder(bytes);
		if (decoding.readVarString(dec) !== DELEGATION_TAG) return undefined;
		const value = JSON.parse(decoding.readVarString(dec)) as Partial<Delegation>;
		const signature = decoding.readVarUint8Array(dec);
		if (decoding.hasContent(dec)) return undefined;
		const { ws, device, tab, expires } = value;
		if (typeof ws !== 'string' || !isPeerIdString(device) || !isPeerIdString(tab) || typeof expires !== 'number') return undefined;
		const d: Delegation = { ws, device, tab, expires };
		if (!verifyByPeerId(device, signedBytes(d), signature)) return undefined;
		return d;
	} catch {
		return undefined;
	}
}
