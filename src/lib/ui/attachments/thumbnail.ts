/**
 * Previews of picked images, made on the sender's device before the file is added: the image
 * is decoded, drawn at most {@link THUMB_SIDE} pixels on its longest side and encoded as a JPEG
 * data URL small enough for a message ({@link MAX_THUMB_LENGTH}). Peers show the preview at
 * once, with the image's own width and height reserving its place, until the blob arrives.
 */
import { MAX_THUMB_LENGTH } from '$lib/doc/validate';
import type { ImagePreview } from '$lib/state/ChannelBlobs.svelte';

/** Longest side of a preview, in pixels. */
export const THUMB_SIDE = 320;
/** Qualities tried in turn at each size, best first. */
const QUALITIES = [0.8, 0.65, 0.5, 0.35];
/** Each smaller try is this much of the last size; below {@link MIN_SIDE} there is no preview. */
const SHRINK = 0.7;
const MIN_SIDE = 24;
/** Larger files are not decoded for a preview (decoding holds every pixel in memory). */
const MAX_DECODE_BYTES = 64 * 1024 * 1024;

type Canvas = OffscreenCanvas | HTMLCanvasElement;

/**
 * A preview of image `file` with the image's own size, or undefined when it is not an image,
 * cannot be decoded here or will not fit. Never throws.
 */
export async function imagePreview(file: Blob): Promise<ImagePreview | undefined> {
	if (!file.type.startsWith('image/') || file.size > MAX_DECODE_BYTES || typeof createImageBitmap !== 'function') return undefined;
	let bitmap: ImageBitmap;
	try {
		bitmap = await createImageBitmap(file);
	} catch {
		return undefined; // not decodable in this browser (SVG, HEIC, a damaged file)
	}
	try {
		const { width, height } = bitmap;
		if (width < 1 || height < 1) return undefined;
		for (let side = THUMB_SIDE; side >= MIN_SIDE; side = Math.floor(side * SHRINK)) {
			const canvas = draw(bitmap, side);
			if (!canvas) return undefined;
			for (const quality of QUALITIES) {
				const thumb = await encode(canvas, quality);
				if (thumb === undefined) return undefined;
				if (thumb.length <= MAX_THUMB_LENGTH) return { width, height, thumb };
			}
		}
		return undefined;
	} catch {
		return undefined;
	} finally {
		bitmap.close();
	}
}

/** `bitmap` scaled to fit `side` pixels, on white (JPEG has no transparency). */
function draw(bitmap: ImageBitmap, side: number): Canvas | undefined {
	const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
	const w = Math.max(1, Math.round(bitmap.width * scale));
	const h = Math.max(1, Math.round(bitmap.height * scale));
	const canvas = makeCanvas(w, h);
	const context = canvas?.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null | undefined;
	if (!canvas || !context) return undefined;
	context.fillStyle = '#ffffff';
	context.fillRect(0, 0, w, h);
	context.imageSmoothingQuality = 'high';
	context.drawImage(bitmap, 0, 0, w, h);
	return canvas;
}

function makeCanvas(width: number, height: number): Canvas | undefined {
	if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
	if (typeof document === 'undefined') return undefined;
	const canvas = document.createElement('canvas');
	canvas.width = width;
	canvas.height = height;
	return canvas;
}

/** The canvas as a JPEG data URL (PNG where the browser cannot write JPEG), or undefined when it cannot be encoded. */
async function encode(canvas: Canvas, quality: number): Promise<string | undefined> {
	const url = 'convertToBlob' in canvas ? await blobToDataUrl(await canvas.convertToBlob({ type: 'image/jpeg', quality })) : canvas.toDataURL('image/jpeg', quality);
	return url.startsWith('data:image/jpeg;base64,') || url.startsWith('data:image/png;base64,') ? url : undefined;
}

async function blobToDataUrl(blob: Blob): Promise<string> {
	const bytes = new Uint8Array(await blob.arrayBuffer());
	let binary = '';
	const step = 0x8000; // String.fromCharCode takes its arguments on the stack
	for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
	return `data:${blob.type};base64,${btoa(binary)}`;
}
