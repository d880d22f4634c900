/**
 * `@model-name question` in a channel: a message that starts with `@` and the id of a model
 * in the mesh asks that model; the rest of the message is the question.
 */

/** A message addressed to a model. */
export interface ModelMention {
	model: string;
	question: string;
}

/**
 * The model a message asks, or undefined. The longest model id that follows the `@` wins
 * (`@llama-3b` is not `@llama`); ids match without regard to case; the id must end at
 * whitespace or the end of the text, and a question must follow.
 */
export function parseModelMention(text: string, models: readonly string[]): ModelMention | undefined {
	const trimmed = text.trimStart();
	if (!trimmed.startsWith('@')) return undefined;
	const rest = trimmed.slice(1);
	const lower = rest.toLowerCase();
	let best: string | undefined;
	for (const model of models) {
		if (model === '' || !lower.startsWith(model.toLowerCase())) continue;
		const after = rest.charAt(model.length);
		if (after !== '' && !/\s/.test(after)) continue;
		if (best === undefined || model.length > best.length) best = model;
	}
	if (best === undefined) return undefined;
	const question = rest.slice(best.length).trim();
	return question === '' ? undefined : { model: best, question };
}
