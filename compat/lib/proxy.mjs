// Recording, validating HTTP proxy: SDK (baseUrl) -> proxy -> Parley.
//
// Every exchange is recorded. Responses to operations that exist in the OpenAPI
// description selected by the request's Intercom-Version header are validated
// against the documented schema; paths the spec does not have (Parley extensions
// such as POST /segments or /contacts/import) are recorded but not validated.

import http from 'node:http';
import { findAllowance, loadSpec, specVersionFor, validateExchange } from './spec.mjs';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
  'proxy-authenticate', 'proxy-authorization', 'content-length',
]);

/**
 * Start a recording proxy.
 * @param {object} opts
 * @param {string} opts.target upstream base URL, e.g. http://127.0.0.1:8123
 * @param {(version: string) => import('./spec.mjs').OpenApiSpec} [opts.specs] spec loader
 * @param {object[]} [opts.allowed] allowed differences
 */
export async function startProxy({ target, specs = (v) => loadSpec(v), allowed = [] }) {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const records = [];
  let seq = 0;

  const server = http.createServer(async (req, res) => {
    const started = Date.now();
    const chunks = [];
    try {
      for await (const c of req) chunks.push(c);
    } catch {
      res.destroy();
      return;
    }
    const reqBody = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://proxy.invalid');
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(k) && k !== 'host') headers[k] = v;
    }
    if (reqBody.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method)) {
      headers['content-length'] = String(reqBody.length);
    }
    const record = {
      seq: ++seq,
      method: req.method,
      path: url.pathname,
      query: url.search,
      intercomVersion: req.headers['intercom-version'] ?? null,
      requestContentType: req.headers['content-type'] ?? null,
      requestBody: reqBody.length <= 4096 ? reqBody.toString('utf8') : `${reqBody.subarray(0, 4096).toString('utf8')}…`,
      status: null,
      responseContentType: null,
      responseHeaders: null,
      responseBody: null,
      operation: null,
      operationId: null,
      extension: false,
      validated: false,
      specVersion: null,
      violations: [],
      allowedViolations: [],
      transportError: null,
      durationMs: 0,
    };
    let upstreamRes;
    let resBody;
    try {
      ({ res: upstreamRes, body: resBody } = await forward({ upstream, agent, method: req.method, path: req.url, headers, body: reqBody }));
    } catch (err) {
      record.transportError = `${err.code ?? ''} ${err.message}`.trim();
      record.durationMs = Date.now() - started;
      records.push(record);
      const body = JSON.stringify({ type: 'error.list', errors: [{ code: 'proxy_upstream_unreachable', message: record.transportError }] });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    record.status = upstreamRes.statusCode;
    record.responseContentType = upstreamRes.headers['content-type'] ?? null;
    record.responseHeaders = upstreamRes.headers;
    const text = resBody.toString('utf8');
    record.responseBody = text.length <= 65536 ? text : `${text.slice(0, 65536)}…`;
    try {
      const spec = specs(specVersionFor(record.intercomVersion));
      const result = validateExchange(spec, {
        method: req.method,
        pathname: url.pathname,
        status: upstreamRes.statusCode,
        contentType: record.responseContentType,
        bodyText: text,
      });
      record.operation = result.operation;
      record.operationId = result.operationId;
      record.extension = result.extension;
      record.validated = result.validated;
      record.specVersion = result.version;
      for (const violation of result.violations) {
        const allowance = findAllowance(allowed, violation);
        if (allowance) record.allowedViolations.push({ ...violation, reason: allowance.reason });
        else record.violations.push(violation);
      }
    } catch (err) {
      record.violations.push({
        operation: `${req.method} ${url.pathname}`,
        method: req.method,
        path: url.pathname,
        status: upstreamRes.statusCode,
        version: specVersionFor(record.intercomVersion),
        instancePath: '',
        message: `validator crashed: ${err.stack ?? err}`,
      });
    }
    record.durationMs = Date.now() - started;
    records.push(record);
    const outHeaders = {};
    for (const [k, v] of Object.entries(upstreamRes.headers)) {
      if (!HOP_BY_HOP.has(k)) outHeaders[k] = v;
    }
    outHeaders['content-length'] = String(resBody.length);
    res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, outHeaders);
    res.end(resBody);
  });
  server.keepAliveTimeout = 5000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}`,
    records,
    /** All unexcused violations recorded from index `from` on. */
    violations(from = 0) {
      return records.slice(from).flatMap((r) => r.violations);
    },
    allowedViolations(from = 0) {
      return records.slice(from).flatMap((r) => r.allowedViolations);
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function forward({ upstream, agent, method, path, headers, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: { ...headers, host: upstream.host },
        agent,
        timeout: 60_000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('upstream timed out after 60s')));
    req.on('error', reject);
    req.end(body.length ? body : undefined);
  });
}
