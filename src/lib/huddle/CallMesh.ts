/**
 * The audio of this browser's huddle: a full mesh of RTCPeerConnections, one to each other
 * person in the huddle (at most {@link MAX_HUDDLE_PEOPLE} people), signalled over the libp2p
 * mesh (HuddleSignalling.ts). Browser only (WebRTC, Web Audio).
 *
 * - **Who calls whom**: the huddle's members are known from awareness, which is only a hint;
 *   of each pair, the peer whose id sorts first opens the call and sends the offer, so two
 *   people who join at once do not both offer. Only peers the team's rule lets into the
 *   channel are ever wanted (awareness is workspace-wide: anyone can list themselves). The
 *   responder takes a call only while it is in that huddle, has room and sees the caller in it
 *   too (a member outside the huddle would otherwise hear it unseen: the bar shows awareness),
 *   and only from a caller that sorts first; else DENIED 2, and an honest caller whose
 *   awareness ran ahead calls again 2 s later. The signalling has checked the team's rule on
 *   both sides.
 * - **Ending**: a call ended on this side (leaving, the team's rule, awareness) closes its peer
 *   connection at once, whatever the other side does with the signalling stream.
 * - **Media**: one microphone track (echo cancellation, noise suppression, automatic gain),
 *   Opus with DTX (opusDtx.ts); muting disables the track (silence, a packet every 400 ms).
 * - **Levels**: an AnalyserNode per remote stream and one for the microphone, read every
 *   50 ms into a {@link TalkDetector}: who is talking.
 * - **Failures**: a call that fails or ends is dropped; the next {@link CallMesh.reach} (the
 *   next change of awareness, or a retry 2 s later) calls again.
 */
import { HuddleDenied, HuddleMessageType, MAX_HUDDLE_PEOPLE } from './huddleMessages.js';
import type { HuddleSignalling, SignalCall, SignalMessage } from './HuddleSignalling.js';
import { withOpusDtx } from './opusDtx.js';
import { rms, TalkDetector } from './talkDetector.js';

/** User Timing marks: joining a huddle, and the first remote voice heard (time to first audio). */
export const MARK_HUDDLE_JOIN = 'outpost:huddle:join';
export const MARK_HUDDLE_FIRST_AUDIO = 'outpost:huddle:first-audio';

/** The microphone could not be opened (permission refused, no device). */
export class MicrophoneError extends Error {
	override name = 'MicrophoneError';
}

/** Options of {@link CallMesh}. */
export interface CallMeshInit {
	signalling: HuddleSignalling;
	/** This device's peer id on the mesh. */
	me: string;
	/** WebRTC configuration; default `{ iceServers: [] }` (a LAN: host candidates only). */
	rtcConfiguration?: RTCConfiguration;
	/** Told whenever the connected peers or who is talking changed. */
	onChange: () => void;
	/** Told about calls that failed. */
	onError?: (error: Error) => void;
}

interface Meter {
	source: MediaStreamAudioSourceNode;
	analyser: AnalyserNode;
	detector: TalkDetector;
	buffer: Float32Array<ArrayBuffer>;
}

interface Remote {
	call: SignalCall;
	pc: RTCPeerConnection;
	/** Candidates that came before the remote description. */
	pending: RTCIceCandidateInit[];
	audio?: HTMLAudioElement;
	meter?: Meter;
	connected: boolean;
}

const RETRY_MS = 2000;
const METER_MS = 50;

/** See the module comment. */
export class CallMesh {
	private here: { workspaceId: string; channelId: string } | undefined;
	private local: MediaStream | undefined;
	private context: AudioContext | undefined;
	private localMeter: Meter | undefined;
	private readonly remotes = new Map<string, Remote>();
	private readonly dialling = new Set<string>();
	private wanted: string[] = [];
	private timer: ReturnType<typeof setInterval> | undefined;
	private retry: ReturnType<typeof setTimeout> | undefined;
	private heardFirst = false;
	/** Peer ids talking now (this device's own id for the microphone). */
	readonly talking = new Set<string>();

	constructor(private readonly init: CallMeshInit) {
		init.signalling.setHandler((call) => this.accept(call));
	}

	/** The huddle this browser is in. */
	get huddle(): { workspaceId: string; channelId: string } | undefined {
		return this.here;
	}

	/** Peers whose audio connection is up. */
	connected(): string[] {
		return [...this.remotes].filter(([, r]) => r.connected).map(([peer]) => peer);
	}

	/**
	 * Opens the microphone and enters the huddle of `channelId` (leaving any other).
	 * @throws {MicrophoneError} when the microphone cannot be opened.
	 */
	async join(workspaceId: string, channelId: string): Promise<void> {
		this.leave();
		performance.mark(MARK_HUDDLE_JOIN);
		this.heardFirst = false;
		let stream: MediaStream;
		try {
			stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
		} catch (error) {
			throw new MicrophoneError(error instanceof Error ? error.message : String(error), { cause: error });
		}
		this.local = stream;
		this.context = new AudioContext();
		void this.context.resume().catch(() => undefined);
		this.localMeter = this.meter(stream);
		this.here = { workspaceId, channelId };
		this.timer = setInterval(() => this.measure(), METER_MS);
	}

	/** Leaves the huddle: ends every call, stops the microphone. */
	leave(): void {
		this.here = undefined;
		this.wanted = [];
		clearInterval(this.timer);
		clearTimeout(this.retry);
		for (const peer of [...this.remotes.keys()]) this.drop(peer);
		this.local?.getTracks().forEach((t) => t.stop());
		this.local = undefined;
		this.localMeter?.source.disconnect();
		this.localMeter = undefined;
		void this.context?.close().catch(() => undefined);
		this.context = undefined;
		this.talking.clear();
		this.init.onChange();
	}

	/** Mutes or unmutes the microphone. */
	setMuted(muted: boolean): void {
		for (const track of this.local?.getAudioTracks() ?? []) track.enabled = !muted;
	}

	/**
	 * The peers awareness says are in this huddle (a hint): calls those this side opens to, and
	 * ends calls with peers no longer in it.
	 */
	reach(peers: string[]): void {
		const here = this.here;
		if (here === undefined) return;
		const { me, signalling } = this.init;
		// Awareness is the whole workspace's: a peer the team keeps out of the channel is never wanted.
		const allowed = [...new Set(peers)].filter((p) => p !== me && signalling.allows(here.workspaceId, here.channelId, p));
		this.wanted = allowed.slice(0, MAX_HUDDLE_PEOPLE - 1);
		for (const peer of [...this.remotes.keys()]) if (!allowed.includes(peer)) this.drop(peer);
		for (const peer of this.wanted) {
			if (me < peer && !this.remotes.has(peer) && !this.dialling.has(peer)) void this.open(peer);
		}
	}

	private async open(peer: string): Promise<void> {
		const here = this.here;
		if (here === undefined) return;
		this.dialling.add(peer);
		try {
			const call = await this.init.signalling.call(peer, here.workspaceId, here.channelId);
			if (this.here !== here || this.remotes.size >= MAX_HUDDLE_PEOPLE - 1 || !this.init.signalling.allows(here.workspaceId, here.channelId, peer)) {
				call.close();
				return;
			}
			const remote = this.connect(call);
			const offer = await remote.pc.createOffer();
			const local = { type: offer.type, sdp: withOpusDtx(offer.sdp ?? '') };
			await remote.pc.setLocalDescription(local);
			await call.send({ type: HuddleMessageType.offer, sdp: local.sdp });
		} catch (error) {
			const err = error instanceof Error ? error : new Error(String(error));
			// Not in the huddle yet on the other side (awareness ran ahead): try again shortly.
			if (!(err.name === 'HuddleDeniedError' && (err as Error & { reason: number }).reason === HuddleDenied.notAllowed)) this.retryLater();
			this.init.onError?.(err);
		} finally {
			this.dialling.delete(peer);
		}
	}

	private accept(call: SignalCall): boolean {
		const here = this.here;
		if (here === undefined || call.workspaceId !== here.workspaceId || call.channelId !== here.channelId) return false;
		// Only someone this side sees in the huddle, and who is the one to call (as reach() dials):
		// the others would get the microphone without showing in anyone's huddle bar. DENIED 2
		// makes an honest caller whose awareness reached it first call again (open()).
		if (!this.wanted.includes(call.peerId) || !(call.peerId < this.init.me)) return false;
		this.drop(call.peerId);
		if (this.remotes.size >= MAX_HUDDLE_PEOPLE - 1) return false;
		this.connect(call);
		return true;
	}

	/** The peer connection of a call, and the loop that reads its signalling. */
	private connect(call: SignalCall): Remote {
		const pc = new RTCPeerConnection(this.init.rtcConfiguration ?? { iceServers: [] });
		const remote: Remote = { call, pc, pending: [], connected: false };
		this.remotes.set(call.peerId, remote);
		for (const track of this.local?.getAudioTracks() ?? []) pc.addTrack(track, this.local!);
		pc.onicecandidate = (event) => {
			const c = event.candidate;
			if (c === null || c.candidate === '') return;
			void call.send({ type: HuddleMessageType.candidate, candidate: c.candidate, sdpMid: c.sdpMid ?? '', sdpMLineIndex: c.sdpMLineIndex ?? 0 });
		};
		pc.ontrack = (event) => this.play(call.peerId, remote, event.streams[0] ?? new MediaStream([event.track]));
		pc.onconnectionstatechange = () => {
			const state = pc.connectionState;
			remote.connected = state === 'connected';
			if (state === 'failed' || state === 'closed') {
				this.drop(call.peerId, remote);
				this.retryLater();
			}
			this.init.onChange();
		};
		// A call ended here (leave, revisit, reach) ends the audio now: the other side may never
		// close the stream, and run() settles only when it does (or when the stream is reset).
		void call.whenEnded().then(() => this.drop(call.peerId, remote));
		void call
			.run((m) => this.signal(remote, m))
			.catch((error: unknown) => this.init.onError?.(error instanceof Error ? error : new Error(String(error))))
			.finally(() => {
				this.drop(call.peerId, remote);
				this.retryLater();
			});
		return remote;
	}

	private async signal(remote: Remote, m: SignalMessage): Promise<void> {
		const { pc, call } = remote;
		if (m.type === HuddleMessageType.candidate) {
			if (m.candidate === '') return;
			const candidate = { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex };
			if (pc.remoteDescription === null) remote.pending.push(candidate);
			else await pc.addIceCandidate(candidate).catch((error: unknown) => this.init.onError?.(error as Error));
			return;
		}
		await pc.setRemoteDescription({ type: m.type === HuddleMessageType.offer ? 'offer' : 'answer', sdp: m.sdp });
		for (const candidate of remote.pending.splice(0)) await pc.addIceCandidate(candidate).catch(() => undefined);
		if (m.type === HuddleMessageType.offer) {
			const answer = await pc.createAnswer();
			const local = { type: answer.type, sdp: withOpusDtx(answer.sdp ?? '') };
			await pc.setLocalDescription(local);
			await call.send({ type: HuddleMessageType.answer, sdp: local.sdp });
		}
	}

	private play(peer: string, remote: Remote, stream: MediaStream): void {
		if (this.remotes.get(peer) !== remote || remote.audio !== undefined) return;
		// Chromium gives Web Audio a remote stream's samples only while a media element plays it.
		const audio = new Audio();
		audio.autoplay = true;
		audio.srcObject = stream;
		void audio.play().catch(() => undefined);
		remote.audio = audio;
		remote.meter = this.meter(stream);
		this.init.onChange();
	}

	private meter(stream: MediaStream): Meter | undefined {
		if (this.context === undefined) return undefined;
		const source = this.context.createMediaStreamSource(stream);
		const analyser = this.context.createAnalyser();
		analyser.fftSize = 1024;
		source.connect(analyser);
		return { source, analyser, detector: new TalkDetector(), buffer: new Float32Array(analyser.fftSize) };
	}

	private measure(): void {
		const now = performance.now();
		let changed = false;
		const read = (peer: string, meter: Meter | undefined) => {
			if (meter === undefined) return;
			meter.analyser.getFloatTimeDomainData(meter.buffer);
			if (!meter.detector.sample(now, rms(meter.buffer))) return;
			changed = true;
			if (meter.detector.talking) this.talking.add(peer);
			else this.talking.delete(peer);
			if (meter.detector.talking && peer !== this.init.me && !this.heardFirst) {
				this.heardFirst = true;
				performance.mark(MARK_HUDDLE_FIRST_AUDIO, { detail: peer });
			}
		};
		read(this.init.me, this.localMeter);
		for (const [peer, remote] of this.remotes) read(peer, remote.meter);
		if (changed) this.init.onChange();
	}

	/** Ends the call with `peer` (only `remote`, when given and still current). */
	private drop(peer: string, remote = this.remotes.get(peer)): void {
		if (remote === undefined || this.remotes.get(peer) !== remote) return;
		this.remotes.delete(peer);
		remote.call.close();
		remote.pc.close();
		remote.meter?.source.disconnect();
		if (remote.audio) remote.audio.srcObject = null;
		this.talking.delete(peer);
		this.init.onChange();
	}

	private retryLater(): void {
		if (this.here === undefined) return;
		clearTimeout(this.retry);
		this.retry = setTimeout(() => this.reach([...this.wanted, this.init.me]), RETRY_MS);
	}
}
