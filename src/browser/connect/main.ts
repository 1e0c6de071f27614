/** The `/connect.js` bundle's entry: publishes the API as `window.UcwConnect`. */
import * as UcwConnect from './ucw-connect.js';

declare global {
  interface Window {
    UcwConnect: Pick<typeof UcwConnect, 'create' | 'version'>;
  }
}

window.UcwConnect = { version: UcwConnect.version, create: UcwConnect.create };
