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
	// An operation is orderable when it is the root, or all its parents are orderable: found
	// from the root forwards (each operation once, each link once), never by recursion (found in
	// review: a chain of 6,000 operations, the last given the smallest id, overflowed the stack
	// of a recursive walk, so every replica's fold threw for good).
	const orderable = new Set<string>();
	const unmet = new Map<string, number>();
	const waitingOn = new Map<string, string[]>();
	const found: string[] = [];
	for (const [id, op] of ops) {
		const { prev } = op.payload;
		if (prev.length === 0) {
			if (id === rootId) found.push(id);
			continue;
		}
		if (!prev.every((p) => ops.has(p))) continue; // an ancestor is missing: it waits
		unmet.set(id, prev.length);
		for (const p of prev) {
			const list = waitingOn.get(p);
			if (list) list.push(id);
			else waitingOn.set(p, [id]);
		}
	}
	while (found.length > 0) {
		const id = found.pop()!;
		orderable.add(id);
		for (const child of waitingOn.get(id) ?? []) {
			const left = unmet.get(child)! - 1;
			unmet.set(child, left);
			if (left === 0) found.push(child);
		}
	}
	const ids = [...ops.keys()].sort();
	const waiting: string[] = [];
	for (const id of ids) {
		if (!orderable.has(id)) {
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

