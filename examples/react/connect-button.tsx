/**
 * Using the hook: a button that connects a bank account and reports the outcome.
 * `getToken` is however your app gets the signed-in user's token (your identity provider's SDK).
 */
import { useState } from 'react';
import { useUcwConnect } from './use-ucw-connect.js';

export function ConnectBankButton({ getToken, onConnected }: { getToken: () => Promise<string>; onConnected: (connectionId: string) => void }) {
  const [message, setMessage] = useState<string | null>(null);
  const open = useUcwConnect({
    jobTypes: ['transactions'],
    getAuthHeaders: async () => ({ Authorization: `Bearer ${await getToken()}` }),
    onSuccess: (metadata) => {
      setMessage('Connected.');
      if (metadata.connectionId) onConnected(metadata.connectionId);
    },
    // A widget error (connect/memberError) is not an exit: the widget stays open for a correction.
    onEvent: (type) => {
      if (type === 'connect/memberError') setMessage('Check the details in the connection window.');
    },
    onExit: (error) =>
      setMessage(
        error === null ? null : error.type === 'session_ended' ? 'The connection attempt timed out. Try again.' : error.message,
      ),
  });
  return (
    <div>
      <button type="button" onClick={open}>
        Connect a bank account
      </button>
      {message && <p role="status">{message}</p>}
    </div>
  );
}
