/**
 * Rules for identifiers that come from outside (token claims, webhook headers and bodies) and
 * travel on into storage, logs, UCW URLs and headers. Pure predicates; callers choose the answer.
 */

// C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators: each can split
// a log line or a header, and none belongs in an identifier.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** True when `value` holds a control character (newline, NUL, NEL, U+2028…). */
export const hasControlCharacters = (value: string): boolean => CONTROL.test(value);

/** 1 to `maxLength` printable ASCII characters, no space: what a header-borne id may be. */
export const isPrintableAsciiToken = (value: string, maxLength: number): boolean =>
  value.length > 0 && value.length <= maxLength && /^[\x21-\x7e]+$/.test(value);
