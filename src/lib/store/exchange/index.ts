/** Workspace export and import (see format.ts for the file, the other modules for each step). */
export * from './errors.js';
export { exportWorkspace, WorkspaceNotFoundError, type ExchangeProgress, type ExportInit, type ExportResult } from './exportWorkspace.js';
export { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, IMPORT_LIMITS, type ExportManifest } from './format.js';
export { applyExport, importWorkspace, IMPORT_ORIGIN, readExport, type ImportInit, type ImportResult, type ValidatedExport } from './importWorkspace.js';
export { channelData, channelMarkdown } from './transcripts.js';
export { safeStem } from './fileNames.js';
export { APP_VERSION } from './appVersion.js';
