/** UI text of the webllm feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const webllmEn = {} as const;

export const webllmZh: Record<keyof typeof webllmEn, string> = {};
