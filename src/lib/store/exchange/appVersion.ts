/** The app's version (package.json), written into export manifests. */
import { version } from '../../../../package.json';

/** The Outpost version that writes exports. */
export const APP_VERSION: string = version;
