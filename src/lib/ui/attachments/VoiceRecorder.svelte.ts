/**
 * Runes state of the composer's voice recorder: asks for the microphone (echo cancellation and
 * noise suppression on), records with MediaRecorder (Opus in WebM, else Opus in Ogg, else the
 * browser's own format), counts the time, and hands the finished recording over as a File with
 * its length in milliseconds, measured from start to stop. It stops by itself after
 * {@link MAX_RECORDING_MS}. Stopped, cancelled or failed, it stops every track of the stream,
 * so the browser's microphone indicator goes off.
 */
import type { AttachmentDetails } from '$lib/state/ChannelBlobs.svelte';
import { baseType } from '$lib/state/ChannelBlobs.svelte';
import { MAX_RECORDING_MS, recordingType, voiceNoteName } from './voice';

/** Where the recorder stands. */
export const RecorderPhase = {
	idle: 'idle',
	/** Waiting for the microphone (the browser may be asking the user). */
	starting: 'starting',
	recording: 'recording',
	/** Stopped; waiting for the recorder's last data. */
	stopping: 'stopping'
} as const;
export type RecorderPhase = (typeof RecorderPhase)[keyof typeof RecorderPhase];

/** Why recording failed, for the composer to put in words. */
export type RecordingProblem =
	| { kind: 'denied' }
	| { kind: 'noMicrophone' }
	| { kind: 'unsupported' }
	| { kind: 'empty' }
	| { kind: 'failed'; error: string };

/** What the recorder needs of the browser (replaced in tests). */
export interface RecorderPlatform {
	getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
	MediaRecorder?: {
		new (stream: MediaStream, options?: MediaRecorderOptions): MediaRecorder;
		isTypeSupported(type: string): boolean;
	};
	now(): number;
}

/** The browser's microphone and MediaRecorder, where there are any. */
export function browserPlatform(): RecorderPlatform {
	const devices = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
	return {
		getUserMedia: devices?.getUserMedia ? (constraints) => devices.getUserMedia(constraints) : undefined,
		MediaRecorder: typeof MediaRecorder !== 'undefined' ? MediaRecorder : undefined,
		now: () => Date.now()
	};
}

/** Options of {@link VoiceRecorder}. */
export interface VoiceRecorderInit {
	/** Gets each finished recording. */
	onrecorded: (file: File, details: AttachmentDetails) => void;
	/** The words a recording's file name starts with ("Voice note"), in the user's language. */
	label: () => string;
	platform?: RecorderPlatform;
	/** How often the elapsed time is updated (ms). */
	tick?: number;
}

/** See the module comment. */
export class VoiceRecorder {
	phase = $state<RecorderPhase>(RecorderPhase.idle);
	/** The record button is held down: releasing it adds the recording, dragging away cancels (set by the button). */
	held = $state(false);
	/** Milliseconds recorded so far. */
	elapsed = $state(0);
	/** Why the last try failed, until the next one. */
	problem = $state<RecordingProblem | undefined>();

	readonly #init: VoiceRecorderInit;
	readonly #platform: RecorderPlatform;
	/** Bumped by every start, stop and cancel: a start that finds it changed gives its microphone back. */
	#generation = 0;
	#stream: MediaStream | undefined;
	#recorder: MediaRecorder | undefined;
	#startedAt = 0;
	#stoppedAt = 0;
	#timers: ReturnType<typeof setTimeout>[] = [];
	#ticker: ReturnType<typeof setInterval> | undefined;
	/** Settles the recording under way (handed over, dropped or failed). */
	#settle: (() => void) | undefined;
	#settled: Promise<void> = Promise.resolve();

	constructor(init: VoiceRecorderInit) {
		this.#init = init;
		this.#platform = init.platform ?? browserPlatform();
	}

	/** Whether a recording is starting, running or finishing. */
	get active(): boolean {
		return this.phase !== RecorderPhase.idle;
	}

	/** Asks for the microphone and starts recording (nothing when already under way). */
	async start(): Promise<void> {
		if (this.active) return;
		this.problem = undefined;
		const { getUserMedia, MediaRecorder: Recorder } = this.#platform;
		if (!getUserMedia || !Recorder) {
			this.problem = { kind: 'unsupported' };
			return;
		}
		const generation = ++this.#generation;
		this.phase = RecorderPhase.starting;
		let stream: MediaStream;
		try {
			stream = await getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
		} catch (err) {
			if (generation !== this.#generation) return;
			this.phase = RecorderPhase.idle;
			this.problem = describe(err);
			return;
		}
		if (generation !== this.#generation) {
			stopTracks(stream); // cancelled while the browser asked
			return;
		}
		this.#stream = stream;
		try {
			const type = recordingType((t) => Recorder.isTypeSupported(t));
			const recorder = new Recorder(stream, type ? { mimeType: type } : undefined);
			this.#record(recorder, type, generation);
		} catch (err) {
			this.#release();
			this.problem = describe(err);
		}
	}

	#record(recorder: MediaRecorder, asked: string | undefined, generation: number): void {
		const chunks: Blob[] = [];
		this.#recorder = recorder;
		this.#settled = new Promise((resolve) => (this.#settle = resolve));
		recorder.addEventListener('dataavailable', (e) => {
			if (e.data.size > 0) chunks.push(e.data);
		});
		recorder.addEventListener('stop', () => {
			if (generation !== this.#generation) return; // cancelled: the chunks are dropped
			// The recorder stops by itself when its track ends (a microphone unplugged): that is the end.
			if (this.phase === RecorderPhase.recording) this.#stoppedAt = this.#platform.now();
			const duration = Math.max(0, this.#stoppedAt - this.#startedAt);
			const type = baseType(recorder.mimeType || asked || 'audio/webm');
			const blob = new Blob(chunks, { type });
			try {
				if (blob.size === 0) this.problem = { kind: 'empty' };
				else this.#init.onrecorded(new File([blob], voiceNoteName(this.#init.label(), new Date(this.#startedAt), type), { type }), { duration });
			} finally {
				this.#release();
			}
		});
		recorder.addEventListener('error', (e) => {
			if (generation !== this.#generation) return;
			this.#generation++;
			this.#release();
			this.problem = describe((e as Event & { error?: unknown }).error ?? e);
		});
		recorder.start(1000);
		this.#startedAt = this.#platform.now();
		this.elapsed = 0;
		this.phase = RecorderPhase.recording;
		this.#ticker = setInterval(() => (this.elapsed = this.#platform.now() - this.#startedAt), this.#init.tick ?? 250);
		this.#timers.push(setTimeout(() => void this.stop(), MAX_RECORDING_MS));
	}

	/**
	 * Stops recording and hands the recording to `onrecorded` once the recorder has written its
	 * last data; resolves when it has (or the recording was dropped). Still waiting for the
	 * microphone, it records on until stopped again (the user may be answering the browser's
	 * question).
	 */
	stop(): Promise<void> {
		if (this.phase === RecorderPhase.stopping) return this.#settled;
		if (this.phase !== RecorderPhase.recording || !this.#recorder) return Promise.resolve();
		this.#stoppedAt = this.#platform.now();
		this.elapsed = this.#stoppedAt - this.#startedAt;
		this.phase = RecorderPhase.stopping;
		this.#clearTimers();
		this.#recorder.stop();
		return this.#settled;
	}

	/** Drops the recording (or the start under way) and gives the microphone back. */
	cancel(): void {
		if (!this.active) return;
		this.#generation++;
		if (this.#recorder && this.#recorder.state !== 'inactive') this.#recorder.stop();
		this.#release();
	}

	/** Cancels whatever is under way (the composer is going away). */
	destroy(): void {
		this.cancel();
	}

	/** Stops the tracks and the timers, and goes back to idle. */
	#release(): void {
		this.#clearTimers();
		if (this.#stream) stopTracks(this.#stream);
		this.#stream = undefined;
		this.#recorder = undefined;
		this.phase = RecorderPhase.idle;
		this.held = false;
		this.#settle?.();
		this.#settle = undefined;
	}

	#clearTimers(): void {
		for (const timer of this.#timers.splice(0)) clearTimeout(timer);
		clearInterval(this.#ticker);
		this.#ticker = undefined;
	}
}

function stopTracks(stream: MediaStream): void {
	for (const track of stream.getTracks()) track.stop();
}

/** What a getUserMedia or MediaRecorder error means to the user. */
function describe(err: unknown): RecordingProblem {
	const name = err instanceof Error || err instanceof DOMException ? err.name : '';
	if (name === 'NotAllowedError' || name === 'SecurityError') return { kind: 'denied' };
	if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError') return { kind: 'noMicrophone' };
	if (name === 'NotSupportedError') return { kind: 'unsupported' };
	return { kind: 'failed', error: err instanceof Error || err instanceof DOMException ? err.message : String(err) };
}
