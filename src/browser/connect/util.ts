/** Small helpers of the drop-in script. */
import { isRecord } from '../lib/dom.js';

export type JsonObject = Record<string, unknown>;

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function errorText(error: unknown): string {
  return isRecord(error) && typeof error['message'] === 'string' && error['message'] ? error['message'] : String(error);
}

export function setStyles(element: HTMLElement, styles: Record<string, string>): void {
  for (const name of Object.keys(styles)) {
    // CSSOM writes, not style attributes: allowed under a strict style-src CSP.
    element.style.setProperty(name, styles[name] ?? '');
  }
}

/** A throwing callback must not leave the handler half torn down; report it and carry on. */
export function call<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
  if (typeof callback !== 'function') return;
  try {
    callback(...args);
  } catch (error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}
