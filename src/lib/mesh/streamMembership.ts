/**
 * The sync protocol's membership exchange (membership.ts) run on a stream of another protocol
 * (the model host's `/outpost/llm/1.0.0`, the tool host's `/outpost/tools/1.0.0`): the asker
 * opens with HELLO naming a workspace, each side proves it holds the workspace's keys, and
 * only then does the asker's request go (the host proved itself first, so the request is
 * never shown to a stranger). Costs one round trip and two HMACs per stream, and needs no sync
 * session to be up first.
 */
import type { AdmitVerdict } from './authority.js';
import { DEFAULT_LIMITS, DeniedReason } from './constants.js';
import type { FrameStream } from './frameStream.js';
import { MembershipExchange } from './membership.js';
import { deny, frameSender, readHello } from './syncStream.js';
import { decodeMessage, encodeMessage } from './wire.js';
import type { WorkspaceKeys } from './workspaceKeys.js';

/** Who opened a stream: the workspace its HELLO named and proved, its peer id, and the admission its HELLO carried (empty: none). */
export interface Asker {
	workspaceId: string;
	peerId: string;
	admission: Uint8Array;
}

/** What a host needs to prove an asker. */
export interface ProveAskerInit {
	/** The keys of a workspace this peer holds, else undefined (DENIED unknown workspace). */
	keys: (workspaceId: string) => WorkspaceKeys | undefined;
	localPeerId: string;
	/** Whether a proven member may be served (false when removed from the team); default: yes. */
	isAllowed?: (workspaceId: string, peerId: string) => boolean | Promise<boolean>;
	/** The check of an asker `isAllowed` refused, by the admission its HELLO carried (a tab's delegation). */
	admits?: (workspaceId: string, peerId: string, admission: Uint8Array) => AdmitVerdict | Promise<AdmitVerdict>;
	timeoutMs: number;
	/** Told why an asker was refused. */
	onError: (error: Error) => void;
}

/** Runs the exchange as the responder; the proven asker, or undefined (DENIED sent, or the stream ended). */
export async function proveAsker(frames: FrameStream, peerId: string, init: ProveAskerInit): Promise<Asker | undefined> {
	const signal = AbortSignal.timeout(init.timeoutMs);
	const first = await frames.read({ signal });
	if (first === null) return undefined;
	const hello = readHello(first, DEFAULT_LIMITS);
	if (!hello.ok) {
		init.onError(hello.error);
		await deny(frames, hello.reason);
		return undefined;
	}
	const { workspaceId } = hello.hello;
	const keys = init.keys(workspaceId);
	if (keys === undefined) {
		await deny(frames, DeniedReason.unknownWorkspace);
		return undefined;
	}
	const { isAllowed, admits } = init;
	const exchange = new MembershipExchange({
		role: 'responder',
		keys,
		localPeerId: init.localPeerId,
		remotePeerId: peerId,
		send: (m) => frameSender(frames)(encodeMessage(m)),
		...(isAllowed !== undefined ? { isAllowed: (remote: string) => isAllowed(workspaceId, remote) } : {}),
		...(admits !== undefined ? { admits: (remote: string, admission: Uint8Array) => admits(workspaceId, remote, admission) } : {})
	});
	try {
		await exchange.handle(hello.hello);
		const proof = await frames.read({ signal });
		if (proof === null) return undefined;
		if (!(await exchange.handle(decodeMessage(proof, DEFAULT_LIMITS)))) return undefined;
	} catch (error) {
		// DENIED is on its way (the exchange sent it); let it arrive before the stream ends.
		init.onError(error instanceof Error ? error : new Error(String(error)));
		await frames.close().catch(() => {});
		return undefined;
	}
	return { workspaceId, peerId, admission: hello.hello.admission };
}

/** What an asker needs to prove itself to a host. */
export interface ProveToHostInit {
	keys: WorkspaceKeys;
	localPeerId: string;
	hostPeerId: string;
	/** What this node shows in HELLO as its admission (a tab's delegation). */
	admission?: Uint8Array;
	timeoutMs: number;
}

/**
 * HELLO, the host's CHALLENGE (the host proves itself), then PROOF and at once `request`
 * (the host is a proven member, so the request may go), then the host's OK. `onHostProven`
 * runs once the host proved itself, before the request goes (to lift a budget).
 * @throws when the host is not a member, or did not accept this device.
 */
export async function proveToHost(frames: FrameStream, init: ProveToHostInit, request: Uint8Array, onHostProven?: () => void): Promise<void> {
	const send = frameSender(frames);
	const exchange = new MembershipExchange({
		role: 'opener',
		keys: init.keys,
		localPeerId: init.localPeerId,
		remotePeerId: init.hostPeerId,
		send: (m) => send(encodeMessage(m)),
		...(init.admission !== undefined ? { admission: init.admission } : {})
	});
	const signal = AbortSignal.timeout(init.timeoutMs);
	const next = async (): Promise<Uint8Array> => {
		const frame = await frames.read({ signal });
		if (frame === null) throw new Error('the host closed the stream during the membership exchange');
		return frame;
	};
	exchange.start();
	await exchange.handle(decodeMessage(await next(), DEFAULT_LIMITS));
	if (!exchange.remoteProven) throw new Error('the host did not prove membership');
	onHostProven?.();
	send(request);
	if (!(await exchange.handle(decodeMessage(await next(), DEFAULT_LIMITS)))) throw new Error('membership not proven');
}
