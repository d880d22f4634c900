// The app is a static PWA: everything runs in the browser, the shell is prerendered.
export const prerender = true;
export const ssr = false;
