/** UI text of the notes feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const notesEn = {} as const;

export const notesZh: Record<keyof typeof notesEn, string> = {};
