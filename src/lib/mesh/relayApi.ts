/**
 * The relay's archive API as the app uses it (relay/api.ts): asking the relay that served the
 * app to archive a workspace, and whether it archives one for this device. Both calls are
 * signed with this device's key (signedRequest.ts). The relay archives only for a current
 * owner or admin device, and only once it is a member device of the team itself: before
 * calling {@link archiveOnRelay}, an admin writes `{t: 'add', member: <relay peer id>, role:
 * 'relay', name}` (the relay's peer id is {@link ServingRelay.peerId}, from
 * `/.well-known/outpost.json`) and sends every team operation it holds. Only the relay the
 * user opened the app from is asked; the secret travels in the body of that origin's HTTPS
 * (or localhost) request.
 */
import { ARCHIVE_PATH } from './signedRequest.js';
import { encodeSecret } from './secret.js';
import { pageOrigin, RelayApiError, signedCall, type Signer } from './relayHttp.js';

export { RelayApiError, type Signer } from './relayHttp.js';

/** What {@link archiveOnRelay} sends. */
export interface ArchiveRequestInit {
	workspaceId: string;
	/** The workspace secret (32 bytes). */
	secret: Uint8Array;
	name: string;
	/** Relay multiaddrs to list with it. */
	relays?: string[];
	/** Every team operation this device holds, encoded (`TeamAuthority.operations()`, `op.bytes` each). */
	ops: Uint8Array[];
	/** This device (an owner's or admin's). */
	signer: Signer;
}

/** What the relay answered. */
export interface ArchiveAnswer {
	id: string;
	name: string;
	/** Whether the workspace is new to the relay. */
	created: boolean;
	/** Whether the relay took this request's secret in place of the one it had. */
	secretReplaced: boolean;
}

/**
 * Asks the relay at `origin` to archive a workspace.
 * @throws {RelayApiError} with the relay's explanation: 403 when the signer is not an owner
 *   or admin or the relay is not in the team yet, 401 for a spent challenge (try again).
 */
export async function archiveOnRelay(init: ArchiveRequestInit, origin: string = pageOrigin()): Promise<ArchiveAnswer> {
	const body = JSON.stringify({
		workspaceId: init.workspaceId,
		secret: encodeSecret(init.secret),
		name: init.name,
		relays: init.relays ?? [],
		ops: init.ops.map(toBase64)
	});
	const answer = (await signedCall(init.signer, origin, 'POST', ARCHIVE_PATH, body)) as Partial<ArchiveAnswer>;
	if (typeof answer.id !== 'string') throw new RelayApiError('the relay did not say what it archived', 500);
	return { id: answer.id, name: String(answer.name ?? ''), created: answer.created === true, secretReplaced: answer.secretReplaced === true };
}

/**
 * Whether the relay at `origin` archives `workspaceId` and counts `signer` as a member
 * device there (it tells nobody else); undefined when it cannot tell (no relay, offline,
 * no signer).
 */
export async function isArchivedOnRelay(workspaceId: string, signer?: Signer, origin: string = pageOrigin()): Promise<boolean | undefined> {
	if (signer === undefined) return undefined; // the relay tells only a signed member device
	try {
		const answer = (await signedCall(signer, origin, 'GET', `${ARCHIVE_PATH}/${encodeURIComponent(workspaceId)}`)) as { archived?: unknown };
		return answer.archived === true;
	} catch {
		return undefined;
	}
}

function toBase64(bytes: Uint8Array): string {
	let binary = '';
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary);
}
