/**
 * The signature of an export file: the exporting device signs the manifest's exact bytes
 * (which carry every state's SHA-256), so an import knows which device vouches for the file's
 * content and checks it as that device's, the way a replica checks a peer's update by its
 * sender (importWorkspace.ts). Stored beside the manifest as `manifest.sig`: UTF-8 JSON
 * `{ "by": <peer id>, "sig": <base64 Ed25519 over "outpost/export/1\n" + manifest bytes> }`.
 * A file without one, or with one that does not verify, vouches for nothing.
 */
import type { DeviceKey } from '../../doc/deviceKey.js';
import { isPeerIdString } from '../../doc/team/ops.js';
import { signBytes, verifyBytesNow } from '../../doc/signature.js';

/** Path of the signature inside the zip. */
export const MANIFEST_SIG_PATH = 'manifest.sig';

/** Longest signature file read (a peer id and a base64 signature fit in far less). */
const MAX_SIG_BYTES = 1024;

/** The device that signs an export: its key and peer id. */
export interface ExportSigner {
	key: DeviceKey;
	peerId: string;
}

function signed(manifest: Uint8Array): Uint8Array {
	const tag = new TextEncoder().encode('outpost/export/1\n');
	const out = new Uint8Array(tag.length + manifest.length);
	out.set(tag);
	out.set(manifest, tag.length);
	return out;
}

/** The bytes of `manifest.sig` for the manifest bytes `manifest`. */
export async function signManifest(signer: ExportSigner, manifest: Uint8Array): Promise<Uint8Array> {
	const sig = await signBytes(signer.key, signed(manifest));
	return new TextEncoder().encode(JSON.stringify({ by: signer.peerId, sig }));
}

/** The peer id of the device whose signature `sigFile` carries over `manifest`, or undefined. */
export function manifestSigner(manifest: Uint8Array, sigFile: Uint8Array | undefined): string | undefined {
	if (sigFile === undefined || sigFile.length > MAX_SIG_BYTES) return undefined;
	let parsed: unknown;
	try {
		parsed = JSON.parse(new TextDecoder().decode(sigFile));
	} catch {
		return undefined;
	}
	if (typeof parsed !== 'object' || parsed === null) return undefined;
	const { by, sig } = parsed as { by?: unknown; sig?: unknown };
	if (!isPeerIdString(by) || typeof sig !== 'string') return undefined;
	return verifyBytesNow(by, signed(manifest), sig) ? by : undefined;
}
