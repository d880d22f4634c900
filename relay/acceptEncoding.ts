/**
 * The precompressed encodings of the static build and which of them a request's
 * `Accept-Encoding` allows (RFC 9110 §12.5.3), so the relay sends `.br` or `.gz` files
 * written at build time instead of compressing on every request.
 */

/** Encodings the build is precompressed in, in the server's order of preference (brotli is smaller). */
export const PRECOMPRESSED = ['br', 'gzip'] as const;

/** One of {@link PRECOMPRESSED}. */
export type Precompressed = (typeof PRECOMPRESSED)[number];

/** The suffix of the file that holds each encoding, next to the plain file. */
export const ENCODING_SUFFIX: Readonly<Record<Precompressed, string>> = { br: '.br', gzip: '.gz' };

/** The q-value of one `name;q=0.5` parameter list; a malformed one counts as a refusal. */
function weight(params: readonly string[]): number {
	for (const param of params) {
		if (!param.startsWith('q=')) continue;
		const match = /^q=([01](?:\.\d{0,3})?)$/.exec(param);
		return match ? Math.min(1, Number(match[1])) : 0;
	}
	return 1;
}

/**
 * The precompressed encodings an `Accept-Encoding` header allows, best first: by the
 * client's q-value, ties in the server's order. `*` stands for every coding the header
 * does not name, `q=0` refuses one, and `x-gzip` is gzip. Without the header the plain
 * file is sent (the RFC allows any coding then, but a client that says nothing is
 * likely one that cannot decode).
 */
export function acceptedEncodings(header: string | undefined): Precompressed[] {
	if (header === undefined) return [];
	const weights = new Map<string, number>();
	for (const part of header.split(',')) {
		const [name = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
		if (name === '') continue;
		const coding = name === 'x-gzip' ? 'gzip' : name;
		weights.set(coding, Math.max(weights.get(coding) ?? 0, weight(params)));
	}
	const others = weights.get('*') ?? 0;
	return PRECOMPRESSED.map((coding) => ({ coding, q: weights.get(coding) ?? others }))
		.filter(({ q }) => q > 0)
		.sort((a, b) => b.q - a.q) // stable: equal weights keep the server's order
		.map(({ coding }) => coding);
}
