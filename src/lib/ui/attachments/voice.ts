/**
 * The pure part of voice notes: which recording format to ask the browser for, what a recording
 * is called, and lengths in words ("0:12", "1:05:09"). The recorder itself is VoiceRecorder.svelte.ts.
 */
import { baseType } from '$lib/state/ChannelBlobs.svelte';

/** Longest recording: it stops by itself after this. */
export const MAX_RECORDING_MS = 10 * 60 * 1000;

/** A press on the record button held this long records while held; a shorter one is a tap. */
export const HOLD_MS = 300;

/** Formats asked of MediaRecorder, best first; where none is supported the recorder picks its own. */
export const RECORDING_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'] as const;

/** The first of {@link RECORDING_TYPES} that `isSupported` accepts (MediaRecorder.isTypeSupported), or undefined. */
export function recordingType(isSupported: (type: string) => boolean): string | undefined {
	return RECORDING_TYPES.find((type) => {
		try {
			return isSupported(type);
		} catch {
			return false;
		}
	});
}

/** File name endings of the audio types a browser records. */
const EXTENSIONS: Readonly<Record<string, string>> = {
	'audio/webm': 'webm',
	'audio/ogg': 'ogg',
	'audio/mp4': 'm4a',
	'audio/mpeg': 'mp3',
	'audio/wav': 'wav'
};

/** The ending of a recording of type `mime` (`audio/webm;codecs=opus` → `webm`); `webm` when unknown. */
export function audioExtension(mime: string): string {
	return EXTENSIONS[baseType(mime)] ?? 'webm';
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The name of a recording made at `at` (local time), of type `mime`, with the words `label`
 * first: `Voice note 2026-12-05 14-03.webm`. No characters a file system refuses (no colon).
 */
export function voiceNoteName(label: string, at: Date, mime: string): string {
	const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
	return `${label} ${day} ${pad(at.getHours())}-${pad(at.getMinutes())}.${audioExtension(mime)}`;
}

/**
 * A length in milliseconds as a clock reads: `0:03`, `2:15`, `1:05:09` (whole seconds, rounded
 * down, so a timer ticks like one). Anything not a finite length reads `0:00`.
 */
export function formatDuration(ms: number): string {
	const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
	const hours = Math.floor(total / 3600);
	const minutes = Math.floor((total % 3600) / 60);
	const seconds = total % 60;
	return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

/**
 * The length a voice note is labelled with: the sender's measured `duration` (rounded to the
 * nearest second, so 1.98 s reads 0:02), or the one the audio element found, when that is a
 * real number (MediaRecorder's WebM files often say Infinity); undefined when neither is known.
 */
export function noteLength(duration: number | undefined, elementSeconds?: number): number | undefined {
	if (duration !== undefined && Number.isFinite(duration) && duration >= 0) return Math.round(duration / 1000) * 1000;
	if (elementSeconds !== undefined && Number.isFinite(elementSeconds) && elementSeconds > 0) return Math.round(elementSeconds) * 1000;
	return undefined;
}
