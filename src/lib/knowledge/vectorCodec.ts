/**
 * Stored form of an embedding vector: compact bytes, one format tag first.
 *
 * - `int8` (the default): a float32 scale, then one signed byte per dimension (the value over
 *   the scale, rounded). 4 + d bytes instead of 4d; for unit vectors the cosine it gives
 *   differs from the float one by about 1e-3, far below what separates ranks that matter.
 * - `float32`: the values as they are, 4d bytes.
 *
 * Decoding always gives a unit-length Float32Array (what ranking multiplies), or undefined
 * for bytes that are not a vector (a damaged row is embedded again, never trusted).
 */

/** How vectors are stored. */
export const VectorFormat = { float32: 1, int8: 2 } as const;
export type VectorFormat = (typeof VectorFormat)[keyof typeof VectorFormat];

/** `v` scaled to unit length, in place (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
	let sum = 0;
	for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
	const norm = Math.sqrt(sum);
	if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
	return v;
}

/** The bytes of a vector in `format`. */
export function encodeVector(v: Float32Array, format: VectorFormat = VectorFormat.int8): Uint8Array {
	if (format === VectorFormat.float32) {
		const out = new Uint8Array(1 + 4 * v.length);
		const view = new DataView(out.buffer);
		out[0] = format;
		for (let i = 0; i < v.length; i++) view.setFloat32(1 + 4 * i, v[i]!, true);
		return out;
	}
	let max = 0;
	for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
	const scale = max / 127;
	const out = new Uint8Array(5 + v.length);
	const view = new DataView(out.buffer);
	out[0] = format;
	view.setFloat32(1, scale, true);
	for (let i = 0; i < v.length; i++) view.setInt8(5 + i, scale > 0 ? Math.round(v[i]! / scale) : 0);
	return out;
}

/** The unit vector stored in `bytes`, or undefined when they are not one. */
export function decodeVector(bytes: Uint8Array): Float32Array | undefined {
	if (!(bytes instanceof Uint8Array) || bytes.length < 2) return undefined;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (bytes[0] === VectorFormat.float32 && (bytes.length - 1) % 4 === 0) {
		const v = new Float32Array((bytes.length - 1) / 4);
		for (let i = 0; i < v.length; i++) v[i] = view.getFloat32(1 + 4 * i, true);
		return v.every(Number.isFinite) ? normalize(v) : undefined;
	}
	if (bytes[0] === VectorFormat.int8 && bytes.length > 5) {
		const scale = view.getFloat32(1, true);
		if (!Number.isFinite(scale)) return undefined;
		const v = new Float32Array(bytes.length - 5);
		for (let i = 0; i < v.length; i++) v[i] = view.getInt8(5 + i) * scale;
		return normalize(v);
	}
	return undefined;
}
