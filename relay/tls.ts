/**
 * The relay's LAN certificate. Browsers give service workers and WebGPU only to secure
 * contexts, and a LAN address is one only over HTTPS, so the relay makes itself a
 * self-signed certificate (ECDSA P-256, via `selfsigned`) on first start and keeps it in
 * `<data>/tls/`. It is kept as long as it covers every name the relay is reached by
 * (localhost, 127.0.0.1, the hostname, each current LAN IPv4 address) and is not about
 * to expire: a certificate that stays the same keeps the exception a phone's user
 * accepted once.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

/** A certificate and its private key, PEM-encoded. */
export interface Tls {
	key: string;
	cert: string;
}

/** Names a certificate covers: DNS names and IP addresses. */
export interface TlsNames {
	dns: string[];
	ips: string[];
}

/** Options of {@link ensureCertificate}. */
export interface EnsureCertificateInit {
	/** The relay's data directory; files go to `<dataDir>/tls/`. */
	dataDir: string;
	/** What the certificate must cover (see {@link certificateNames}). */
	names: TlsNames;
	/** Days of validity of a new certificate; default 365. */
	validDays?: number;
	/** Renew when fewer days than this are left; default 30. */
	renewDays?: number;
	/** The current time (tests); default `new Date()`. */
	now?: Date;
}

/** What {@link ensureCertificate} returns. */
export interface EnsuredCertificate extends Tls {
	/** Whether a new certificate was made this time (and why), or the stored one kept. */
	status: 'kept' | 'created' | 'renewed-names' | 'renewed-expiry';
	/** SHA-256 fingerprint, for users who want to check what their phone shows. */
	fingerprint256: string;
	/** When it expires. */
	validTo: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The names the relay is reached by: localhost, the hostname, loopback and every LAN IPv4. */
export function certificateNames(lanIps: readonly string[], host: string = hostname()): TlsNames {
	const dns = ['localhost'];
	if (host !== '' && host !== 'localhost' && isIP(host) === 0) dns.push(host);
	return { dns, ips: unique(['127.0.0.1', ...lanIps]) };
}

/** The paths of the stored key and certificate. */
export function tlsPaths(dataDir: string): { dir: string; key: string; cert: string } {
	const dir = join(dataDir, 'tls');
	return { dir, key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
}

/** The DNS names and IPs in a certificate's subjectAltName. */
export function namesOf(cert: X509Certificate): TlsNames {
	const dns: string[] = [];
	const ips: string[] = [];
	for (const entry of (cert.subjectAltName ?? '').split(/,\s*/)) {
		if (entry.startsWith('DNS:')) dns.push(entry.slice(4));
		else if (entry.startsWith('IP Address:')) ips.push(entry.slice(11));
	}
	return { dns, ips };
}

/**
 * The stored certificate when it still fits, else a new one written in its place
 * (key first, then certificate, each by rename, so a crash never leaves a mismatched pair
 * that is used: a mismatch fails to load and is replaced on the next start).
 */
export async function ensureCertificate(init: EnsureCertificateInit): Promise<EnsuredCertificate> {
	const now = init.now ?? new Date();
	const renewMs = (init.renewDays ?? 30) * DAY_MS;
	const paths = tlsPaths(init.dataDir);

	let status: EnsuredCertificate['status'] = 'created';
	const stored = await readStored(paths);
	if (stored !== undefined) {
		const have = namesOf(stored.x509);
		const covers =
			init.names.dns.every((name) => have.dns.includes(name)) && init.names.ips.every((ip) => have.ips.includes(ip));
		const validTo = new Date(stored.x509.validTo);
		if (!covers) status = 'renewed-names';
		else if (validTo.getTime() - now.getTime() < renewMs || new Date(stored.x509.validFrom) > now) {
			status = 'renewed-expiry';
		} else {
			return { ...stored.tls, status: 'kept', fingerprint256: stored.x509.fingerprint256, validTo };
		}
	}

	const tls = await createCertificate(init.names, now, init.validDays ?? 365);
	await mkdir(paths.dir, { recursive: true, mode: 0o700 });
	await writeAtomically(paths.key, tls.key, 0o600);
	await writeAtomically(paths.cert, tls.cert, 0o644);
	const x509 = new X509Certificate(tls.cert);
	return { ...tls, status, fingerprint256: x509.fingerprint256, validTo: new Date(x509.validTo) };
}

/** A new self-signed ECDSA P-256 server certificate for `names`. */
export async function createCertificate(names: TlsNames, now: Date, validDays: number): Promise<Tls> {
	// Backdated an hour: a phone whose clock runs a little behind still accepts it.
	const notBeforeDate = new Date(now.getTime() - 60 * 60 * 1000);
	const subject = [
		{ name: 'commonName', value: names.dns[1] ?? 'localhost' },
		{ name: 'organizationName', value: 'Outpost relay' }
	];
	const pems = await generate(subject, {
		keyType: 'ec',
		curve: 'P-256',
		algorithm: 'sha256',
		notBeforeDate,
		notAfterDate: new Date(now.getTime() + validDays * DAY_MS),
		extensions: [
			{ name: 'basicConstraints', cA: false },
			{ name: 'keyUsage', digitalSignature: true, critical: true },
			{ name: 'extKeyUsage', serverAuth: true },
			{
				name: 'subjectAltName',
				altNames: [
					...names.dns.map((value) => ({ type: 2 as const, value })),
					...names.ips.map((ip) => ({ type: 7 as const, ip }))
				]
			}
		]
	});
	return { key: pems.private, cert: pems.cert };
}

async function readStored(paths: ReturnType<typeof tlsPaths>): Promise<{ tls: Tls; x509: X509Certificate } | undefined> {
	try {
		const [key, cert] = await Promise.all([readFile(paths.key, 'utf8'), readFile(paths.cert, 'utf8')]);
		const x509 = new X509Certificate(cert);
		if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
		return { tls: { key, cert }, x509 };
	} catch {
		// Missing, unreadable or damaged: make a new one.
		return undefined;
	}
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
	const temp = `${path}.${process.pid}.tmp`;
	await writeFile(temp, content, { mode });
	await rename(temp, path);
}

function unique(values: readonly string[]): string[] {
	return [...new Set(values)];
}
