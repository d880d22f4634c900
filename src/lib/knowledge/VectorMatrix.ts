/**
 * The vectors of one embedder's space in memory, packed in one Float32Array (a row per
 * chunk, rows of removed chunks reused), and the brute-force nearest-neighbour scan that
 * ranks them. With unit vectors the dot product is the cosine similarity. Brute force is
 * exact and, for a workspace's tens of thousands of chunks, a few milliseconds: an
 * approximate index (HNSW) would cost memory and code for no gain at this size.
 *
 * Each row also belongs to a group (its chunk's document), and the scan asks whether a group
 * is accepted once per group, not per row: read rights are per document.
 */

/** A chunk id and its similarity to a query. */
export interface Neighbour {
	id: string;
	score: number;
}

/** Thrown when a vector's length is not the space's. */
export class VectorLengthError extends Error {
	override name = 'VectorLengthError';
}

/** See the module comment. */
export class VectorMatrix {
	private data = new Float32Array(0);
	private dims = 0;
	private readonly ids: (string | undefined)[] = [];
	private readonly hashes: string[] = [];
	/** The group number of each row. */
	private groupOf = new Int32Array(0);
	private readonly groupNumbers = new Map<string, number>();
	private readonly groupNames: string[] = [];
	private readonly rows = new Map<string, number>();
	private readonly free: number[] = [];

	/** Vectors held. */
	get size(): number {
		return this.rows.size;
	}

	/** Length of the vectors (0 before the first). */
	get dimensions(): number {
		return this.dims;
	}

	/** The hash a chunk's vector was computed from, if it has one. */
	hashOf(id: string): string | undefined {
		const row = this.rows.get(id);
		return row === undefined ? undefined : this.hashes[row];
	}

	/** A copy of a chunk's vector. */
	get(id: string): Float32Array | undefined {
		const row = this.rows.get(id);
		return row === undefined ? undefined : this.data.slice(row * this.dims, (row + 1) * this.dims);
	}

	/**
	 * Sets a chunk's vector (copied), in `group` (its document). Throws
	 * {@link VectorLengthError} for another length.
	 */
	set(id: string, hash: string, vector: Float32Array, group = ''): void {
		if (this.dims === 0) this.dims = vector.length;
		if (vector.length !== this.dims || vector.length === 0)
			throw new VectorLengthError(`A vector of ${vector.length} dimensions in a space of ${this.dims}.`);
		let row = this.rows.get(id);
		if (row === undefined) {
			row = this.free.pop() ?? this.ids.length;
			if (row === this.ids.length) {
				this.ids.push(undefined);
				this.hashes.push('');
			}
			this.grow(row + 1);
			this.rows.set(id, row);
		}
		this.ids[row] = id;
		this.hashes[row] = hash;
		this.groupOf[row] = this.groupNumber(group);
		this.data.set(vector, row * this.dims);
	}

	/** Drops a chunk's vector. */
	delete(id: string): void {
		const row = this.rows.get(id);
		if (row === undefined) return;
		this.rows.delete(id);
		this.ids[row] = undefined;
		this.hashes[row] = '';
		this.free.push(row);
	}

	/** Drops every vector (the space's length is forgotten too). */
	clear(): void {
		this.data = new Float32Array(0);
		this.dims = 0;
		this.ids.length = 0;
		this.hashes.length = 0;
		this.rows.clear();
		this.free.length = 0;
		this.groupOf = new Int32Array(0);
		this.groupNumbers.clear();
		this.groupNames.length = 0;
	}

	/** The `n` vectors most similar to `query` in the groups `accept` lets through, best first. */
	nearest(query: Float32Array, n: number, accept: (group: string) => boolean): Neighbour[] {
		if (query.length !== this.dims || n <= 0) return [];
		const { data, dims, ids, groupOf, groupNames } = this;
		/** Per group: 0 not asked yet, 1 accepted, 2 refused. */
		const verdicts = new Uint8Array(groupNames.length);
		// A min-heap of the best n so far: its root is the one to beat.
		const heapScore = new Float64Array(n);
		const heapId: string[] = [];
		let size = 0;
		for (let row = 0; row < ids.length; row++) {
			const id = ids[row];
			if (id === undefined) continue;
			const group = groupOf[row]!;
			let verdict = verdicts[group]!;
			if (verdict === 0) verdicts[group] = verdict = accept(groupNames[group]!) ? 1 : 2;
			if (verdict !== 1) continue;
			const dot = dotAt(data, row * dims, query, dims);
			if (size < n) {
				heapScore[size] = dot;
				heapId[size] = id;
				siftUp(heapScore, heapId, size++);
			} else if (dot > heapScore[0]!) {
				heapScore[0] = dot;
				heapId[0] = id;
				siftDown(heapScore, heapId, size);
			}
		}
		const out: Neighbour[] = [];
		for (let i = 0; i < size; i++) out.push({ id: heapId[i]!, score: heapScore[i]! });
		return out.sort((a, b) => b.score - a.score);
	}

	private groupNumber(group: string): number {
		let n = this.groupNumbers.get(group);
		if (n === undefined) {
			n = this.groupNames.length;
			this.groupNames.push(group);
			this.groupNumbers.set(group, n);
		}
		return n;
	}

	private grow(rows: number): void {
		if (this.groupOf.length < rows) {
			const next = new Int32Array(Math.max(rows, this.groupOf.length * 2, 64));
			next.set(this.groupOf);
			this.groupOf = next;
		}
		if (this.data.length >= rows * this.dims) return;
		const next = new Float32Array(Math.max(rows, Math.ceil(this.data.length / Math.max(1, this.dims)) * 2, 64) * this.dims);
		next.set(this.data);
		this.data = next;
	}
}

/** The dot product of `query` with the row starting at `base` (unrolled: the scan's hot loop). */
function dotAt(data: Float32Array, base: number, query: Float32Array, dims: number): number {
	let a = 0;
	let b = 0;
	let c = 0;
	let d = 0;
	let i = 0;
	for (; i + 3 < dims; i += 4) {
		a += data[base + i]! * query[i]!;
		b += data[base + i + 1]! * query[i + 1]!;
		c += data[base + i + 2]! * query[i + 2]!;
		d += data[base + i + 3]! * query[i + 3]!;
	}
	for (; i < dims; i++) a += data[base + i]! * query[i]!;
	return a + b + c + d;
}

function swap(scores: Float64Array, ids: string[], a: number, b: number): void {
	const s = scores[a]!;
	scores[a] = scores[b]!;
	scores[b] = s;
	const id = ids[a]!;
	ids[a] = ids[b]!;
	ids[b] = id;
}

function siftUp(scores: Float64Array, ids: string[], i: number): void {
	while (i > 0) {
		const parent = (i - 1) >> 1;
		if (scores[parent]! <= scores[i]!) return;
		swap(scores, ids, parent, i);
		i = parent;
	}
}

function siftDown(scores: Float64Array, ids: string[], size: number): void {
	let i = 0;
	for (;;) {
		const left = 2 * i + 1;
		const right = left + 1;
		let least = i;
		if (left < size && scores[left]! < scores[least]!) least = left;
		if (right < size && scores[right]! < scores[least]!) least = right;
		if (least === i) return;
		swap(scores, ids, least, i);
		i = least;
	}
}
