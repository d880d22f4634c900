/**
 * "Ask a model about this note": starts an AI chat whose system prompt carries the note
 * (as Markdown), and opens it. The chat is an ordinary AI chat of the workspace: it syncs,
 * and its model is picked in the chat as usual.
 */
import type { NoteState } from './NoteState.svelte.js';
import type { WorkspaceState } from './WorkspaceState.svelte.js';

/** The chat's texts, translated by the caller: its title, and the prompt around the note. */
export interface NoteChatText {
	title: (noteTitle: string) => string;
	prompt: (noteMarkdown: string) => string;
}

/** Starts and opens a chat about `note`; returns the chat's id. */
export async function askAboutNote(ws: WorkspaceState, note: NoteState, text: NoteChatText): Promise<string> {
	const prompt = text.prompt(note.toMarkdown());
	const id = await ws.createAiThread(text.title(note.title));
	if (ws.chat?.id === id) ws.chat.setSystemPrompt(prompt);
	return id;
}
