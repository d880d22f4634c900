/**
 * Typed accessors over a note document: a Markdown body in a Y.Text (edited together in
 * CodeMirror by the notes issue), a title and tags. Schema only for now.
 */
import * as Y from 'yjs';

/** Accessors over a note document. */
export class NoteDoc {
	readonly body: Y.Text;
	readonly meta: Y.Map<unknown>;
	readonly tags: Y.Array<string>;

	constructor(readonly doc: Y.Doc) {
		this.body = doc.getText('body');
		this.meta = doc.getMap('meta');
		this.tags = doc.getArray('tags');
	}

	get title(): string {
		const v = this.meta.get('title');
		return typeof v === 'string' ? v : '';
	}
	set title(value: string) {
		this.meta.set('title', value);
	}

	/** Tags without duplicates, in first-added order. */
	tagList(): string[] {
		return [...new Set(this.tags.toArray().filter((t) => typeof t === 'string'))];
	}
}
