/**
 * The order the team fold applies operations in (fold.ts): a topological order of their
 * `prev` links, operations that the links leave unordered by id, over the operations whose
 * ancestry is complete and leads to the root; and the ancestor and descendant sets that
 * strong removal asks about.
 */
import type { TeamOp } from './ops.js';

/** The ordered operations, those that wait for ancestors, the heads and the links. */
export interface Ordered {
	order: TeamOp[];
	waiting: string[];
	heads: string[];
	parents: Map<string, string[]>;
	children: Map<string, string[]>;
}

/** Topological order (ties by id) of the operations whose ancestry is complete. */
export function orderOps(ops: Map<string, TeamOp>, rootId: string | undefined): Ordered {
	const parents = new Map<string, string[]>();
	const children = new Map<string, string[]>();
	const missing = new Map<string, number>();
	const complete = new Set<string>();
	// An operation is orderable when it is the root, or all its parents are orderable.
	const state = new Map<string, boolean>();
	const orderable = (id: string): boolean => {
		const known = state.get(id);
		if (known !== undefined) return known;
		state.set(id, false); // a cycle (impossible with hash links) stays unorderable
		const op = ops.get(id);
		let ok = false;
		if (op) {
			const { prev } = op.payload;
			ok = prev.length === 0 ? id === rootId : prev.every((p) => ops.has(p) && orderable(p));
		}
		state.set(id, ok);
		return ok;
	};
	// Iterative warm-up in id order keeps recursion shallow for long chains.
	const ids = [...ops.keys()].sort();
	for (let pass = 0; pass < 2; pass++) for (const id of ids) orderable(id);
	const waiting: string[] = [];
	for (const id of ids) {
		if (!orderable(id)) {
			waiting.push(id);
			continue;
		}
		complete.add(id);
		const prev = ops.get(id)!.payload.prev;
		parents.set(id, prev);
		missing.set(id, prev.length);
		for (const p of prev) {
			const list = children.get(p);
			if (list) list.push(id);
			else children.set(p, [id]);
		}
	}
	// Smallest id first among the ready ones: a binary heap (a sort per pop was quadratic in
	// operations that all name the same parent).
	const ready = new MinHeap(ids.filter((id) => complete.has(id) && missing.get(id) === 0));
	const order: TeamOp[] = [];
	while (ready.size > 0) {
		const id = ready.pop();
		order.push(ops.get(id)!);
		for (const c of children.get(id) ?? []) {
			const left = missing.get(c)! - 1;
			missing.set(c, left);
			if (left === 0) ready.push(c);
		}
	}
	const heads = order.filter((op) => (children.get(op.id)?.length ?? 0) === 0).map((op) => op.id);
	return { order, waiting, heads, parents, children };
}

/** A binary min-heap of strings (by code unit order, as `<` compares them). */
class MinHeap {
	private readonly items: string[] = [];

	constructor(initial: Iterable<string>) {
		for (const item of initial) this.push(item);
	}

	get size(): number {
		return this.items.length;
	}

	push(item: string): void {
		const a = this.items;
		a.push(item);
		for (let i = a.length - 1; i > 0; ) {
			const parent = (i - 1) >> 1;
			if (a[parent]! <= a[i]!) break;
			[a[parent], a[i]] = [a[i]!, a[parent]!];
			i = parent;
		}
	}

	pop(): string {
		const a = this.items;
		const top = a[0]!;
		const last = a.pop()!;
		if (a.length > 0) {
			a[0] = last;
			for (let i = 0; ; ) {
				const l = 2 * i + 1;
				const r = l + 1;
				let m = i;
				if (l < a.length && a[l]! < a[m]!) m = l;
				if (r < a.length && a[r]! < a[m]!) m = r;
				if (m === i) break;
				[a[m], a[i]] = [a[i]!, a[m]!];
				i = m;
			}
		}
		return top;
	}
}

/** Ancestor and descendant sets of removals, computed on demand. */
export class Ancestry {
	private readonly memo = new Map<string, Set<string>>();
	constructor(
		private readonly parents: Map<string, string[]>,
		private readonly children: Map<string, string[]>
	) {}

	/** Ids `id` had seen. */
	before(id: string): Set<string> {
		return this.walk(`b:${id}`, id, this.parents);
	}

	/** Ids that had seen `id`. */
	after(id: string): Set<string> {
		return this.walk(`a:${id}`, id, this.children);
	}

	private walk(key: string, id: string, links: Map<string, string[]>): Set<string> {
		let set = this.memo.get(key);
		if (set) return set;
		set = new Set<string>();
		const stack = [...(links.get(id) ?? [])];
		while (stack.length > 0) {
			const p = stack.pop()!;
			if (set.has(p)) continue;
			set.add(p);
			for (const q of links.get(p) ?? []) if (!set.has(q)) stack.push(q);
		}
		this.memo.set(key, set);
		return set;
	}
}

