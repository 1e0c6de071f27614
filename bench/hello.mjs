// Bare Express 5 hello world in plain JavaScript: the cold-start anchor (no TypeScript loader to pay for).
import express from 'express';

const app = express();
app.post('/hello', (_req, res) => {
  res.send('hello');
});
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
