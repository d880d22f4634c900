/**
 * The relay's LAN certificate: made once, kept while it fits, replaced when the LAN
 * addresses change or it nears expiry; and HTTPS served with it, next to plain HTTP on
 * 127.0.0.1.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRelay } from './server.ts';
import type { Relay } from './server.ts';
import { certificateNames, ensureCertificate, namesOf, tlsPaths } from './tls.ts';

let dataDir: string;
const open: Relay[] = [];

beforeEach(async () => {
	dataDir = await mkdtemp(join(tmpdir(), 'outpost-tls-'));
});

afterEach(async () => {
	await Promise.all(open.splice(0).map((relay) => relay.close()));
	await rm(dataDir, { recursive: true, force: true });
});

const DAY = 24 * 60 * 60 * 1000;

describe('certificateNames', () => {
	it('covers localhost, the hostname, loopback and each LAN address once', () => {
		expect(certificateNames(['192.168.1.20', '10.0.0.7', '10.0.0.7'], 'vessel')).toEqual({
			dns: ['localhost', 'vessel'],
			ips: ['127.0.0.1', '192.168.1.20', '10.0.0.7']
		});
		expect(certificateNames([], '10.0.0.7').dns).toEqual(['localhost']);
	});
});

describe('ensureCertificate', () => {
	const names = certificateNames(['192.168.1.20'], 'vessel');

	it('makes an ECDSA P-256 server certificate with the names as subjectAltName, and keeps it', async () => {
		const first = await ensureCertificate({ dataDir, names });
		expect(first.status).toBe('created');
		const x509 = new X509Certificate(first.cert);
		expect(namesOf(x509)).toEqual(names);
		expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
		expect(x509.checkPrivateKey(createPrivateKey(first.key))).toBe(true);
		expect(await readFile(tlsPaths(dataDir).cert, 'utf8')).toBe(first.cert);

		const second = await ensureCertificate({ dataDir, names });
		expect(second.status).toBe('kept');
		expect(second.cert).toBe(first.cert);
		expect(second.key).toBe(first.key);
		// Fewer names than it covers (an interface went down) still fits.
		expect((await ensureCertificate({ dataDir, names: certificateNames([], 'vessel') })).cert).toBe(first.cert);
	});

	it('makes a new one when a LAN address is not covered', async () => {
		const first = await ensureCertificate({ dataDir, names });
		const moved = certificateNames(['192.168.1.20', '10.0.0.7'], 'vessel');
		const second = await ensureCertificate({ dataDir, names: moved });
		expect(second.status).toBe('renewed-names');
		expect(second.cert).not.toBe(first.cert);
		expect(namesOf(new X509Certificate(second.cert)).ips).toContain('10.0.0.7');
		expect((await ensureCertificate({ dataDir, names: moved })).status).toBe('kept');
	});

	it('makes a new one 30 days before expiry', async () => {
		const first = await ensureCertificate({ dataDir, names, validDays: 365 });
		const later = new Date(first.validTo.getTime() - 40 * DAY);
		expect((await ensureCertificate({ dataDir, names, now: later })).status).toBe('kept');
		const nearEnd = new Date(first.validTo.getTime() - 10 * DAY);
		const renewed = await ensureCertificate({ dataDir, names, now: nearEnd });
		expect(renewed.status).toBe('renewed-expiry');
		expect(renewed.validTo.getTime()).toBeGreaterThan(first.validTo.getTime());
	});

	it('replaces a damaged or mismatched pair', async () => {
		const first = await ensureCertificate({ dataDir, names });
		await writeFile(tlsPaths(dataDir).cert, 'not a certificate');
		const second = await ensureCertificate({ dataDir, names });
		expect(second.status).toBe('created');

		const otherDir = await mkdtemp(join(tmpdir(), 'outpost-tls-other-'));
		try {
			const other = await ensureCertificate({ dataDir: otherDir, names });
			await writeFile(tlsPaths(dataDir).key, other.key); // key of another certificate
			expect((await ensureCertificate({ dataDir, names })).status).toBe('created');
		} finally {
			await rm(otherDir, { recursive: true, force: true });
		}
		expect(second.cert).not.toBe(first.cert);
	});
});

describe('HTTPS with the certificate', () => {
	async function fixtureRoot(): Promise<string> {
		const root = join(dataDir, 'build');
		await mkdir(root, { recursive: true });
		await writeFile(join(root, 'index.html'), '<!doctype html><title>home</title>');
		await writeFile(join(root, '200.html'), '<!doctype html><title>shell</title>');
		return root;
	}

	/** GET over HTTPS trusting only `ca`; resolves with status, body and whether TLS verified. */
	function get(url: string, ca: string | undefined) {
		return new Promise<{ status: number; body: string; authorized: boolean }>((resolve, reject) => {
			const req = httpsRequest(url, { ca, servername: 'localhost', timeout: 5000 }, (res) => {
				// Read now: the socket is detached from the response once it ends.
				const { authorized } = res.socket as TLSSocket;
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (body += chunk));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authorized }));
			});
			req.on('timeout', () => req.destroy(new Error('timed out')));
			req.on('error', reject);
			req.end();
		});
	}

	it('serves the app over HTTPS that verifies against the certificate, and plain HTTP on 127.0.0.1', async () => {
		const tls = await ensureCertificate({ dataDir, names: certificateNames([]) });
		const relay = await startRelay({ root: await fixtureRoot(), host: '127.0.0.1', port: 0, tls, httpPort: 0 });
		open.push(relay);
		expect(relay.https).toBe(true);
		expect(relay.url).toBe(`https://127.0.0.1:${relay.port}`);

		const res = await get(`${relay.url}/`, tls.cert);
		expect(res).toMatchObject({ status: 200, authorized: true });
		expect(res.body).toContain('<title>home</title>');
		// By IP too: 127.0.0.1 is in the subjectAltName.
		const byIp = await new Promise<boolean>((resolve, reject) => {
			const req = httpsRequest(`${relay.url}/`, { ca: tls.cert, timeout: 5000 }, (r) => {
				r.resume();
				resolve((r.socket as TLSSocket).authorized);
			});
			req.on('error', reject);
			req.end();
		});
		expect(byIp).toBe(true);

		// Without the certificate as CA, it is untrusted, as on a phone before the warning.
		await expect(get(`${relay.url}/`, undefined)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });

		expect(relay.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		const plain = await fetch(`${relay.httpUrl}/`);
		expect(plain.status).toBe(200);
		expect(await plain.text()).toContain('<title>home</title>');
	});

	it('has no second listener without a certificate', async () => {
		const relay = await startRelay({ root: await fixtureRoot(), host: '127.0.0.1', port: 0, httpPort: 0 });
		open.push(relay);
		expect(relay.https).toBe(false);
		expect(relay.httpUrl).toBeUndefined();
	});
});
