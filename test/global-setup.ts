/** Runs once per `vitest run`, before any test file: what every file would otherwise repeat. */
export default function setup(): void {
  if (!process.env.TEST_DATABASE_URL) console.warn('TEST_DATABASE_URL is not set: storage tests run on SQLite only.');
}
