/* The 网格员 phone app offline (the /field/ and /gridwork/ pages): registers the service worker (/sw.js), asks it
   to keep this page and the pages it links to (data-cg-warm) for offline use, and keeps the writes made without a
   network in an IndexedDB queue (CGQueue) — check-ins and 入户走访 as JSON for the API, case reports as form fields
   with the photos as Blobs — and sends them when the connection returns; the patrol's GPS fixes wait in a second
   IndexedDB store (CGQueue.fixes, uploaded by gridwork.js). Every item carries an id made on the phone (the
   check-in's client_id, the report's idempotency_key): the server stores a re-sent item once.
   A 4xx that can never succeed (the server refused the content) is not retried: it is shown with 放弃 (discard);
   401/403/408/429, 5xx and network failures stay queued and are retried. No HTML strings: textContent only. */
(function () {
  "use strict";

  var DB = "civicgrid-offline", STORE = "queue", FIXES = "fixes";
  var TRANSIENT = [401, 403, 408, 425, 429];
  var panel = document.getElementById("cg-sync");
  var user = panel ? panel.dataset.user : (document.body.dataset.cgUser || "");

  function uid() {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- IndexedDB -----------------------------------------------------------------------------------
  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no indexedDB")); return; }
        var req = indexedDB.open(DB, 2);
        req.onupgradeneeded = function () {
          var names = req.result.objectStoreNames;
          if (!names.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: "id" });
          if (!names.contains(FIXES)) req.result.createObjectStore(FIXES, { keyPath: "id" }); // a patrol's GPS fixes
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbp;
  }
  function tx(mode, fn, store) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(store || STORE, mode);
        var out = fn(t.objectStore(store || STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).filter(function (i) { return !user || i.user === user; })
        .sort(function (a, b) { return a.created < b.created ? -1 : a.created > b.created ? 1 : 0; });
    });
  }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function remove(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  /* The patrol's GPS fixes ({id, patrol (its phone id), t, lng, lat, acc}), in IndexedDB like the queue (they
     survive a closed page, a full localStorage and a restart); gridwork.js uploads them in batches. */
  var fixCount = 0;
  var fixStore = {
    all: function () {
      return tx("readonly", function (s) { return s.getAll(); }, FIXES).then(function (items) {
        items = (items || []).filter(function (f) { return !user || f.user === user; })
          .sort(function (a, b) { return a.t < b.t ? -1 : a.t > b.t ? 1 : 0; });
        fixCount = items.length;
        return items;
      });
    },
    add: function (fix) { fix.user = user; return tx("readwrite", function (s) { s.put(fix); }, FIXES); },
    drop: function (ids) {
      return tx("readwrite", function (s) { ids.forEach(function (id) { s.delete(id); }); }, FIXES);
    },
  };
  // fixes an older version of the page kept in localStorage move over once
  try {
    var legacy = JSON.parse(localStorage.getItem("cg.gw.queue") || "[]");
    if (legacy.length) {
      Promise.all(legacy.map(fixStore.add)).then(function () { localStorage.removeItem("cg.gw.queue"); });
    }
  } catch (e) { /* nothing to move */ }

  /* Queue an item: {id, kind: "case"|"check", label, url, json | fields: [{name, value} | {name, blob, filename}],
     patrolClient?}. */
  function add(item) {
    item.user = user;
    item.created = item.created || new Date().toISOString();
    item.status = "pending";
    item.error = "";
    item.tries = 0;
    return put(item).then(function () { render(); return item; });
  }

  // --- sending ---------------------------------------------------------------------------------------
  function patrolId(clientId) {
    try {
      var ids = JSON.parse(localStorage.getItem("cg.gw.ids")) || {};
      if (ids[clientId]) return ids[clientId];
      var st = JSON.parse(localStorage.getItem("cg.gw.patrol"));
      if (st && st.clientId === clientId) return st.id || "wait"; // started offline: its start goes up first
    } catch (e) { /* unreadable: send without the patrol */ }
    return null;
  }

  function request(item) {
    var headers = { Accept: "application/json", "X-CSRFToken": csrf() };
    if (item.kind === "check" || item.kind === "visit") {
      var body = Object.assign({}, item.json);
      if (item.patrolClient && !body.patrol) {
        var pid = patrolId(item.patrolClient);
        if (pid === "wait") return null;
        body.patrol = pid || null;
      }
      headers["Content-Type"] = "application/json";
      return fetch(item.url, { method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body) });
    }
    var fd = new FormData();
    (item.fields || []).forEach(function (f) {
      if (f.blob) fd.append(f.name, f.blob, f.filename || "photo.jpg");
      else fd.append(f.name, f.value);
    });
    return fetch(item.url, { method: "POST", credentials: "same-origin", headers: headers, body: fd, redirect: "follow" });
  }

  function message(data, status) {
    if (data) {
      if (typeof data.detail === "string") return data.detail;
      if (data.errors) return Object.keys(data.errors).map(function (k) { return data.errors[k]; }).join("；");
    }
    return "服务器拒绝（" + status + "）";
  }

  var syncing = null;
  var lastSent = 0;
  var retryable = false, backoff = 1000, retryTimer = null;
  function later() {
    // a temporary failure (5xx, network): try again soon, then less often (1 s doubling to 1 min)
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; sync(); }, backoff);
    backoff = Math.min(60000, backoff * 2);
  }
  function sync() {
    if (syncing) return syncing;
    if (!navigator.onLine) { render(); return Promise.resolve({ sent: 0 }); }
    var sent = 0;
    retryable = false;
    syncing = all().then(function (items) {
      var queue = items.filter(function (i) { return i.status === "pending"; });
      var step = function () {
        var item = queue.shift();
        if (!item) return;
        var req = request(item);
        if (!req) return step(); // waiting for its patrol
        return req.then(function (r) {
          var json = (r.headers.get("Content-Type") || "").indexOf("json") >= 0;
          if (r.ok && json && !r.redirected) { sent += 1; return remove(item.id).then(step); }
          return (json ? r.json().catch(function () { return null; }) : Promise.resolve(null)).then(function (data) {
            item.tries += 1;
            item.lastTry = new Date().toISOString();
            if (r.status >= 500 || TRANSIENT.indexOf(r.status) >= 0 && r.status !== 401 && r.status !== 403) {
              item.error = r.status === 429 ? "请求过多，稍后重试" : "服务器暂时不可用（" + r.status + "），稍后重试";
              retryable = true;
              return put(item);
            }
            if (r.ok || r.redirected || r.status === 401 || r.status === 403) {
              // the session expired (the answer is the login page) or the user may not send it: keep it
              item.error = "登录已过期或无权限：请重新登录，登录后自动上传";
              return put(item);
            }
            item.status = "failed"; // any other 4xx: the server refused the content, never retried (放弃)
            item.error = message(data, r.status);
            return put(item).then(step);
          });
        }, function () {
          item.error = "网络异常，稍后重试";
          retryable = true;
          return put(item);
        });
      };
      return step();
    }).catch(function () { /* IndexedDB unavailable */ }).then(function () {
      syncing = null;
      lastSent = sent;
      if (retryable) later();
      else backoff = 1000;
      render();
      document.documentElement.dataset.cgSynced = String((+document.documentElement.dataset.cgSynced || 0) + 1);
      return { sent: sent };
    });
    return syncing;
  }

  // --- the 待同步 panel ------------------------------------------------------------------------------
  function fixes() { return fixCount; }
  function fmt(iso) {
    var d = new Date(iso), p = function (n) { return ("0" + n).slice(-2); };
    return p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  function render() {
    if (!panel) return Promise.resolve();
    return fixStore.all().catch(function () { return []; }).then(all).then(function (items) {
      var pending = items.filter(function (i) { return i.status === "pending"; }).length;
      var failed = items.length - pending;
      var f = fixes();
      panel.hidden = !items.length && !f && navigator.onLine;
      panel.dataset.count = String(items.length);
      panel.dataset.pending = String(pending);
      panel.dataset.failed = String(failed);
      panel.querySelector("[data-cg=count]").textContent = String(items.length);
      panel.querySelector("[data-cg=net]").textContent = navigator.onLine ? "已联网" : "离线中";
      panel.classList.toggle("cg-sync-offline", !navigator.onLine);
      panel.querySelector("[data-cg=fixes]").textContent = f ? "另有 " + f + " 个轨迹点待上传" : "";
      panel.querySelector("[data-cg=last]").textContent = lastSent ? "刚刚上传 " + lastSent + " 项" : "";
      var list = panel.querySelector("[data-cg=list]");
      while (list.firstChild) list.removeChild(list.firstChild);
      items.forEach(function (i) {
        var li = document.createElement("li");
        li.className = "list-group-item small d-flex align-items-center gap-2" + (i.status === "failed" ? " list-group-item-danger" : "");
        li.dataset.kind = i.kind;
        li.dataset.status = i.status;
        var text = document.createElement("div");
        text.className = "flex-grow-1";
        var title = document.createElement("div");
        title.textContent = ({ "case": "问题上报：", visit: "入户走访：" }[i.kind] || "点位打卡：") + (i.label || "") + "（" + fmt(i.created) + "）";
        text.appendChild(title);
        if (i.error) {
          var err = document.createElement("div");
          err.className = i.status === "failed" ? "text-danger" : "text-muted";
          err.dataset.cg = "error";
          err.textContent = (i.status === "failed" ? "上传失败：" : "") + i.error;
          text.appendChild(err);
        }
        li.appendChild(text);
        if (i.status === "failed" || (i.error && i.tries >= 3)) { // refused, or refused again and again (403 …)
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "btn btn-sm btn-outline-danger text-nowrap flex-shrink-0";
          drop.textContent = "放弃";
          drop.dataset.cg = "discard";
          drop.addEventListener("click", function () {
            if (window.confirm("放弃这条记录？放弃后不会再上传。")) remove(i.id).then(render);
          });
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
    }).catch(function () {});
  }

  window.CGQueue = { add: add, all: all, remove: remove, sync: sync, render: render, uid: uid, fixes: fixStore };

  if (panel) {
    var btn = panel.querySelector("[data-cg=sync]");
    if (btn) btn.addEventListener("click", function () { sync(); });
  }
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { render(); });
  document.addEventListener("cg:patrol-ready", function () { sync(); });
  window.addEventListener("storage", function () { render(); });
  setInterval(function () { if (navigator.onLine) sync(); else render(); }, 20000);
  sync();

  // --- the service worker ----------------------------------------------------------------------------
  var swUrl = panel ? panel.dataset.sw : "";
  if (swUrl && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(swUrl, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = [location.pathname];
      document.querySelectorAll("[data-cg-warm]").forEach(function (a) { urls.push(a.getAttribute("href")); });
      // the grid outlines the report map checks a position against (network first, kept for offline)
      document.querySelectorAll("[data-outline-url]").forEach(function (m) { urls.push(m.dataset.outlineUrl); });
      if (!navigator.onLine || !reg.active) return;
      // the linked pages are fetched again at most every 10 minutes (this page itself is saved on every visit)
      var mark = "cg.warm:" + location.pathname;
      var last = +(sessionStorage.getItem(mark) || 0);
      if (Date.now() - last < 600000 && navigator.serviceWorker.controller) {
        document.documentElement.dataset.cgOffline = "ready";
        return;
      }
      var ch = new MessageChannel();
      ch.port1.onmessage = function (e) {
        try { sessionStorage.setItem(mark, String(Date.now())); } catch (err) { /* private mode */ }
        document.documentElement.dataset.cgOffline = "ready";
        document.documentElement.dataset.cgWarmed = String(e.data.pages);
      };
      reg.active.postMessage({ type: "warm", urls: urls }, [ch.port2]);
    }).catch(function () { /* no service worker: the page still works online */ });
    // logging out: forget the saved pages (they hold this user's data); the queue stays for the next login
    document.querySelectorAll("form[action$='/accounts/logout/']").forEach(function (f) {
      f.addEventListener("submit", function () {
        if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "clear" });
      });
    });
  }
})();
