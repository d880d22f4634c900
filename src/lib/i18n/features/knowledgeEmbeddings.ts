/** UI text of "Knowledge embeddings" in AI chats (English; the Chinese is in knowledgeEmbeddings.zh.ts, loaded only when chosen). */
export const knowledgeEmbeddingsEn = {
	'knowledgeEmbeddings.label': 'Knowledge embeddings',
	'knowledgeEmbeddings.none': 'None (full text only)',
	'knowledgeEmbeddings.file': '{name} ({mb} MB)',
	'knowledgeEmbeddings.help': 'An embedding model finds passages by meaning as well as by words. It runs in this browser; the choice is kept on this device.',
	'knowledgeEmbeddings.loading': 'Loading {name}…',
	'knowledgeEmbeddings.loadProgress': 'Loading the embedding model',
	'knowledgeEmbeddings.ready': '{name} is ready; passages are embedded when you ask.',
	'knowledgeEmbeddings.idle': '{name} loads with your next question.',
	'knowledgeEmbeddings.embedding': 'Embedding {done} of {total} passages…',
	'knowledgeEmbeddings.embedProgress': 'Embedding passages',
	'knowledgeEmbeddings.rankedByMeaning':
		'Sources ranked by meaning and words ({embedded} of {passages, plural, one {# passage} other {# passages}} embedded).',
	'knowledgeEmbeddings.rankedByWords': 'Sources ranked by words only.',
	'knowledgeEmbeddings.loadFailed': 'Could not load the embedding model {name}: {error}. Answers use full text only; try again or choose another model.',
	'knowledgeEmbeddings.missing': 'The relay no longer serves {name}. Answers use full text only; choose another model.',
	'knowledgeEmbeddings.embedFailed': 'The embedding model failed: {error}. Answers use full text only; try again or choose another model.',
	'knowledgeEmbeddings.listFailed': 'Could not list the relay’s models: {error}',
	'knowledgeEmbeddings.retry': 'Try again'
} as const;
