/**
 * "Say it once per address (or peer)": a refusal is logged the first time each key passes its
 * limit, not on every request. The keys remembered are bounded (a peer can make new addresses
 * or ids): past `max`, they are forgotten and may be told once more.
 */
export function onceEach(max = 1024): (key: string) => boolean {
	const told = new Set<string>();
	return (key) => {
		if (told.has(key)) return false;
		if (told.size >= max) told.clear();
		told.add(key);
		return true;
	};
}
