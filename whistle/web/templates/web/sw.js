/* Whistle's service worker, the only one of the site (scope "/"): it keeps the app shell and
   the phone pages for a dead zone, and shows Web Push messages (push-sw.js). Rendered by
   whistle.web.offline.service_worker: version {{ version }}. */
"use strict";

importScripts({{ push_worker_json|safe }});

const VERSION = {{ version_json|safe }};
const SHELL_CACHE = "whistle-shell-" + VERSION;
const PAGES_CACHE = "whistle-pages";
const SHELL = {{ shell_json|safe }};
const PAGES_URL = {{ pages_url_json|safe }};
const OFFLINE_URL = {{ offline_url_json|safe }};
const STATIC_PREFIX = {{ static_prefix_json|safe }};
// Pages kept as they are opened, beside those PAGES_URL names.
const KEPT_PREFIXES = {{ kept_prefixes_json|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll([...SHELL, OFFLINE_URL]))
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

async function keep(request, response) {
  // A page answered after a redirect (to sign in) or with an error is not the page.
  if (response.ok && !response.redirected && response.type === "basic") {
    const cache = await caches.open(PAGES_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

// The person's phone pages, and what they fetch to draw themselves (`data`: the lanes of a
// resident's report map), each replacing its copy of the last warming. The data is fetched
// as its page fetches it; the browser's HTTP cache may answer within the data's own max-age.
async function warm() {
  const answer = await fetch(PAGES_URL, { credentials: "same-origin", cache: "no-store" });
  if (!answer.ok || answer.redirected) {
    return;
  }
  const { pages, data = [] } = await answer.json();
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
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});

async function page(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    return kept(url) ? keep(request, response) : response;
  } catch (error) {
    const cached =
      (await caches.match(request, { cacheName: PAGES_CACHE })) ||
      (await caches.match(url.pathname, { cacheName: PAGES_CACHE }));
    return (cached && (await keptCopy(cached))) || (await caches.match(OFFLINE_URL)) || Response.error();
  }
}

// A page answered from the store says so on its body: the browser may still believe itself
// online (a weak signal), and the page's banner (offline.js) reads this mark.
async function keptCopy(response) {
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("content-encoding");
  const text = (await response.text()).replace("<body ", "<body data-offline-kept ");
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
    return (await caches.match(request, { cacheName: PAGES_CACHE })) || Response.error();
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
