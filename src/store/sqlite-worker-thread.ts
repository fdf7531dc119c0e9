// The plain SQLite worker thread (no procedures): see sqlite-worker-loop.ts.
import { serveSqlite } from './sqlite-worker-loop.ts';

serveSqlite();
