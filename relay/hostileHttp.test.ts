/**
 * The relay's HTTP surface against clients that stall, flood or vanish, through the real server
 * routing on 127.0.0.1 with raw sockets: an unsigned or unchallenged upload is refused before a
 * byte of its body is read; bodies being read at once share one bound (503 past it); a full
 * archive queue answers 503; uploads and downloads cut off by their client report nothing; a
 * malformed model id is a plain 404.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/doc/ids.ts';
import { RELAY_CHALLENGE_PATH, SignedHeaders } from '../src/lib/mesh/signedRequest.ts';
import { createWorkspace, newDevice } from '../tests/unit/doc/team/teamKit.ts';
import type { VerifiedKey } from './ai/apiKeys.ts';
import { Challenges } from './ai/challenges.ts';
import { ModelRegistry } from './ai/registry.ts';
import { ARCHIVE_PATH, createApiHandler, MAX_BODY_BYTES } from './api.ts';
import { ArchiveBusyError, type ArchivePeer } from './archive/archivePeer.ts';
import { createModelFilesHandler } from './models.ts';
import { createOpenAiHandler } from './openai.ts';
import { startRelay, type Relay } from './server.ts';
import type { RequestHandler } from './static.ts';
import { signedFetch, waitUntil } from './teamFixture.ts';

let tmp: string;
let relay: Relay;
/** The peer id the API handler takes as its own (signed requests must name it). */
const RELAY_ID = '12D3KooW' + 'R'.repeat(44);
/** What reached each `onError` (every one a console.error in production). */
const reported: unknown[] = [];
const logged: string[] = [];
/** Requests each wrapped handler has finished (resolved or thrown). */
const settled = { api: 0, models: 0 };
/** What the stand-in archive does with a request. */
let archiveAnswer: () => Promise<never> = () => Promise.reject(new Error('not reached'));

/** `handler`, counting the requests it finishes under `settled[name]`. */
function counted(name: keyof typeof settled, handler: RequestHandler): RequestHandler {
	return async (req, res) => {
		try {
			await handler(req, res);
		} finally {
			settled[name]++;
		}
	};
}

beforeAll(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-hostile-http-'));
	const root = join(tmp, 'build');
	const models = join(tmp, 'models');
	await mkdir(root, { recursive: true });
	await mkdir(models, { recursive: true });
	await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
	await writeFile(join(models, 'big.gguf'), Buffer.alloc(16 * 1024 * 1024, 1));
	const archive: Pick<ArchivePeer, 'request' | 'authority'> = { request: () => archiveAnswer(), authority: () => undefined };
	const onError = (error: unknown) => reported.push(error);
	relay = await startRelay({
		root,
		host: '127.0.0.1',
		port: 0,
		signalling: false,
		onError,
		log: (line) => logged.push(line),
		api: counted(
			'api',
			createApiHandler({ archive, challenges: new Challenges(), relayId: RELAY_ID, maxInFlightBodyBytes: 2 * MAX_BODY_BYTES, onError, log: (line) => logged.push(line) })
		),
		models: counted('models', createModelFilesHandler({ dir: models })),
		openai: createOpenAiHandler({
			registry: new ModelRegistry(),
			keys: { verify: async (key: string): Promise<VerifiedKey | undefined> => (key === 'good' ? { id: 'k', name: 'test', createdAt: '', hash: '' } : undefined) },
			onError
		})
	});
});

afterAll(async () => {
	await relay?.close();
	await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
	reported.length = 0;
	logged.length = 0;
});

/** A raw connection to the relay that collects what it answers. */
function rawClient(): { socket: net.Socket; received: () => string; closed: Promise<void> } {
	const socket = net.connect(relay.port, '127.0.0.1');
	let text = '';
	socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
	socket.on('error', () => {});
	const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
	return { socket, received: () => text, closed };
}

/** A challenge from the relay. */
async function challenge(): Promise<string> {
	const res = await fetch(`${relay.url}${RELAY_CHALLENGE_PATH}`, { method: 'POST' });
	return ((await res.json()) as { challenge: string }).challenge;
}

/** The head of a POST to the archive API announcing a body of `length` bytes, with `headers`. */
function postHead(length: number, headers: Record<string, string> = {}): string {
	const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
	return `POST ${ARCHIVE_PATH} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

/** Signature headers over a challenge the relay handed out (the signature itself is never reached). */
async function challenged(): Promise<Record<string, string>> {
	return { [SignedHeaders.peer]: 'p'.repeat(52), [SignedHeaders.challenge]: await challenge(), [SignedHeaders.relay]: RELAY_ID, [SignedHeaders.signature]: 'x' };
}

const statusLine = (text: string) => text.split('\r\n', 1)[0];

describe('bodies are read only for requests worth reading', () => {
	it('answers an unsigned upload, or one with a spent challenge, with 401 before its body arrives', async () => {
		const unsigned = rawClient();
		unsigned.socket.write(postHead(MAX_BODY_BYTES)); // and never a byte of the body
		await waitUntil(() => unsigned.received().includes('\r\n\r\n'), 'an answer to the unsigned upload', 5000);
		expect(statusLine(unsigned.received())).toBe('HTTP/1.1 401 Unauthorized');
		expect(unsigned.received()).toContain('sign the request');

		const spent = rawClient();
		spent.socket.write(postHead(MAX_BODY_BYTES, { ...(await challenged()), [SignedHeaders.challenge]: 'never-issued' }));
		await waitUntil(() => spent.received().includes('\r\n\r\n'), 'an answer to the unchallenged upload', 5000);
		expect(statusLine(spent.received())).toBe('HTTP/1.1 401 Unauthorized');
		expect(spent.received()).toContain('the challenge is unknown, used or expired');
		unsigned.socket.destroy();
		spent.socket.destroy();
	});

	it('holds at most the in-flight budget of stalled bodies: past it, 503 at once, logged once; room again once they go', async () => {
		// Two stalled uploads, each reserving its Content-Length: the whole budget of this relay.
		const stalled = [rawClient(), rawClient()];
		for (const client of stalled) {
			const head = postHead(MAX_BODY_BYTES, await challenged());
			await new Promise<void>((resolve) => client.socket.write(`${head}${'x'.repeat(1000)}`, () => resolve()));
		}
		const answers: string[] = [];
		for (let i = 0; i < 3; i++) {
			const extra = rawClient();
			extra.socket.write(postHead(MAX_BODY_BYTES, await challenged()));
			await waitUntil(() => extra.received().includes('\r\n\r\n'), 'an answer past the budget', 5000);
			answers.push(extra.received());
			extra.socket.destroy();
		}
		expect(answers.map(statusLine)).toEqual(Array(3).fill('HTTP/1.1 503 Service Unavailable'));
		expect(answers[0]).toContain('the relay is reading too many requests at once');
		expect(answers[0]).toMatch(/Retry-After: 5/i);
		expect(logged.filter((line) => line.includes('refusing more (503)'))).toHaveLength(1);

		for (const client of stalled) client.socket.destroy();
		await Promise.all(stalled.map((c) => c.closed));
		// The cut-off uploads gave their bytes back: a body is read again (and reaches the signature check).
		await waitUntil(async () => {
			const again = rawClient();
			again.socket.end(`${postHead(2, await challenged())}{}`);
			await again.closed;
			return again.received().includes('the signature does not match');
		}, 'room in the budget again', 5000);
		expect(reported).toEqual([]);
	});

	it('answers 503 with a clear message when too many archive requests wait', async () => {
		archiveAnswer = () => Promise.reject(new ArchiveBusyError(8));
		const owner = await newDevice();
		const { ws, create } = await createWorkspace(owner);
		const body = JSON.stringify({ workspaceId: ws, secret: 'A'.repeat(43), ops: [Buffer.from(create.bytes).toString('base64')] });
		const { res } = await signedFetch(relay.url, { peerId: owner.peerId, privateKey: owner.key }, 'POST', ARCHIVE_PATH, body, { relay: RELAY_ID });
		expect([res.status, res.headers.get('retry-after'), await res.json()]).toEqual([
			503,
			'5',
			{ error: 'the relay is busy with 8 other archive requests: try again in a few seconds' }
		]);
		expect(reported).toEqual([]);
	});
});

describe('clients that go away', () => {
	/** Opens a connection, sends `text`, and resets it at once. */
	const sendAndReset = (text: string) =>
		new Promise<void>((resolve) => {
			const socket = net.connect(relay.port, '127.0.0.1', () => {
				socket.write(text, () => setImmediate(() => (socket.resetAndDestroy(), resolve())));
			});
			socket.on('error', () => resolve());
		});

	it('reports nothing for uploads cut off mid-body', async () => {
		const before = settled.api;
		const n = 20;
		for (let i = 0; i < n; i++) await sendAndReset(postHead(MAX_BODY_BYTES / 2, await challenged()) + 'x'.repeat(4000));
		await waitUntil(() => settled.api >= before + n, 'every cut-off upload to be handled');
		expect(reported).toEqual([]);
	});

	it('reports nothing for downloads cut off mid-file', async () => {
		const before = settled.models;
		const n = 50;
		for (let i = 0; i < n; i++) await sendAndReset('GET /models/big.gguf HTTP/1.1\r\nHost: relay\r\n\r\n');
		await waitUntil(() => settled.models >= before + n, 'every cut-off download to be handled');
		// The server's catch runs just after the handler settles: give it that turn.
		await new Promise((resolve) => setImmediate(resolve));
		expect(reported).toEqual([]);
	});
});

describe('/v1/models/<id>', () => {
	it('answers 404 for an id that is not valid percent-encoding, and reports nothing', async () => {
		for (const bad of ['%E0', '%', '%zz', `${newId()}%E0%A4`]) {
			const res = await fetch(`${relay.url}/v1/models/${bad}`, { headers: { Authorization: 'Bearer good' } });
			expect([bad, res.status]).toEqual([bad, 404]);
			expect(await res.json()).toMatchObject({ error: { code: 'model_not_found' } });
		}
		expect(reported).toEqual([]);
	});
});
