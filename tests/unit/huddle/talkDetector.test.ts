/** "Talking" from levels: on after 150 ms above the threshold, off after 400 ms below. */
import { describe, expect, it } from 'vitest';
import { rms, TALK_OFF_MS, TALK_ON_MS, TALK_THRESHOLD, TalkDetector } from '../../../src/lib/huddle/talkDetector.js';

const LOUD = TALK_THRESHOLD * 5;

describe('TalkDetector', () => {
	it('turns on only after the level stays above the threshold for 150 ms', () => {
		const d = new TalkDetector();
		for (let t = 0; t < TALK_ON_MS; t += 50) {
			d.sample(t, LOUD);
			expect(d.talking).toBe(false);
		}
		expect(d.sample(TALK_ON_MS, LOUD)).toBe(true);
		expect(d.talking).toBe(true);
	});

	it('a short click (a 20 ms beep) does not count', () => {
		const d = new TalkDetector();
		for (let t = 0; t < 2000; t += 50) d.sample(t, t % 500 === 0 ? LOUD : 0);
		expect(d.talking).toBe(false);
	});

	it('stays on through short pauses and turns off after 400 ms of silence', () => {
		const d = new TalkDetector();
		for (let t = 0; t <= 200; t += 50) d.sample(t, LOUD);
		expect(d.talking).toBe(true);
		d.sample(250, 0);
		d.sample(300, 0);
		d.sample(350, LOUD);
		expect(d.talking).toBe(true);
		d.sample(400, 0);
		expect(d.talking).toBe(true);
		expect(d.sample(400 + TALK_OFF_MS, 0)).toBe(true);
		expect(d.talking).toBe(false);
	});

	it('measures RMS', () => {
		expect(rms(new Float32Array([0.5, -0.5, 0.5, -0.5]))).toBeCloseTo(0.5);
		expect(rms(new Float32Array())).toBe(0);
	});
});
