/// <reference path="./connect.d.ts" />
/**
 * A React hook over `/connect.js` (load the script once, e.g. in index.html:
 * `<script src="https://connect.example.com/connect.js"></script>`). Copy it into your app.
 * `connect.d.ts` next to it is what `GET /connect.d.ts` serves.
 */
import { useCallback, useEffect, useRef } from 'react';

export function useUcwConnect(options: UcwConnect.CreateOptions): () => void {
  // The latest callbacks, without re-creating the handler (and losing an open modal) on each render.
  const latest = useRef(options);
  latest.current = options;
  const handler = useRef<UcwConnect.Handler | null>(null);

  useEffect(() => {
    handler.current = window.UcwConnect.create({
      ...latest.current,
      getAuthHeaders: () => latest.current.getAuthHeaders?.() ?? {},
      onSuccess: (metadata) => latest.current.onSuccess?.(metadata),
      onExit: (error, metadata) => latest.current.onExit?.(error, metadata),
      onEvent: (type, metadata) => latest.current.onEvent?.(type, metadata),
      onLoad: (session) => latest.current.onLoad?.(session),
    });
    return () => {
      handler.current?.destroy();
      handler.current = null;
    };
  }, []);

  // Call it from a click handler: a popup must open inside the user's gesture.
  return useCallback(() => handler.current?.open(), []);
}
