/**
 * The baseline peer: the seed's key-value store, rebuilt as the seed describes it
 * (Express 4 + lru-cache 11, up to 5,000,000 keys and 1.5 GB, `PUT|POST /put`
 * with a JSON body `{key, value}`, `GET /get?key=`).
 *
 * Every comparison in this package runs our server against this one, so it stays
 * deliberately plain: no tuning the seed did not have, no extra routes. The only
 * liberties are the ones a fair comparison needs: limits can be lowered through
 * options (for small smokes), and the size of an entry is counted in UTF-8 bytes
 * of key + value, the same unit our server's byte budget uses.
 *
 * Plain JavaScript run by `node` itself, like the seed's `node index.js`: no
 * TypeScript loader sits in the measured process.
 */

import express from 'express';
import { LRUCache } from 'lru-cache';

/** The seed's limits: 5 million keys, 1.5 GB (taken as GiB, as our engine does). */
export const SEED_MAX_KEYS = 5_000_000;
export const SEED_MAX_BYTES = 1.5 * 1024 ** 3;

/**
 * Builds the Express app and its cache.
 * @param {{ maxKeys?: number, maxBytes?: number }} [limits]
 * @returns {{ app: import('express').Express, cache: LRUCache<string, string> }}
 */
export function createBaselineApp(limits = {}) {
  const cache = new LRUCache({
    max: limits.maxKeys ?? SEED_MAX_KEYS,
    maxSize: limits.maxBytes ?? SEED_MAX_BYTES,
    sizeCalculation: (value, key) => Buffer.byteLength(key) + Buffer.byteLength(value),
  });

  const app = express();
  app.use(express.json());

  const put = (req, res) => {
    const { key, value } = req.body ?? {};
    if (typeof key !== 'string' || key === '' || typeof value !== 'string') {
      res.status(400).json({ error: 'Body must be JSON {"key": string, "value": string}' });
      return;
    }
    cache.set(key, value);
    res.json({ ok: true });
  };
  app.put('/put', put);
  app.post('/put', put);

  app.get('/get', (req, res) => {
    const key = req.query.key;
    if (typeof key !== 'string' || key === '') {
      res.status(400).json({ error: 'Query parameter "key" is required' });
      return;
    }
    const value = cache.get(key);
    if (value === undefined) {
      res.status(404).json({ error: 'Key not found' });
      return;
    }
    res.json({ key, value });
  });

  return { app, cache };
}
