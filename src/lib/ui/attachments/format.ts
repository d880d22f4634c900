/** How attachments are described to the user: sizes in words, and which files show as images. */

/** The image types shown inline; anything else (SVG included, which could carry script) is a file to download. */
const SHOWN_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const UNITS = ['B', 'KB', 'MB', 'GB'] as const;

/** Whether a file of MIME type `mime` is shown inline as an image. */
export function isShownImage(mime: string): boolean {
	return SHOWN_IMAGE_TYPES.has(mime.trim().toLowerCase());
}

/** A byte count for people, in the user's locale: "512 B", "12.3 MB", "1.5 GB" (steps of 1024). */
export function formatBytes(bytes: number, locale?: string | null): string {
	let value = Math.max(0, bytes);
	let unit = 0;
	while (value >= 1024 && unit < UNITS.length - 1) {
		value /= 1024;
		unit++;
	}
	const digits = unit === 0 || value >= 100 ? 0 : 1;
	const number = new Intl.NumberFormat(locale ?? undefined, { maximumFractionDigits: digits }).format(value);
	return `${number} ${UNITS[unit]}`;
}

/** The size an image is shown at in a message: its own, scaled down to fit `box` CSS pixels square. */
export function fitWithin(width: number, height: number, box: number): { width: number; height: number } {
	const scale = Math.min(1, box / width, box / height);
	return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
