/** API keys of the `/v1` API: hashed storage in the relay's database, verification, revocation, the old key file moved in, and the `api-key` command. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { query } from '../archive/dbFixture.ts';
import { ApiKeyStore, apiKeysPath, parseApiKeyArgs, runApiKeyCommand } from './apiKeys.ts';

const execFileAsync = promisify(execFile);

let dir: string;
beforeEach(async () => {
	dir = await mkdtemp(join(tmpdir(), 'outpost-keys-'));
});
afterEach(async () => {
	await rm(dir, { recursive: true, force: true });
});

describe('ApiKeyStore', () => {
	it('creates a key it verifies, storing only its hash, readable by this user only', async () => {
		const store = new ApiKeyStore(join(dir, 'data'));
		const { key, entry } = await store.create('  laptop  ');
		expect(key).toMatch(/^sk-outpost-[0-9a-f]{12}-[A-Za-z0-9_-]{43}$/);
		expect(entry).toMatchObject({ name: 'laptop', id: key.split('-')[2] });
		expect(await store.verify(key)).toEqual(entry);
		const rows = JSON.stringify(query(join(dir, 'data'), 'SELECT * FROM api_keys'));
		expect(rows).not.toContain(key.slice(24));
		expect(rows).toContain(entry.hash);
		expect((await stat(store.path)).mode & 0o077).toBe(0); // the database is this user's only
	});

	it('refuses other keys: altered, unknown, malformed', async () => {
		const store = new ApiKeyStore(dir);
		const { key } = await store.create();
		const altered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
		for (const bad of [altered, `${key}x`, '', 'sk-outpost', key.replace(/-[0-9a-f]{12}-/, '-000000000000-')])
			expect(await store.verify(bad)).toBeUndefined();
	});

	it('revokes a key; a store on the same directory (the running relay) sees changes at once', async () => {
		const cli = new ApiKeyStore(dir);
		const relay = new ApiKeyStore(dir);
		expect(await relay.list()).toEqual([]);
		const first = await cli.create('one');
		const second = await cli.create('two');
		expect(await relay.verify(first.key)).toBeDefined();
		expect(await cli.revoke(first.entry.id)).toBe(true);
		expect(await cli.revoke(first.entry.id)).toBe(false);
		expect(await relay.verify(first.key)).toBeUndefined();
		expect(await relay.verify(second.key)).toBeDefined();
		expect((await relay.list()).map((k) => k.name)).toEqual(['two']);
	});

	it('loses no change when creations and revocations race, in one process and across processes', async () => {
		const relay = new ApiKeyStore(dir);
		const cli = new ApiKeyStore(dir);
		const old = await Promise.all(Array.from({ length: 10 }, (_, i) => relay.create(`old ${i}`)));
		// Another process creates keys while this one creates and revokes (the relay and the command line).
		const script = `import { ApiKeyStore } from ${JSON.stringify(new URL('./apiKeys.ts', import.meta.url).pathname)};
const store = new ApiKeyStore(${JSON.stringify(dir)});
const made = [];
for (let i = 0; i < 8; i++) made.push((await store.create('child ' + i)).key);
console.log(JSON.stringify(made));`;
		const child = execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });
		const [created, revoked] = await Promise.all([
			Promise.all(Array.from({ length: 15 }, (_, i) => cli.create(`new ${i}`))),
			Promise.all(old.map((k) => relay.revoke(k.entry.id)))
		]);
		const fromChild = JSON.parse((await child).stdout) as string[];
		expect(revoked.every(Boolean)).toBe(true);
		for (const k of old) expect(await relay.verify(k.key), 'a revoked key').toBeUndefined();
		for (const k of created) expect(await relay.verify(k.key), 'a created key').toBeDefined();
		for (const key of fromChild) expect(await relay.verify(key), "the other process's key").toBeDefined();
		expect(await relay.list()).toHaveLength(15 + 8);
	}, 60_000);

	it('moves the keys of an old api-keys.json in once, and leaves a broken file where it is with a clear error', async () => {
		const old = new ApiKeyStore(join(dir, 'before'));
		const { key, entry } = await old.create('from the file');
		const [row] = query<{ id: string; name: string; created_at: string; hash: string }>(join(dir, 'before'), 'SELECT * FROM api_keys');
		await writeFile(apiKeysPath(dir), JSON.stringify({ version: 1, keys: [{ id: row!.id, name: row!.name, createdAt: row!.created_at, hash: row!.hash }] }));
		const store = new ApiKeyStore(dir);
		expect(await store.verify(key)).toEqual(entry);
		expect(existsSync(apiKeysPath(dir))).toBe(false);
		expect(await readFile(`${apiKeysPath(dir)}.migrated`, 'utf8')).toContain(entry.hash);

		const broken = join(dir, 'broken');
		await new ApiKeyStore(broken).list(); // makes the directory and the database
		await writeFile(apiKeysPath(broken), '{oops');
		await expect(new ApiKeyStore(broken).verify('x')).resolves.toBeUndefined(); // malformed key: no read needed
		await expect(new ApiKeyStore(broken).list()).rejects.toMatchObject({ name: 'ApiKeysFileError' });
		await writeFile(apiKeysPath(broken), '{"keys": 3}');
		await expect(new ApiKeyStore(broken).list()).rejects.toMatchObject({ name: 'ApiKeysFileError' });
		expect(existsSync(apiKeysPath(broken))).toBe(true); // kept for its owner to fix
	});
});

describe('npm run relay -- api-key', () => {
	it('parses create, list and revoke', () => {
		expect(parseApiKeyArgs(['create'])).toEqual({ action: 'create', name: '', dataDir: './data' });
		expect(parseApiKeyArgs(['create', '--name', 'ci', '--data=/d'])).toEqual({ action: 'create', name: 'ci', dataDir: '/d' });
		expect(parseApiKeyArgs(['list'])).toEqual({ action: 'list', dataDir: './data' });
		expect(parseApiKeyArgs(['revoke', 'abc', '--data', '/d'])).toEqual({ action: 'revoke', id: 'abc', dataDir: '/d' });
	});

	it.each([
		[[], /needs an action/],
		[['make'], /unknown action "make"/],
		[['revoke'], /exactly one key id/],
		[['list', 'x'], /takes no other arguments/],
		[['list', '--name', 'x'], /--name goes with api-key create/],
		[['create', '--bogus'], /Unknown option/],
		[['create', '--data', ''], /--data needs a value/]
	])('%j is a UsageError', (argv, message) => {
		expect(() => parseApiKeyArgs(argv)).toThrow(message);
		try {
			parseApiKeyArgs(argv);
		} catch (error) {
			expect((error as Error).name).toBe('UsageError');
		}
	});

	it('prints a new key once, lists keys without secrets, revokes by id', async () => {
		const created = await runApiKeyCommand({ action: 'create', name: 'ci', dataDir: dir });
		const key = /sk-outpost-\S+/.exec(created)?.[0];
		expect(key).toBeDefined();
		expect(created).toMatch(/not shown again/);
		const id = key!.split('-')[2]!;
		const listed = await runApiKeyCommand({ action: 'list', dataDir: dir });
		expect(listed).toMatch(new RegExp(`^${id}  \\d{4}-\\d\\d-\\d\\d  ci$`));
		expect(listed).not.toContain(key);
		expect(await runApiKeyCommand({ action: 'revoke', id, dataDir: dir })).toBe(`Revoked API key ${id}.`);
		expect(await runApiKeyCommand({ action: 'list', dataDir: dir })).toMatch(/^No API keys/);
		await expect(runApiKeyCommand({ action: 'revoke', id, dataDir: dir })).rejects.toMatchObject({ name: 'UsageError' });
	});
});
