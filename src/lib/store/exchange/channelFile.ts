/** One channel as a Markdown file (the channel menu's "Export as Markdown"). */
import type { PostingRules } from '../../doc/channelRights.js';
import type { ChannelView } from '../../doc/ChannelView.js';
import type { ChannelInfo } from '../../doc/schema.js';
import { safeStem } from './fileNames.js';
import { channelData, channelMarkdown, type NameOf } from './transcripts.js';

/** The transcript of a channel and the file name to save it under: `<channel>.md`. */
export function channelMarkdownFile(view: ChannelView, info: ChannelInfo, nameOf: NameOf, unseen?: ReadonlySet<string>, rules?: PostingRules): { fileName: string; text: string } {
	return { fileName: `${safeStem(info.name, 'channel')}.md`, text: channelMarkdown(channelData(view, info, nameOf, unseen, rules)) };
}
