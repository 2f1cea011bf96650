{% autoescape off %}/* CivicGrid service worker (served by civicgrid.gridwork.pwa at /sw.js, scope /): the 网格员 phone app offline.
   - app shell (the static files of /field/ and /gridwork/): precached at install, then cache first;
   - the 网格员 pages (CONFIG.pages): network first, the last good copy when offline, else a small offline page;
   - map tiles and the stored vector base already seen: cache first, at most CONFIG.tileMax answers (oldest out);
   - everything else (other pages, the API, POSTs) passes through untouched.
   Queued writes are not here: static/js/offline.js keeps them in IndexedDB and sends them from the page. */
"use strict";
const CONFIG = {{ config }};
const SHELL = "cg-shell-" + CONFIG.version;
const PAGES = "cg-pages";
const TILES = "cg-tiles";
const pageRes = CONFIG.pages.map(function (p) { return new RegExp(p); });

function isPage(url) {
  return url.origin === self.location.origin && pageRes.some(function (re) { return re.test(url.pathname); });
}
function isTile(url, request) {
  if (url.origin === self.location.origin) return /^\/places\/(basemap|grids)/.test(url.pathname);
  return CONFIG.tileOrigins.indexOf(url.origin) >= 0 || (request.destination === "image" && /tile|wmts|\/\d+\/\d+\/\d+/i.test(url.href));
}

const OFFLINE_HTML = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1"><title>离线</title></head>' +
  '<body style="font-family:sans-serif;padding:24px;line-height:1.6"><h1 style="font-size:20px">当前没有网络</h1>' +
  '<p>这个页面还没有在本机保存过，联网后再打开。</p><p>已保存的页面：<a href="/gridwork/">巡查打卡</a> · ' +
  '<a href="/field/">巡查上报</a>。离线时的打卡和上报存在手机里，联网后自动上传。</p></body></html>';

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) {
      return Promise.all(CONFIG.shell.map(function (u) {
        return cache.add(u).catch(function () { /* one missing file does not stop the rest */ });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("cg-shell-") === 0 && k !== SHELL; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function pageKey(url) { return new URL(url, self.location.origin).pathname; }

function storePage(response, url) {
  // only a page the server really rendered for a logged-in user (not a redirect to the login page)
  if (response && response.status === 200 && response.type === "basic" && !response.redirected) {
    const copy = response.clone();
    return caches.open(PAGES).then(function (c) { return c.put(pageKey(url), copy); });
  }
  return Promise.resolve();
}

function networkFirstPage(request) {
  return fetch(request).then(function (response) {
    storePage(response, request.url);
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (c) { return c.match(pageKey(request.url)); }).then(function (hit) {
      return hit || new Response(OFFLINE_HTML, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    const extra = keys.length - CONFIG.tileMax;
    if (extra <= 0) return;
    return Promise.all(keys.slice(0, extra).map(function (k) { return cache.delete(k); }));
  });
}

function cacheFirst(request, name, cap) {
  return caches.open(name).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) return hit;
      return fetch(request).then(function (response) {
        if (response.ok || response.type === "opaque") {
          cache.put(request, response.clone()).then(function () { return cap ? trim(cache) : null; });
        }
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate" || (request.headers.get("Accept") || "").indexOf("text/html") >= 0) {
    if (isPage(url)) event.respondWith(networkFirstPage(request));
    return;
  }
  if (url.origin === self.location.origin && CONFIG.shell.indexOf(url.pathname) >= 0) {
    // only the app shell (versioned with this worker); other static files are the server's business
    event.respondWith(caches.open(SHELL).then(function (c) { return c.match(request, { ignoreSearch: true }); }).then(function (hit) {
      return hit || cacheFirst(request, SHELL, false);
    }));
    return;
  }
  if (isTile(url, request)) {
    // the vector base and grid outlines change rarely but do change: network first for them, tiles cache first
    if (url.origin === self.location.origin) {
      event.respondWith(fetch(request).then(function (response) {
        if (response.ok) {
          const copy = response.clone();
          caches.open(TILES).then(function (c) { return c.put(request, copy).then(function () { return trim(c); }); });
        }
        return response;
      }).catch(function () {
        return caches.open(TILES).then(function (c) { return c.match(request); }).then(function (hit) {
          return hit || Response.error();
        });
      }));
    } else {
      event.respondWith(cacheFirst(request, TILES, true));
    }
  }
});

self.addEventListener("message", function (event) {
  const data = event.data || {};
  const reply = function (msg) {
    if (event.ports && event.ports[0]) event.ports[0].postMessage(msg);
  };
  if (data.type === "warm") {
    // the page asks for itself and the pages it links to (the check-in forms) to be kept for offline use
    const urls = (data.urls || []).map(function (u) { return new URL(u, self.location.origin); });
    const pages = urls.filter(isPage);
    const maps = urls.filter(function (u) { return u.origin === self.location.origin && isTile(u, { destination: "" }); });
    // one at a time: a phone on a weak network, and a server that saves the session on every request
    const jobs = pages.map(function (u) {
      return function () {
        return fetch(u.href, { credentials: "same-origin" }).then(function (r) {
          return storePage(r, u.href).then(function () { return r.status === 200 ? 1 : 0; });
        });
      };
    }).concat(maps.map(function (u) {
      return function () {
        return fetch(u.href, { credentials: "same-origin" }).then(function (r) {
          return r.ok ? caches.open(TILES).then(function (c) { return c.put(u.href, r); }).then(function () { return 0; }) : 0;
        });
      };
    }));
    event.waitUntil(jobs.reduce(function (chain, job) {
      return chain.then(function (done) {
        return job().catch(function () { return 0; }).then(function (n) { return done.concat([n]); });
      });
    }, Promise.resolve([])).then(function (done) {
      reply({ type: "warmed", pages: done.reduce(function (a, b) { return a + b; }, 0), version: CONFIG.version });
    }));
  } else if (data.type === "clear") {
    // logging out: the saved pages hold this user's data
    event.waitUntil(caches.delete(PAGES).then(function () { return caches.delete(TILES); }).then(function () { reply({ type: "cleared" }); }));
  }
});
{% endautoescape %}
