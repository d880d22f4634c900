/** ChunkWriter: text pushed while a send is in flight goes out together, in order; failures surface. */
import { describe, expect, it } from 'vitest';
import { ChunkWriter } from '../../../src/lib/ai/chunkWriter.js';

/** A send whose calls complete when the test says so. */
function gatedSend() {
	const sent: string[] = [];
	const gates: Array<(error?: Error) => void> = [];
	const send = (text: string) =>
		new Promise<void>((resolve, reject) => {
			sent.push(text);
			gates.push((error) => (error ? reject(error) : resolve()));
		});
	const open = async (error?: Error) => {
		gates.shift()!(error);
		await new Promise((r) => setTimeout(r, 0));
	};
	return { sent, send, open };
}

describe('ChunkWriter', () => {
	it('sends the first text at once and what arrives meanwhile in one later send, in order', async () => {
		const { sent, send, open } = gatedSend();
		const writer = new ChunkWriter(send, 4096, 0);
		writer.push('Once');
		expect(sent).toEqual(['Once']);
		writer.push(' upon');
		writer.push(' a');
		writer.push(' time');
		expect(sent).toEqual(['Once']);
		await open();
		expect(sent).toEqual(['Once', ' upon a time']);
		const flushed = writer.flush();
		await open();
		await flushed;
		writer.push('.');
		expect(sent).toEqual(['Once', ' upon a time', '.']);
		await open();
		await writer.flush();
	});

	it('splits long text at character boundaries', async () => {
		const sent: string[] = [];
		const writer = new ChunkWriter(async (text) => void sent.push(text), 3, 0);
		writer.push('ab😀cd😀e');
		await writer.flush();
		expect(sent).toEqual(['ab😀', 'cd😀', 'e']);
	});

	it('a failed send fails the next push and the flush', async () => {
		const { send, open } = gatedSend();
		const writer = new ChunkWriter(send, 4096, 0);
		writer.push('a');
		writer.push('b');
		await open(new Error('the asker went away'));
		expect(() => writer.push('c')).toThrow('the asker went away');
		await expect(writer.flush()).rejects.toThrow('the asker went away');
	});
});

describe('ChunkWriter pacing', () => {
	it('sends the first text at once, then at most one send per interval, carrying what arrived', async () => {
		const sent: Array<{ text: string; at: number }> = [];
		const start = performance.now();
		const writer = new ChunkWriter(async (text) => void sent.push({ text, at: performance.now() - start }), 4096, 40);
		writer.push('a');
		expect(sent.map((s) => s.text)).toEqual(['a']);
		for (const t of ['b', 'c', 'd']) {
			await new Promise((r) => setTimeout(r, 5));
			writer.push(t);
		}
		await writer.flush();
		expect(sent.map((s) => s.text)).toEqual(['a', 'bcd']);
		// Paced: about one interval after the first (timers may fire a millisecond early); unpaced it would be ~5 ms.
		expect(sent[1]!.at).toBeGreaterThanOrEqual(35);
	});
});
