/**
 * Length-prefixed frames over one libp2p 3 stream between two real nodes: a request and
 * reply protocol both ways; hostile bytes (a huge length prefix, endless varint bytes,
 * a frame cut off by the sender) close only that stream with a named error while the
 * node keeps serving; and, for information, the one-way latency of small frames.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, Stream } from '@libp2p/interface';
import { openStream } from '../../src/lib/mesh/dial.js';
import { frameStream, handleFrames } from '../../src/lib/mesh/frameStream.js';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.js';
import { addressOf, quantile, startNode, stopAll, varint, waitFor } from './helpers.js';

const ECHO = '/outpost-test/upper/1.0.0';
const MAX = 1024;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

afterEach(stopAll, 15_000);

/** A server that answers each frame with it in upper case; failures land in `errors`. */
async function startUpperServer(): Promise<{ server: NodeMeshNode; errors: Error[] }> {
	const server = await startNode();
	const errors: Error[] = [];
	await handleFrames(
		server,
		ECHO,
		async (frames) => {
			for await (const frame of frames) await frames.write(bytes(text(frame).toUpperCase()));
		},
		{ maxFrameBytes: MAX, onError: (err) => errors.push(err) }
	);
	return { server, errors };
}

/** Resolves once the stream is closed (cleanly or reset), with its final status. */
function closed(stream: Stream): Promise<string> {
	if (stream.status !== 'open' && stream.status !== 'closing') return Promise.resolve(stream.status);
	return new Promise((resolve) => stream.addEventListener('close', () => resolve(stream.status), { once: true }));
}

async function roundTrip(client: NodeMeshNode, server: NodeMeshNode, word: string): Promise<string> {
	const frames = frameStream(await openStream(client, addressOf(server), ECHO), { maxFrameBytes: MAX });
	await frames.write(bytes(word));
	const reply = await frames.read();
	await frames.close();
	return reply === null ? '<end>' : text(reply);
}

describe('framed streams', () => {
	it('exchange whole frames both ways over one stream, then end cleanly', async () => {
		const { server, errors } = await startUpperServer();
		const client = await startNode();
		const frames = frameStream(await openStream(client, addressOf(server), ECHO), { maxFrameBytes: MAX });

		const replies: string[] = [];
		for (const word of ['alpha', '', 'x'.repeat(MAX), 'gamma']) {
			await frames.write(bytes(word));
			const reply = await frames.read();
			replies.push(reply === null ? '<end>' : text(reply));
		}
		expect(replies).toEqual(['ALPHA', '', 'X'.repeat(MAX), 'GAMMA']);

		// Several frames in one burst arrive as separate whole frames.
		await Promise.all(['one', 'two', 'three'].map((w) => frames.write(bytes(w))));
		const burst = [await frames.read(), await frames.read(), await frames.read()].map((b) => (b ? text(b) : '<end>'));
		expect(burst).toEqual(['ONE', 'TWO', 'THREE']);

		await frames.close(); // the server's loop ends, its handler returns and closes too
		expect(await frames.read()).toBeNull();
		expect(errors).toEqual([]);
	});

	it('refuses to send a frame over the limit', async () => {
		const { server } = await startUpperServer();
		const client = await startNode();
		const frames = frameStream(await openStream(client, addressOf(server), ECHO), { maxFrameBytes: MAX });
		await expect(frames.write(new Uint8Array(MAX + 1))).rejects.toMatchObject({ name: 'FrameTooLargeError' });
		await frames.write(bytes('still usable'));
		expect(text((await frames.read())!)).toBe('STILL USABLE');
	});

	const hostile: Array<[string, Uint8Array, string]> = [
		['a length prefix far over the limit', varint(2 ** 40), 'FrameTooLargeError'],
		['a length prefix just over the limit', Uint8Array.from([...varint(MAX + 1), 1, 2, 3]), 'FrameTooLargeError'],
		['endless varint continuation bytes', new Uint8Array(64).fill(0xff), 'FrameTooLargeError'],
		['a frame cut off by the sender', Uint8Array.from([...varint(100), ...new Uint8Array(10)]), 'MalformedFrameError']
	];

	for (const [what, payload, errorName] of hostile) {
		it(`closes the stream on ${what} and keeps serving`, async () => {
			const { server, errors } = await startUpperServer();
			const client = await startNode();
			expect(await roundTrip(client, server, 'before')).toBe('BEFORE');
			const connection: Connection = client.getConnections(server.peerId)[0]!;

			const raw = await openStream(client, addressOf(server), ECHO);
			raw.send(payload);
			await raw.close(); // ends our side: a cut-off frame is now visibly cut off
			expect(await closed(raw)).toBe('reset'); // the server reset it
			await waitFor(() => errors.length === 1, 'the server to report the error');
			expect(errors[0]!.name).toBe(errorName);

			// Same connection, new stream: service goes on.
			expect(await roundTrip(client, server, 'after')).toBe('AFTER');
			expect(client.getConnections(server.peerId).map((c) => c.id)).toEqual([connection.id]);
			expect(errors).toHaveLength(1);
		});
	}

	it('measures one-way latency of small frames over a direct stream (informational)', async () => {
		const COUNT = 1000;
		const receiver = await startNode();
		const sender = await startNode();
		const latencies: number[] = [];
		let arrived: (() => void) | undefined;
		await handleFrames(receiver, '/outpost-test/latency/1.0.0', async (frames) => {
			for await (const frame of frames) {
				const sentAt = new DataView(frame.buffer, frame.byteOffset, 8).getFloat64(0);
				latencies.push(performance.now() - sentAt);
				arrived?.();
			}
		});
		const frames = frameStream(await openStream(sender, addressOf(receiver), '/outpost-test/latency/1.0.0'));
		const message = new Uint8Array(64); // about a one-character Yjs update with its envelope
		for (let i = 0; i < COUNT + 50; i++) {
			const got = new Promise<void>((resolve) => (arrived = resolve));
			new DataView(message.buffer).setFloat64(0, performance.now());
			await frames.write(message);
			await got; // one frame in flight at a time: latency, not throughput
		}
		await frames.close();
		const sorted = latencies.slice(50).sort((a, b) => a - b); // the first 50 warm up
		const p50 = quantile(sorted, 0.5);
		const p99 = quantile(sorted, 0.99);
		console.log(
			`one-way latency, ${COUNT} × 64-byte frames, TCP + Noise + Yamux on 127.0.0.1: ` +
				`p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${sorted.at(-1)!.toFixed(3)} ms`
		);
		expect(sorted).toHaveLength(COUNT);
	});
});
