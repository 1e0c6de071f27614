/** DOM helpers shared by the page scripts. */

/** The element with this id; a missing one is a bug in the page's HTML, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** The JSON a page carries in a `<script type="application/json" id="…">` block. */
export function pageData<T>(id: string): T {
  return JSON.parse(byId(id).textContent ?? 'null') as T;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
