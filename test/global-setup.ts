/** Runs once per `vitest run`, before any test file: what every file would otherwise repeat. */
export default function setup(): void {
  if (process.env.TEST_DATABASE_URL) return;
  if (process.env.REQUIRE_POSTGRES_TESTS) throw new Error('TEST_DATABASE_URL is not set, and REQUIRE_POSTGRES_TESTS is set: the storage suites must run on PostgreSQL');
  console.warn('TEST_DATABASE_URL is not set: storage tests run on SQLite only.');
}
