/**
 * Voice notes in the composer: lengths and file names in words, the recording format asked
 * for, the recorder (microphone released however a recording ends, its length measured from
 * start to stop, the ten-minute limit, errors in words) and a recording handed to the pending
 * files with its length.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AttachmentRef } from '../../../src/lib/doc/schema.js';
import type { AttachmentDetails, ChannelBlobs } from '../../../src/lib/state/ChannelBlobs.svelte.js';
import { PendingFiles } from '../../../src/lib/ui/attachments/PendingFiles.svelte.js';
import { VoiceRecorder, type RecorderPlatform } from '../../../src/lib/ui/attachments/VoiceRecorder.svelte.js';
import {
	audioExtension,
	formatDuration,
	MAX_RECORDING_MS,
	noteLength,
	recordingType,
	voiceNoteName
} from '../../../src/lib/ui/attachments/voice.js';

describe('voice note words', () => {
	it('reads lengths as a clock does, rounding down to the second', () => {
		expect(formatDuration(0)).toBe('0:00');
		expect(formatDuration(3_999)).toBe('0:03');
		expect(formatDuration(12_000)).toBe('0:12');
		expect(formatDuration(135_000)).toBe('2:15');
		expect(formatDuration(MAX_RECORDING_MS)).toBe('10:00');
		expect(formatDuration(3_909_000)).toBe('1:05:09');
		expect(formatDuration(Infinity)).toBe('0:00');
		expect(formatDuration(Number.NaN)).toBe('0:00');
		expect(formatDuration(-5)).toBe('0:00');
	});

	it('labels a note with the sender’s length to the nearest second, else a real length the player found', () => {
		expect(noteLength(1_980)).toBe(2_000);
		expect(noteLength(2_400, 9)).toBe(2_000);
		expect(noteLength(undefined, 12.4)).toBe(12_000);
		expect(noteLength(undefined, Infinity)).toBeUndefined();
		expect(noteLength(undefined, Number.NaN)).toBeUndefined();
		expect(noteLength(undefined)).toBeUndefined();
	});

	it('names a recording by its local date and time, with the ending of its type', () => {
		const at = new Date(2026, 11, 5, 14, 3, 59);
		expect(voiceNoteName('Voice note', at, 'audio/webm')).toBe('Voice note 2026-12-05 14-03.webm');
		expect(voiceNoteName('语音消息', new Date(2027, 0, 9, 8, 7), 'audio/ogg;codecs=opus')).toBe('语音消息 2027-01-09 08-07.ogg');
		expect(voiceNoteName('Voice note', at, 'audio/mp4')).toMatch(/\.m4a$/);
	});

	it('knows the endings of recorded types, WebM when unknown', () => {
		expect(audioExtension('audio/webm;codecs=opus')).toBe('webm');
		expect(audioExtension('AUDIO/OGG')).toBe('ogg');
		expect(audioExtension('audio/mpeg')).toBe('mp3');
		expect(audioExtension('audio/x-unknown')).toBe('webm');
	});

	it('asks for Opus in WebM, then Opus in Ogg, else leaves the format to the recorder', () => {
		expect(recordingType(() => true)).toBe('audio/webm;codecs=opus');
		expect(recordingType((t) => t.startsWith('audio/ogg'))).toBe('audio/ogg;codecs=opus');
		expect(recordingType(() => false)).toBeUndefined();
		expect(
			recordingType(() => {
				throw new Error('no');
			})
		).toBeUndefined();
	});
});

/** A microphone track and stream that say whether they were stopped. */
function fakeStream() {
	const track = {
		stopped: false,
		stop() {
			this.stopped = true;
		}
	};
	return { track, stream: { getTracks: () => [track] } as unknown as MediaStream };
}

/** A MediaRecorder that produces one chunk of `bytes` bytes when stopped. */
class FakeRecorder extends EventTarget {
	static supported = ['audio/webm;codecs=opus'];
	static last: FakeRecorder | undefined;
	static isTypeSupported = (type: string) => FakeRecorder.supported.includes(type);
	state: 'inactive' | 'recording' = 'inactive';
	bytes = 10;
	readonly mimeType: string;
	constructor(
		readonly stream: MediaStream,
		options?: MediaRecorderOptions
	) {
		super();
		this.mimeType = options?.mimeType ?? '';
		FakeRecorder.last = this;
	}
	start() {
		this.state = 'recording';
	}
	stop() {
		this.state = 'inactive';
		const data = new Blob([new Uint8Array(this.bytes)]);
		queueMicrotask(() => {
			this.dispatchEvent(Object.assign(new Event('dataavailable'), { data }));
			this.dispatchEvent(new Event('stop'));
		});
	}
}

/** A recorder over fakes, with a clock the test moves. */
function setup(getUserMedia?: () => Promise<MediaStream>) {
	const { track, stream } = fakeStream();
	let clock = 1_000_000;
	const recorded: { file: File; details: AttachmentDetails }[] = [];
	const platform: RecorderPlatform = {
		getUserMedia: vi.fn(getUserMedia ?? (async () => stream)),
		MediaRecorder: FakeRecorder as unknown as RecorderPlatform['MediaRecorder'],
		now: () => clock
	};
	const recorder = new VoiceRecorder({ label: () => 'Voice note', onrecorded: (file, details) => recorded.push({ file, details }), platform });
	const advance = (ms: number) => {
		clock += ms;
		vi.advanceTimersByTime(ms);
	};
	return { recorder, recorded, track, platform, advance };
}

describe('VoiceRecorder', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	it('records with echo cancellation and noise suppression, counts the time, and hands over the note with its length', async () => {
		const { recorder, recorded, track, platform, advance } = setup();
		await recorder.start();
		expect(platform.getUserMedia).toHaveBeenCalledWith({ audio: { echoCancellation: true, noiseSuppression: true } });
		expect(FakeRecorder.last?.mimeType).toBe('audio/webm;codecs=opus');
		expect(recorder.phase).toBe('recording');
		advance(3_100);
		expect(formatDuration(recorder.elapsed)).toBe('0:03');
		const stopped = recorder.stop();
		advance(500); // the recorder's last data arrives later: not part of the length
		await stopped;
		expect(recorded).toHaveLength(1);
		expect(recorded[0].details).toEqual({ duration: 3_100 });
		expect(recorded[0].file.type).toBe('audio/webm');
		expect(recorded[0].file.name).toMatch(/^Voice note \d{4}-\d{2}-\d{2} \d{2}-\d{2}\.webm$/);
		expect(recorded[0].file.size).toBe(10);
		expect(track.stopped).toBe(true);
		expect(recorder.phase).toBe('idle');
	});

	it('drops a cancelled recording and gives the microphone back', async () => {
		const { recorder, recorded, track, advance } = setup();
		await recorder.start();
		advance(1_000);
		recorder.cancel();
		await vi.runAllTimersAsync();
		expect(recorded).toEqual([]);
		expect(track.stopped).toBe(true);
		expect(recorder.phase).toBe('idle');
	});

	it('gives the microphone back when cancelled while the browser still asks for it', async () => {
		let grant!: () => void;
		const { track, stream } = fakeStream();
		const { recorder } = setup(() => new Promise((resolve) => (grant = () => resolve(stream))));
		const starting = recorder.start();
		expect(recorder.phase).toBe('starting');
		recorder.cancel();
		grant();
		await starting;
		expect(track.stopped).toBe(true);
		expect(recorder.phase).toBe('idle');
	});

	it('stops by itself at ten minutes', async () => {
		const { recorder, recorded, advance } = setup();
		await recorder.start();
		advance(MAX_RECORDING_MS);
		await vi.runAllTimersAsync();
		expect(recorded[0]?.details).toEqual({ duration: MAX_RECORDING_MS });
		expect(recorder.phase).toBe('idle');
	});

	it('says why when the microphone is denied, missing or there is no recorder', async () => {
		const named = (name: string) => async () => {
			throw new DOMException('no', name);
		};
		const denied = setup(named('NotAllowedError')).recorder;
		await denied.start();
		expect(denied.problem).toEqual({ kind: 'denied' });
		expect(denied.phase).toBe('idle');
		const missing = setup(named('NotFoundError')).recorder;
		await missing.start();
		expect(missing.problem).toEqual({ kind: 'noMicrophone' });
		const bare = new VoiceRecorder({ label: () => 'x', onrecorded: () => {}, platform: { now: () => 0 } });
		await bare.start();
		expect(bare.problem).toEqual({ kind: 'unsupported' });
	});

	it('falls back to the recorder’s own format and names the file by it', async () => {
		FakeRecorder.supported = [];
		try {
			const { recorder, recorded } = setup();
			await recorder.start();
			Object.defineProperty(FakeRecorder.last!, 'mimeType', { value: 'audio/mp4' });
			await recorder.stop();
			expect(recorded[0].file.type).toBe('audio/mp4');
			expect(recorded[0].file.name).toMatch(/\.m4a$/);
		} finally {
			FakeRecorder.supported = ['audio/webm;codecs=opus'];
		}
	});
});

describe('PendingFiles with a recording', () => {
	it('stores a file with the details it brings (no image preview made)', async () => {
		const added: { name: string; details: AttachmentDetails | undefined }[] = [];
		const blobs = {
			limits: { maxBytes: 100, autoFetchImageBytes: 50, maxFiles: 3 },
			add: async (file: File, details?: AttachmentDetails): Promise<AttachmentRef> => {
				added.push({ name: file.name, details });
				return { blob: `b-${file.name}`, size: file.size, mime: file.type, name: file.name, ...details };
			}
		} as unknown as ChannelBlobs;
		const pending = new PendingFiles(blobs);
		const note = new File([new Uint8Array(5)], 'Voice note 2026-12-05 14-03.webm', { type: 'audio/webm' });
		pending.add([{ file: note, details: { duration: 2_040 } }, new File(['x'], 'a.txt', { type: 'text/plain' })]);
		const batch = await pending.settle();
		expect(added).toEqual([
			{ name: 'Voice note 2026-12-05 14-03.webm', details: { duration: 2_040 } },
			{ name: 'a.txt', details: undefined }
		]);
		expect(batch?.refs[0]).toMatchObject({ mime: 'audio/webm', duration: 2_040 });
	});
});
