import { setStyles } from './util.js';

const OVERLAY_Z_INDEX = '2147483000';
const FONT = '14px system-ui, -apple-system, sans-serif';

export interface Modal {
  overlay: HTMLElement;
  frame: HTMLIFrameElement;
  /** Removes the overlay and gives the page back its scrolling and focus. */
  remove(): void;
}

/**
 * The modal presentation: a full-page overlay with a close bar and the host page in an iframe.
 * Styled through the CSSOM only, so it works under the embedding page's strict style-src.
 */
export function openModal(onClose: () => void): Modal {
  const doc = window.document;
  const overlay = doc.createElement('div');
  overlay.setAttribute('data-ucw-connect', 'overlay');
  setStyles(overlay, {
    position: 'fixed', top: '0', right: '0', bottom: '0', left: '0', 'z-index': OVERLAY_Z_INDEX,
    display: 'flex', 'align-items': 'center', 'justify-content': 'center',
    background: 'rgba(17, 24, 39, 0.55)', margin: '0', padding: '0',
  });

  const dialog = doc.createElement('div');
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  dialog.setAttribute('aria-label', 'Connect an account');
  setStyles(dialog, {
    display: 'flex', 'flex-direction': 'column', width: '100%', 'max-width': '480px', height: '100%',
    'max-height': '760px', background: '#fff', 'border-radius': '12px', overflow: 'hidden',
    'box-shadow': '0 20px 60px rgba(0, 0, 0, 0.3)', 'box-sizing': 'border-box',
  });

  const bar = doc.createElement('div');
  setStyles(bar, {
    display: 'flex', 'align-items': 'center', 'justify-content': 'space-between', padding: '6px 8px 6px 16px',
    'border-bottom': '1px solid #e5e7eb', font: FONT, color: '#374151',
  });
  const title = doc.createElement('span');
  title.textContent = 'Connect an account';
  const close = doc.createElement('button');
  close.type = 'button';
  close.textContent = '\u00d7';
  close.setAttribute('aria-label', 'Close');
  close.setAttribute('data-ucw-connect', 'close');
  setStyles(close, {
    border: '0', background: 'transparent', 'font-size': '24px', 'line-height': '1', cursor: 'pointer',
    padding: '4px 8px', color: '#374151',
  });
  close.addEventListener('click', onClose);
  bar.appendChild(title);
  bar.appendChild(close);

  const loading = doc.createElement('div');
  loading.textContent = 'Loading\u2026';
  setStyles(loading, { padding: '24px', font: FONT, color: '#6b7280' });

  const frame = doc.createElement('iframe');
  frame.setAttribute('title', 'Connect an account');
  frame.setAttribute('data-ucw-connect', 'frame');
  setStyles(frame, { flex: '1', width: '100%', border: '0', display: 'none' });
  frame.addEventListener('load', () => {
    if (!frame.src) return;
    loading.style.setProperty('display', 'none');
    frame.style.setProperty('display', 'block');
  });

  dialog.appendChild(bar);
  dialog.appendChild(loading);
  dialog.appendChild(frame);
  overlay.appendChild(dialog);

  const keydown = (event: KeyboardEvent) => {
    if (event.key === 'Escape' || event.key === 'Esc') onClose();
  };
  doc.addEventListener('keydown', keydown, true);
  const restoreFocus: (Element & Partial<HTMLOrSVGElement>) | null = doc.activeElement;
  const savedOverflow = doc.documentElement.style.getPropertyValue('overflow');
  doc.documentElement.style.setProperty('overflow', 'hidden');
  doc.body.appendChild(overlay);
  close.focus();

  return {
    overlay,
    frame,
    remove() {
      doc.removeEventListener('keydown', keydown, true);
      overlay.parentNode?.removeChild(overlay);
      doc.documentElement.style.setProperty('overflow', savedOverflow);
      if (restoreFocus && typeof restoreFocus.focus === 'function') {
        try {
          restoreFocus.focus();
        } catch {
          // The element left the page.
        }
      }
    },
  };
}
