/**
 * A document's map under a top-level name, read as the write policies read it on every remote
 * update: the type the document holds once it was asked for as a map (what `doc.getMap` returns
 * then, without the closure Yjs makes per call), else `doc.getMap(name)`, which also turns a
 * placeholder that only arrived in updates into the map.
 */
import * as Y from 'yjs';

export function heldMap(doc: Y.Doc, name: string): Y.Map<unknown> {
	const held = doc.share.get(name);
	return held instanceof Y.Map ? (held as Y.Map<unknown>) : doc.getMap(name);
}
