// OpenAPI 3.0 response validator for the compatibility suite.
//
// Loads Intercom's published OpenAPI descriptions (2.14 and 2.16), converts the
// OpenAPI 3.0 dialect to plain JSON Schema (draft-07) for ajv, routes a request
// (method + path) to its operation and validates a response body against the
// schema documented for the returned status code.
//
// Conversion rules (documented in compat/README.md):
//   - `nullable: true`           -> null is allowed (type array / enum + null / anyOf null)
//   - `$ref: #/components/...`   -> ref into the converted definitions; OpenAPI 3.0 ignores
//                                   siblings of `$ref`, so do we (except `nullable`)
//   - `oneOf`                    -> `anyOf` (the spec's alternatives overlap; "exactly one"
//                                   would reject valid bodies)
//   - `format`                   -> ignored (Intercom uses `date-time` on integer timestamps)
//   - `example(s)`, `x-*`, `discriminator`, `readOnly`, `writeOnly`, `deprecated`, `xml`,
//     `externalDocs`             -> dropped
//   - boolean `exclusiveMinimum/Maximum` (OpenAPI 3.0 / draft-04) -> draft-07 numbers
//
// Status handling: the schema for the exact status is used, then `NXX`, then `default`.
// An error status (>= 400) the operation does not document is validated against
// `#/components/schemas/error` (Intercom's universal `error.list`). A success status the
// operation does not document is itself reported as a violation.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import YAML from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const COMPAT_DIR = path.resolve(HERE, '..');
export const REPO_ROOT = path.resolve(COMPAT_DIR, '..');

/** Directory holding openapi-2.14.yaml / openapi-2.16.yaml. */
export function specDir() {
  if (process.env.PARLEY_OPENAPI_DIR) return path.resolve(process.env.PARLEY_OPENAPI_DIR);
  // The shared/ folder sits beside the repository (CI: ../shared from the repo root).
  return path.resolve(REPO_ROOT, '..', 'shared', 'intercom');
}

export const SUPPORTED_SPEC_VERSIONS = ['2.14', '2.16'];

/** Which spec validates a request sent with this Intercom-Version header value. */
export function specVersionFor(headerValue) {
  return String(headerValue ?? '').trim() === '2.16' ? '2.16' : '2.14';
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const DROP_KEYS = new Set([
  'example', 'examples', 'xml', 'externalDocs', 'discriminator', 'readOnly', 'writeOnly',
  'deprecated', 'format', 'nullable', 'title', 'description',
]);
// Keywords whose value is copied verbatim (data, not sub-schemas).
const COPY_KEYS = new Set([
  'type', 'enum', 'const', 'required', 'default', 'minimum', 'maximum', 'minLength',
  'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'minProperties',
  'maxProperties', 'multipleOf',
]);

/**
 * Convert one OpenAPI 3.0 schema object to JSON Schema draft-07.
 * @param {object} node
 * @param {(ref: string) => string} mapRef maps '#/components/schemas/X' to an ajv ref
 */
export function convertSchema(node, mapRef) {
  if (node === true || node === false) return node;
  if (!node || typeof node !== 'object' || Array.isArray(node)) return {};
  const nullable = node.nullable === true;
  let out;
  if (typeof node.$ref === 'string') {
    out = { $ref: mapRef(node.$ref) };
  } else {
    out = {};
    for (const [key, value] of Object.entries(node)) {
      if (DROP_KEYS.has(key) || key.startsWith('x-')) continue;
      if (COPY_KEYS.has(key)) {
        out[key] = structuredClone(value);
      } else if (key === 'properties') {
        out.properties = {};
        for (const [prop, sub] of Object.entries(value ?? {})) out.properties[prop] = convertSchema(sub, mapRef);
      } else if (key === 'additionalProperties') {
        out.additionalProperties = typeof value === 'boolean' ? value : convertSchema(value, mapRef);
      } else if (key === 'items') {
        out.items = convertSchema(value, mapRef);
      } else if (key === 'not') {
        out.not = convertSchema(value, mapRef);
      } else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf') {
        const converted = (value ?? []).map((s) => convertSchema(s, mapRef));
        const target = key === 'oneOf' ? 'anyOf' : key;
        if (out[target]) out.allOf = [...(out.allOf ?? []), { [target]: converted }];
        else out[target] = converted;
      } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
        if (typeof value === 'number') out[key] = value;
      }
      // anything else (unknown vendor keys, stray property-like keys) is dropped
    }
    if (node.exclusiveMinimum === true && typeof node.minimum === 'number') {
      out.exclusiveMinimum = node.minimum;
      delete out.minimum;
    }
    if (node.exclusiveMaximum === true && typeof node.maximum === 'number') {
      out.exclusiveMaximum = node.maximum;
      delete out.maximum;
    }
  }
  if (!nullable) return out;
  const composite = out.$ref || out.allOf || out.anyOf || out.not;
  if (!composite && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  if (!composite && out.type === undefined) {
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [{ type: 'null' }, out] };
}

function compilePathTemplate(template) {
  const segments = template.split('/').slice(1);
  const params = [];
  const regexSrc = segments
    .map((seg) => {
      const m = /^\{([^}]+)\}$/.exec(seg);
      if (m) {
        params.push(m[1]);
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return {
    regex: new RegExp(`^/${regexSrc}/?$`),
    params,
    literalCount: segments.filter((s) => !/^\{.*\}$/.test(s)).length,
    segmentCount: segments.length,
  };
}

/** One loaded OpenAPI description with its router and compiled validators. */
export class OpenApiSpec {
  constructor(version, doc) {
    this.version = version;
    this.doc = doc;
    this.id = `openapi-${version}.json`;
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, verbose: false });
    const mapRef = (ref) => {
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      if (!m) throw new Error(`unsupported $ref ${ref} in ${this.id}`);
      return `${this.id}#/definitions/${m[1].replace(/~/g, '~0').replace(/\//g, '~1')}`;
    };
    this.mapRef = mapRef;
    const definitions = {};
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
      definitions[name] = convertSchema(schema, mapRef);
    }
    this.ajv.addSchema({ $id: this.id, definitions });
    this.routes = [];
    for (const [template, item] of Object.entries(doc.paths ?? {})) {
      const compiled = compilePathTemplate(template);
      for (const method of HTTP_METHODS) {
        const op = item?.[method];
        if (!op) continue;
        this.routes.push({ method: method.toUpperCase(), template, operationId: op.operationId ?? null, op, ...compiled });
      }
    }
    // Literal segments win over parameters: /contacts/search before /contacts/{contact_id}.
    this.routes.sort((a, b) => b.literalCount - a.literalCount || a.params.length - b.params.length);
    this.validators = new Map();
  }

  /** Find the operation for a request. Returns null for paths/methods the spec lacks. */
  route(method, pathname) {
    const m = String(method).toUpperCase();
    const p = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
    for (const r of this.routes) {
      if (r.method !== m) continue;
      const hit = r.regex.exec(p);
      if (hit) {
        const params = {};
        r.params.forEach((name, i) => {
          params[name] = decodeURIComponent(hit[i + 1]);
        });
        return { ...r, params };
      }
    }
    return null;
  }

  resolveResponse(resp) {
    let r = resp;
    for (let i = 0; i < 5 && r && typeof r.$ref === 'string'; i++) {
      const m = /^#\/components\/responses\/(.+)$/.exec(r.$ref);
      if (!m) throw new Error(`unsupported response $ref ${r.$ref}`);
      r = this.doc.components?.responses?.[m[1]];
    }
    return r;
  }

  /**
   * The documented response for a status: { key, schema|null, implicit } or null if undocumented.
   * `schema` null means the spec documents no JSON body for that status.
   */
  responseFor(route, status) {
    const responses = route.op.responses ?? {};
    const s = String(status);
    const key = s in responses ? s : `${s[0]}XX` in responses ? `${s[0]}XX` : 'default' in responses ? 'default' : null;
    if (key === null) {
      if (status >= 400) {
        return { key: 'error (implicit)', schema: { $ref: '#/components/schemas/error' }, implicit: true };
      }
      return null;
    }
    const resp = this.resolveResponse(responses[key]);
    const content = resp?.content ?? {};
    const json = content['application/json'] ?? Object.entries(content).find(([ct]) => /json/i.test(ct))?.[1];
    return { key, schema: json?.schema ?? null, implicit: false, contentTypes: Object.keys(content) };
  }

  validatorFor(route, status) {
    const cacheKey = `${route.method} ${route.template} ${status}`;
    if (this.validators.has(cacheKey)) return this.validators.get(cacheKey);
    const resp = this.responseFor(route, status);
    let entry;
    if (!resp) {
      entry = { resp: null, validate: null };
    } else if (!resp.schema) {
      entry = { resp, validate: null };
    } else {
      const schema = convertSchema(resp.schema, this.mapRef);
      entry = { resp, validate: this.ajv.compile(schema) };
    }
    this.validators.set(cacheKey, entry);
    return entry;
  }
}

const specCache = new Map();

/** Load (and cache) a spec version from the shared directory. */
export function loadSpec(version, dir = specDir()) {
  const key = `${dir}|${version}`;
  if (specCache.has(key)) return specCache.get(key);
  const file = path.join(dir, `openapi-${version}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(`OpenAPI description not found: ${file} (set PARLEY_OPENAPI_DIR or put shared/ beside the repository)`);
  }
  const doc = parseYamlCached(file);
  const spec = new OpenApiSpec(version, doc);
  specCache.set(key, spec);
  return spec;
}

/** YAML.parse is slow on these 1 MB files; keep a JSON copy keyed by size and mtime. */
function parseYamlCached(file) {
  const st = fs.statSync(file);
  const cacheDir = path.join(COMPAT_DIR, '.bin', 'spec-cache');
  const cacheFile = path.join(cacheDir, `${path.basename(file)}-${st.size}-${Math.floor(st.mtimeMs)}.json`);
  try {
    return JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
  } catch {
    /* not cached yet */
  }
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'), { maxAliasCount: -1 });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(doc));
    fs.renameSync(tmp, cacheFile);
  } catch {
    /* caching is best effort */
  }
  return doc;
}

/** Build a spec directly from an in-memory OpenAPI document (used by the self-tests). */
export function specFromDocument(version, doc) {
  return new OpenApiSpec(version, doc);
}

function jsonPointerGet(obj, pointer) {
  if (!pointer) return obj;
  let cur = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Drop the noise ajv produces for our nullable/anyOf wrappers, keep the precise errors. */
export function pruneErrors(errors) {
  const list = (errors ?? []).filter((e) => !(e.keyword === 'type' && e.params?.type === 'null'));
  return list.filter((e) => {
    if (e.keyword !== 'anyOf') return true;
    // Keep a generic anyOf error only if nothing more specific was reported beneath it.
    const prefix = `${e.schemaPath}/`;
    return !list.some((o) => o !== e && o.schemaPath.startsWith(prefix));
  });
}

function preview(value) {
  if (value === undefined) return 'undefined';
  const s = JSON.stringify(value);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

/**
 * Validate one HTTP exchange.
 * @returns {{ validated: boolean, extension: boolean, operation: string|null, template: string|null,
 *   operationId: string|null, version: string, violations: object[] }}
 */
export function validateExchange(spec, { method, pathname, status, contentType, bodyText }) {
  const route = spec.route(method, pathname);
  const base = { version: spec.version, validated: false, extension: !route, violations: [] };
  if (!route) return { ...base, operation: null, template: null, operationId: null };
  const operation = `${route.method} ${route.template}`;
  const info = { ...base, operation, template: route.template, operationId: route.operationId };
  const v = (instancePath, message, extra = {}) => ({
    operation,
    operationId: route.operationId,
    method: route.method,
    path: pathname,
    status,
    version: spec.version,
    instancePath,
    message,
    ...extra,
  });
  const { resp, validate } = spec.validatorFor(route, status);
  if (!resp) {
    const documented = Object.keys(route.op.responses ?? {}).join(', ');
    info.violations.push(v('', `undocumented response status ${status} (documented: ${documented})`, { keyword: 'status' }));
    info.validated = true;
    return info;
  }
  if (!validate) {
    // The spec documents no JSON body for this status (e.g. 202 on POST /events): nothing to check.
    return info;
  }
  info.validated = true;
  if (!bodyText || bodyText.length === 0) {
    info.violations.push(v('', `expected a JSON body (status ${status}, response '${resp.key}'), got an empty body`, { keyword: 'body' }));
    return info;
  }
  if (!/json/i.test(contentType ?? '')) {
    info.violations.push(v('', `expected Content-Type application/json, got ${JSON.stringify(contentType ?? null)}`, { keyword: 'contentType' }));
  }
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch (e) {
    info.violations.push(v('', `response body is not valid JSON: ${e.message}; body starts ${preview(bodyText.slice(0, 120))}`, { keyword: 'json' }));
    return info;
  }
  if (!validate(body)) {
    for (const err of pruneErrors(validate.errors)) {
      let message = err.message ?? err.keyword;
      if (err.keyword === 'enum') message += `: ${preview(err.params.allowedValues)}`;
      if (err.keyword === 'required') message = `must have required property '${err.params.missingProperty}'`;
      info.violations.push(
        v(err.instancePath, message, {
          keyword: err.keyword,
          schemaPath: err.schemaPath,
          value: preview(jsonPointerGet(body, err.instancePath)),
          responseKey: resp.key,
        }),
      );
    }
  }
  return info;
}

// ---------------------------------------------------------------------------------------
// Allowed differences (compat/allowed-differences.json)

/**
 * Load the allow list. Shape:
 * { "differences": [ { "operation": "GET /contacts/{contact_id}" | "<operationId>",
 *     "pointer": "/owner_id" (JSON pointer, '*' matches one segment, prefixes match subtrees),
 *     "status": 200 (optional), "version": "2.14" (optional), "reason": "why" } ] }
 */
export function loadAllowedDifferences(file = path.join(COMPAT_DIR, 'allowed-differences.json')) {
  if (!fs.existsSync(file)) return [];
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const list = Array.isArray(raw) ? raw : raw.differences ?? [];
  list.forEach((d, i) => {
    if (!d || typeof d.operation !== 'string' || typeof d.pointer !== 'string' || typeof d.reason !== 'string' || !d.reason.trim()) {
      throw new Error(`${file}: entry ${i} needs string "operation", "pointer" and a non-empty "reason"`);
    }
    if (d.pointer !== '' && !d.pointer.startsWith('/')) {
      throw new Error(`${file}: entry ${i} pointer must be a JSON pointer ('' or starting with '/')`);
    }
  });
  return list;
}

function pointerMatches(pattern, instancePath) {
  if (pattern === '') return true; // the whole body
  const pat = pattern.split('/').slice(1);
  const inst = instancePath.split('/').slice(1);
  if (instancePath === '' || inst.length < pat.length) return false;
  return pat.every((seg, i) => seg === '*' || seg === inst[i]);
}

/** The allow-list entry covering a violation, or undefined. */
export function findAllowance(allowed, violation) {
  return allowed.find(
    (d) =>
      (d.operation === violation.operation || (violation.operationId && d.operation === violation.operationId)) &&
      (d.status === undefined || Number(d.status) === Number(violation.status)) &&
      (d.version === undefined || String(d.version) === violation.version) &&
      pointerMatches(d.pointer, violation.instancePath),
  );
}

/** Human-readable multi-line report of violations. */
export function formatViolations(violations) {
  return violations
    .map((x) => {
      const where = x.instancePath === '' ? '(body)' : x.instancePath;
      const extra = x.value !== undefined ? ` — got ${x.value}` : '';
      const schema = x.schemaPath ? ` [schema ${x.schemaPath}]` : '';
      return `  ${x.operation}${x.operationId ? ` (${x.operationId})` : ''} → ${x.status} [Intercom-Version ${x.version}] ${x.path}\n    at ${where}: ${x.message}${extra}${schema}`;
    })
    .join('\n');
}
