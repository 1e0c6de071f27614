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
    onExit: (error) => setMessage(error === null ? null : error.type === 'connect/memberError' ? 'The bank did not accept the connection. Try again.' : error.message),
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
