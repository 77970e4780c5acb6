import type { RequestHandler } from 'express';
import type { ProviderRegistry } from '../providers/provider-registry.js';

/** `GET /v1/providers`: names, types and hosts; never keys or whole base URLs. */
export function providersRoute(providers: ProviderRegistry): RequestHandler {
  const body = { providers: providers.list() };
  return (_req, res) => {
    res.json(body);
  };
}
