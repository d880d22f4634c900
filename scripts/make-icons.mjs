#!/usr/bin/env node
/**
 * Draws the app icons (a white ring on a green rounded square) and writes them as PNGs
 * into static/. Pure pixel math and node:zlib, so it runs anywhere Node does:
 *
 *   node scripts/make-icons.mjs
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const GREEN = [0x1f, 0x6f, 0x5c];
const WHITE = [0xff, 0xff, 0xff];
/** Samples per pixel side, for anti-aliased edges. */
const SUPERSAMPLE = 4;

const ICONS = [
	// "any": a rounded square with transparent corners.
	{ file: 'icon-192.png', size: 192, maskable: false },
	{ file: 'icon-512.png', size: 512, maskable: false },
	// "maskable": full-bleed background; the ring stays inside the central safe circle
	// (radius 40% of the size) that every platform mask keeps.
	{ file: 'icon-maskable-512.png', size: 512, maskable: true }
];

/** Whether (x, y), in units of the icon size, lies on the background shape. */
function inBackground(x, y, maskable) {
	if (maskable) return true;
	const radius = 0.22;
	const dx = Math.max(Math.abs(x - 0.5) - (0.5 - radius), 0);
	const dy = Math.max(Math.abs(y - 0.5) - (0.5 - radius), 0);
	return dx * dx + dy * dy <= radius * radius;
}

/** Whether (x, y) lies on the white "O" ring. */
function inRing(x, y, maskable) {
	const outer = maskable ? 0.25 : 0.31;
	const inner = outer * 0.58;
	const d = Math.hypot(x - 0.5, y - 0.5);
	return d >= inner && d <= outer;
}

/** RGBA pixels of one icon, row by row. */
function draw(size, maskable) {
	const pixels = Buffer.alloc(size * size * 4);
	const samples = SUPERSAMPLE * SUPERSAMPLE;
	for (let py = 0; py < size; py++) {
		for (let px = 0; px < size; px++) {
			let background = 0;
			let ring = 0;
			for (let sy = 0; sy < SUPERSAMPLE; sy++) {
				for (let sx = 0; sx < SUPERSAMPLE; sx++) {
					const x = (px + (sx + 0.5) / SUPERSAMPLE) / size;
					const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
					if (!inBackground(x, y, maskable)) continue;
					background++;
					if (inRing(x, y, maskable)) ring++;
				}
			}
			const i = (py * size + px) * 4;
			const white = background === 0 ? 0 : ring / background;
			for (let c = 0; c < 3; c++) {
				pixels[i + c] = Math.round(GREEN[c] * (1 - white) + WHITE[c] * white);
			}
			pixels[i + 3] = Math.round((255 * background) / samples);
		}
	}
	return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(bytes) {
	let crc = 0xffffffff;
	for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
	return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
	const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(typeAndData));
	return Buffer.concat([length, typeAndData, crc]);
}

/** Encodes RGBA pixels as an 8-bit truecolour-with-alpha PNG, no filtering. */
function encodePng(size, pixels) {
	const header = Buffer.alloc(13);
	header.writeUInt32BE(size, 0);
	header.writeUInt32BE(size, 4);
	header[8] = 8; // bit depth
	header[9] = 6; // colour type: RGBA
	// compression, filter and interlace methods stay 0
	const stride = size * 4;
	const raw = Buffer.alloc((stride + 1) * size);
	for (let y = 0; y < size; y++) {
		raw[y * (stride + 1)] = 0; // filter: none
		pixels.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', header),
		chunk('IDAT', deflateSync(raw, { level: 9 })),
		chunk('IEND', Buffer.alloc(0))
	]);
}

const staticDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'static');
for (const { file, size, maskable } of ICONS) {
	const png = encodePng(size, draw(size, maskable));
	writeFileSync(join(staticDir, file), png);
	console.log(`wrote static/${file} (${size}×${size}, ${png.length} bytes)`);
}
