/* Whistle's service worker, the only one of the site (scope "/"): it keeps the app shell and
   the phone pages for a dead zone, and shows Web Push messages (push-sw.js). Rendered by
   whistle.web.offline.service_worker: version {{ version }}. */
"use strict";

importScripts({{ push_worker_json|safe }});

const VERSION = {{ version_json|safe }};
const SHELL_CACHE = "whistle-shell-" + VERSION;
const PAGES_CACHE = {{ pages_cache_json|safe }};
const SHELL = {{ shell_json|safe }};
const PAGES_URL = {{ pages_url_json|safe }};
// The "no signal" page in each language (by the pages' <html lang>), kept for nobody in
// particular, and the language it comes in until a page has said which the person reads.
const OFFLINE_PAGES = {{ offline_pages_json|safe }};
const DEFAULT_LANGUAGE = {{ default_language_json|safe }};
// The language of the last page opened with signal: the one the "no signal" page comes in.
const LANGUAGE_CACHE = "whistle-language";
const LANGUAGE_KEY = PAGES_URL + "?language";
const STATIC_PREFIX = {{ static_prefix_json|safe }};
// Pages kept as they are opened, beside those PAGES_URL names.
const KEPT_PREFIXES = {{ kept_prefixes_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) =>
        cache.addAll([
          ...SHELL,
          // Without cookies: the same page for whoever is signed in, or nobody.
          ...Object.values(OFFLINE_PAGES).map((url) => new Request(url, { credentials: "omit" })),
        ]),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("whistle-shell-") && name !== SHELL_CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

function kept(url) {
  return KEPT_PREFIXES.some((prefix) => url.pathname.startsWith(prefix));
}

// Whom the kept pages are for: the account their pages named (data-offline-owner on <body>),
// kept beside them. Nothing is kept for nobody, and one person's pages never stand beside
// another's on a shared phone.
const OWNER_KEY = PAGES_URL + "?kept-for";

async function keptFor() {
  const mark = await caches.match(OWNER_KEY, { cacheName: PAGES_CACHE });
  return mark ? mark.text() : "";
}

// One change of the store at a time: a page that says nobody is signed in may arrive while
// another is being kept.
let turn = Promise.resolve();
function inTurn(work) {
  const done = turn.then(work, work);
  turn = done.catch(() => null);
  return done;
}

// From now on the pages kept are `owner`'s: anyone else's are dropped first.
async function claim(owner) {
  if ((await keptFor()) !== owner) {
    await caches.delete(PAGES_CACHE);
    const cache = await caches.open(PAGES_CACHE);
    await cache.put(OWNER_KEY, new Response(owner));
  }
}

// What a page of the site says of itself: who is signed in (data-offline-owner on <body>,
// empty for nobody) and its language (<html lang>); each null for an answer that is not
// such a page.
async function marksOf(response) {
  if (!(response.headers.get("Content-Type") || "").startsWith("text/html")) {
    return { owner: null, language: null };
  }
  const text = await response.clone().text();
  const body = /<body\b[^>]*>/i.exec(text);
  const owner = body && /\sdata-offline-owner="([^"]*)"/.exec(body[0]);
  const html = /<html\b[^>]*\slang="([^"]*)"/i.exec(text);
  return { owner: owner ? owner[1] : null, language: html ? html[1] : null };
}

async function currentLanguage() {
  const mark = await caches.match(LANGUAGE_KEY, { cacheName: LANGUAGE_CACHE });
  return mark ? mark.text() : DEFAULT_LANGUAGE;
}

// The person switched language (or first opened a page): the "no signal" page follows.
async function noteLanguage(language) {
  if (language in OFFLINE_PAGES && (await currentLanguage()) !== language) {
    const cache = await caches.open(LANGUAGE_CACHE);
    await cache.put(LANGUAGE_KEY, new Response(language));
  }
}

async function noSignalPage() {
  const url = OFFLINE_PAGES[await currentLanguage()] || OFFLINE_PAGES[DEFAULT_LANGUAGE];
  return caches.match(url, { cacheName: SHELL_CACHE, ignoreVary: true });
}

// A page opened with signal. Kept only for the person signed in; when a page says nobody is
// (signed out, the session lapsed), everything kept is dropped: it was someone's own.
async function keepPage(request, response) {
  // An error page may be drawn without knowing who is signed in: it says nothing.
  if (response.type !== "basic" || !response.ok) {
    return response;
  }
  const { owner, language } = await marksOf(response);
  if (language) {
    await noteLanguage(language);
  }
  const url = new URL(request.url);
  await inTurn(async () => {
    if (owner === "") {
      await caches.delete(PAGES_CACHE);
      return;
    }
    if (owner !== null) {
      await claim(owner);
    }
    if (kept(url) && !response.redirected && (await keptFor())) {
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(request, response.clone());
    }
  });
  return response;
}

// What a page fetches to draw itself, kept only while pages are kept for someone.
async function keep(request, response) {
  // A page answered after a redirect (to sign in) or with an error is not the page.
  if (response.ok && !response.redirected && response.type === "basic") {
    await inTurn(async () => {
      if (await keptFor()) {
        const cache = await caches.open(PAGES_CACHE);
        await cache.put(request, response.clone());
      }
    });
  }
  return response;
}

// The person's phone pages, and what they fetch to draw themselves (`data`: the layers of a
// steward's report map, the lanes of a resident's), kept for the person the answer names
// (`owner`), each replacing its copy of the last warming. The data is fetched
// as its page fetches it; the browser's HTTP cache may answer within the data's own max-age.
async function warm() {
  const answer = await fetch(PAGES_URL, { credentials: "same-origin", cache: "no-store" });
  if (!answer.ok || answer.redirected) {
    return;
  }
  const { owner, pages, data = [] } = await answer.json();
  await inTurn(() => claim(String(owner)));
  const cache = await caches.open(PAGES_CACHE);
  const fetched = (url, headers) =>
    fetch(url, { credentials: "same-origin", headers })
      .then((response) => (response.ok && !response.redirected ? cache.put(url, response) : null))
      .catch(() => null);
  await Promise.all([
    ...pages.map((page) => fetched(page, {})),
    ...data.map((url) => fetched(url, { Accept: "application/geo+json" })),
  ]);
}

self.addEventListener("message", (event) => {
  const kind = event.data && event.data.type;
  if (kind === "warm") {
    event.waitUntil(warm().catch(() => null));
  } else if (kind === "forget") {
    // Signing out: the pages kept were someone's own.
    event.waitUntil(inTurn(() => caches.delete(PAGES_CACHE)));
  }
});

// The kept copy of a page: the one at its address, else at its path (a page asked for with a
// query, as a list's next page). The answer's Vary (Cookie, Accept-Language) is ignored: the
// warming's requests carry neither header and a page's carries the browser's Accept-Language,
// so each copy would be found only by the kind of request that kept it (a copy kept by opening
// the page, never by its path). The store holds one person's copies only (`claim`), the one
// at an address the latest kept there, in the language it was opened in.
async function keptPage(request) {
  const options = { cacheName: PAGES_CACHE, ignoreVary: true };
  return (
    (await caches.match(request, options)) ||
    (await caches.match(new URL(request.url).pathname, options))
  );
}

async function page(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cached = await keptPage(request);
    return (cached && (await keptCopy(cached))) || (await noSignalPage()) || Response.error();
  }
  return keepPage(request, response).catch(() => response);
}

// A page answered from the store says so on its body, with when the server made it (its
// Date): the browser may still believe itself online (a weak signal), and offline.js shows
// the banner and how old the page is, beside what waits in the queue since.
async function keptCopy(response) {
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  const made = Date.parse(response.headers.get("Date") || "");
  const at = isNaN(made) ? "" : new Date(made).toISOString();
  const text = (await response.text()).replace("<body ", `<body data-offline-kept="${at}" `);
  return new Response(text, { status: response.status, statusText: response.statusText, headers });
}

async function asset(request) {
  const cached = await caches.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

async function data(request) {
  try {
    return await keep(request, await fetch(request));
  } catch (error) {
    // Kept by the warming's own request, which carries none of the headers the browser adds
    // to a page's (Accept-Language): the answer's Vary would hide it. The store holds one
    // person's copies only (`claim`).
    const options = { cacheName: PAGES_CACHE, ignoreVary: true };
    return (await caches.match(request, options)) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(asset(request));
  } else if (url.pathname.endsWith(".geojson") && kept(url)) {
    event.respondWith(data(request));
  }
});
