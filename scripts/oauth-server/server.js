// The OAuth 2.0 / OpenID Connect server the tests run against: oidc-provider
// (a certified implementation) on 127.0.0.1, with
//   - a confidential client "mc-conf" (client_secret_basic), "mc-post"
//     (client_secret_post) and a public client "mc-public" (PKCE);
//   - discovery (OIDC) at /.well-known/openid-configuration, and the same
//     metadata as RFC 8414 for the issuer ISSUER/as8414 at
//     /.well-known/oauth-authorization-server/as8414 (whose OIDC document
//     does not exist), to test the fallback;
//   - client_credentials, device flow, authorization code + PKCE with
//     loopback redirects on any port, rotating refresh tokens, revocation
//     and introspection;
//   - interaction routes (a login form and a consent form) a test drives
//     as a browser would;
//   - test-only routes under /_test/ (never in a real server):
//       POST /_test/approve?user_code=C   approve a device code (user "tester")
//       POST /_test/deny?user_code=C      deny it (access_denied)
//       POST /_test/fail?n=N&retry_after=S  the next N token requests get
//                                         503 with Retry-After: S
//       POST /_test/device_error?error=E&n=N  the next N device-code polls
//                                         answer E (slow_down, expired_token)
//       POST /_test/ttl?access=S&refresh=S&device=S&interval=S
//                                         lifetimes (seconds) of tokens issued
//                                         from now on; the device interval
//       POST /_test/delay?ms=M[&after=1]  hold every token request M ms
//                                         before it is handled (after=1:
//                                         after, the answer ready)
//       GET  /_test/count                 requests per grant type, discovery
//                                         fetches, revocations
//       POST /_test/reset                 counters to zero, settings back
//       GET  /_test/last_user_code        the newest device user code
//
// Usage: node server.js PORT_FILE
// Binds a free port, writes it to PORT_FILE once it is listening.
import http from 'node:http';
import fs from 'node:fs';
import { URL } from 'node:url';
import Provider from 'oidc-provider';

const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: server.js PORT_FILE');
  process.exit(64);
}

const SECRETS = {
  'mc-conf': 'conf-secret-6f1d2a9b7c',
  'mc-post': 'post-secret-8e3c5b1a0d',
};

const DEFAULTS = {
  access: 3600, refresh: 86400, device: 600, interval: 1, delay: 0, delayAfter: false,
};
const settings = { ...DEFAULTS };
let fail = { n: 0, retryAfter: 1 };
let deviceError = { n: 0, error: '' };
let counts = {};
let lastUserCode = null;

function count(key) {
  counts[key] = (counts[key] || 0) + 1;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', start);

function start() {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'mc-conf',
        client_secret: SECRETS['mc-conf'],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials', 'refresh_token', 'authorization_code',
          'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        application_type: 'native',
      },
      {
        client_id: 'mc-post',
        client_secret: SECRETS['mc-post'],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['client_credentials', 'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: 'mc-public',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        application_type: 'native',
      },
    ],
    cookies: { keys: ['mercury-test-cookie-key'] },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    scopes: ['openid', 'offline_access'],
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: () => settings.access,
      ClientCredentials: () => settings.access,
      RefreshToken: () => settings.refresh,
      DeviceCode: () => settings.device,
      Grant: 14 * 24 * 3600,
      Interaction: 600,
      Session: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  provider.proxy = false;

  // Counts every token request by grant type (after the provider saw it),
  // fails or delays token requests as told, adds the device interval.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST') {
      count('token_received');
      if (fail.n > 0) {
        fail.n -= 1;
        count('failed_503');
        ctx.status = 503;
        ctx.set('Retry-After', String(fail.retryAfter));
        ctx.body = { error: 'temporarily_unavailable' };
        return;
      }
      if (settings.delay > 0 && !settings.delayAfter) {
        await new Promise((r) => { setTimeout(r, settings.delay); });
      }
    }
    if (ctx.path === '/.well-known/openid-configuration') count('discovery');
    await next();
    if (ctx.oidc && ctx.oidc.route === 'token') {
      count(`token:${ctx.oidc.params?.grant_type || 'none'}`);
      if (settings.delay > 0 && settings.delayAfter) {
        await new Promise((r) => { setTimeout(r, settings.delay); });
      }
    }
    if (ctx.oidc && ctx.oidc.route === 'revocation') count('revocation');
    if (ctx.oidc && ctx.oidc.route === 'device_authorization' && ctx.status === 200
        && ctx.body && typeof ctx.body === 'object') {
      ctx.body.interval = settings.interval;
      lastUserCode = ctx.body.user_code;
    }
  });

  // The injected device-code poll errors, before the grant handler.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST' && deviceError.n > 0) {
      const body = await readBody(ctx.req);
      const params = new URLSearchParams(body);
      if (params.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
        deviceError.n -= 1;
        count(`token:${params.get('grant_type')}`);
        count(`device_error:${deviceError.error}`);
        ctx.status = 400;
        ctx.body = { error: deviceError.error, error_description: 'injected by the test server' };
        return;
      }
      // Hand the body on to the provider, which parses it itself.
      ctx.req.body = Object.fromEntries(params);
      ctx.request.body = ctx.req.body;
    }
    await next();
  });

  const tests = async (req, res, url) => {
    const q = url.searchParams;
    const json = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    const userCode = q.get('user_code') || lastUserCode;
    switch (url.pathname) {
      case '/_test/approve':
      case '/_test/deny': {
        const code = userCode
          && await provider.DeviceCode.findByUserCode(userCode.replace(/[^A-Za-z0-9]/g, '').toUpperCase());
        if (!code) return json(404, { error: 'no such user code' });
        if (url.pathname === '/_test/deny') {
          Object.assign(code, { error: 'access_denied', errorDescription: 'the user said no' });
        } else {
          const grant = new provider.Grant({ accountId: 'tester', clientId: code.clientId });
          grant.addOIDCScope(code.params.scope || 'openid');
          const grantId = await grant.save();
          Object.assign(code, {
            accountId: 'tester',
            grantId,
            scope: code.params.scope || 'openid',
            authTime: Math.floor(Date.now() / 1000),
          });
        }
        await code.save();
        return json(200, { ok: true });
      }
      case '/_test/fail':
        fail = { n: Number(q.get('n') || 1), retryAfter: q.get('retry_after') || '1' };
        return json(200, fail);
      case '/_test/device_error':
        deviceError = { n: Number(q.get('n') || 1), error: q.get('error') || 'slow_down' };
        return json(200, deviceError);
      case '/_test/ttl':
        for (const k of ['access', 'refresh', 'device', 'interval']) {
          if (q.get(k) !== null) settings[k] = Number(q.get(k));
        }
        return json(200, settings);
      case '/_test/delay':
        settings.delay = Number(q.get('ms') || 0);
        settings.delayAfter = q.get('after') === '1';
        return json(200, settings);
      case '/_test/count':
        return json(200, counts);
      case '/_test/reset':
        counts = {};
        fail = { n: 0, retryAfter: 1 };
        deviceError = { n: 0, error: '' };
        Object.assign(settings, DEFAULTS);
        return json(200, { ok: true });
      case '/_test/last_user_code':
        return json(200, { user_code: lastUserCode });
      default:
        return json(404, { error: 'unknown test route' });
    }
  };

  // RFC 8414 metadata for the issuer ISSUER/as8414 (whose OIDC discovery
  // document does not exist): the provider's own, with that issuer.
  const rfc8414 = async (res) => {
    count('discovery_rfc8414');
    const r = await fetch(`${issuer}/.well-known/openid-configuration`);
    const meta = await r.json();
    meta.issuer = `${issuer}/as8414`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(meta));
  };

  const page = (res, status, html) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!DOCTYPE html><html><body>${html}</body></html>`);
  };

  // The interaction pages: a login form, then a consent form.
  const interaction = async (req, res, url) => {
    const parts = url.pathname.split('/'); // '', 'interaction', uid, [action]
    const action = parts[3];
    try {
      const details = await provider.interactionDetails(req, res);
      const { uid, prompt, params } = details;
      if (req.method === 'GET') {
        if (prompt.name === 'login') {
          return page(res, 200, `<h1>Sign in</h1><form method="post" action="/interaction/${uid}/login">`
            + '<input name="login"><input name="password" type="password">'
            + '<button type="submit">Sign in</button></form>');
        }
        return page(res, 200, `<h1>Allow ${params.client_id}?</h1>`
          + `<form method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>`);
      }
      const body = new URLSearchParams(await readBody(req));
      if (action === 'login') {
        if (!body.get('login') || body.get('password') !== 'tester-password') {
          return page(res, 403, '<p>wrong login or password</p>');
        }
        return provider.interactionFinished(req, res,
          { login: { accountId: body.get('login') } }, { mergeWithLastSubmission: false });
      }
      if (action === 'confirm') {
        const { accountId } = details.session;
        let grant;
        if (details.grantId) {
          grant = await provider.Grant.find(details.grantId);
        } else {
          grant = new provider.Grant({ accountId, clientId: params.client_id });
        }
        const missing = details.prompt.details;
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        const grantId = await grant.save();
        return provider.interactionFinished(req, res,
          { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      return page(res, 404, '<p>unknown interaction step</p>');
    } catch (e) {
      return page(res, 400, `<p>${String(e.message).replace(/[<>&]/g, '')}</p>`);
    }
  };

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname.startsWith('/_test/')) {
      tests(req, res, url).catch((e) => { res.writeHead(500); res.end(String(e)); });
    } else if (url.pathname === '/.well-known/oauth-authorization-server/as8414') {
      rfc8414(res).catch((e) => { res.writeHead(500); res.end(String(e)); });
    } else if (url.pathname.startsWith('/interaction/')) {
      interaction(req, res, url);
    } else {
      callback(req, res);
    }
  });

  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; if (data.length > 1e6) req.destroy(); });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { server.close(); process.exit(0); });
}
