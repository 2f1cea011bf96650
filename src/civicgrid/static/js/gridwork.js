/* 巡访打卡: the 网格员's patrol page (start/stop, GPS every N seconds while the page is open, the fixes kept in
   IndexedDB (CGQueue.fixes, static/js/offline.js) and uploaded in batches so a bad network or a closed page loses
   nothing; every fix and the patrol carry an id made here, so a batch
   sent twice is stored once), the point check-in form (position, distance to the point, the open patrol) and the
   track replay map. No HTML strings: text goes in by textContent, tooltips are CG.label() nodes (safe.js). */
(function () {
  "use strict";

  var STATE = "cg.gw.patrol"; // {id, clientId, started}
  // the GPS fixes [{id, patrol (clientId), t, lng, lat, acc}] live in IndexedDB: window.CGQueue.fixes
  var memory = []; // no IndexedDB (a very old browser): the fixes of this page view only
  var fixes = window.CGQueue ? window.CGQueue.fixes : {
    all: function () { return Promise.resolve(memory.slice()); },
    add: function (f) { memory.push(f); return Promise.resolve(); },
    drop: function (ids) { memory = memory.filter(function (f) { return ids.indexOf(f.id) < 0; }); return Promise.resolve(); },
  };
  var BATCH = 100;

  function uid() {
    var a = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function load(key, dflt) {
    try { var v = JSON.parse(localStorage.getItem(key)); return v === null ? dflt : v; } catch (e) { return dflt; }
  }
  function save(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage full: the fixes of this tick are lost, the rest stays */ }
  }
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function metres(lng1, lat1, lng2, lat2) {
    var r = 6371000, rad = Math.PI / 180;
    var dp = (lat2 - lat1) * rad, dl = (lng2 - lng1) * rad;
    var a = Math.pow(Math.sin(dp / 2), 2) + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.pow(Math.sin(dl / 2), 2);
    return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    });
  }
  function locate(done, fail, maxAge) {
    if (!navigator.geolocation) { if (fail) fail(); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { done(pos.coords); },
      function () { if (fail) fail(); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: maxAge === undefined ? 5000 : maxAge }
    );
  }

  // --- the patrol page -----------------------------------------------------------------------------
  var panel = document.getElementById("gw-panel");
  if (panel) {
    var api = panel.dataset.api;
    var interval = Math.max(1, parseInt(panel.dataset.interval, 10) || 30) * 1000;
    var el = function (id) { return document.getElementById(id); };
    var state = load(STATE, null);
    var sending = false, timer = null, clock = null, sent = 0;

    // offline, this page may be the copy the service worker saved earlier: the phone's own state is newer
    var fromCache = !navigator.onLine;
    if (panel.dataset.openId && !fromCache) {
      state = { id: parseInt(panel.dataset.openId, 10), clientId: panel.dataset.openClient, started: panel.dataset.openStarted };
      save(STATE, state);
    } else if (state && state.id && !state.stopping && !fromCache) {
      state = null; // closed elsewhere (or by the server): the queue still goes up below
      save(STATE, null);
    }
    var ids = load("cg.gw.ids", {}); // patrol clientId → server id (for fixes queued before the start answered)
    if (state && state.id) ids[state.clientId] = state.id;
    save("cg.gw.ids", ids);

    var show = function () {
      var on = !!(state && !state.stopping);
      el("gw-start").hidden = on;
      el("gw-stop").hidden = !on;
      el("gw-status").textContent = on ? (state.id ? "巡查中" : "巡查中（等待网络）") : "未开始巡查";
      el("gw-sent").textContent = String(sent);
      panel.dataset.state = on ? "on" : "off";
      fixes.all().then(function (q) {
        el("gw-queue").textContent = String(q.length);
        panel.dataset.queued = String(q.length);
      }).catch(function () {});
    };
    var tickClock = function () {
      if (!state || !state.started) { el("gw-clock").textContent = "00:00:00"; return; }
      var s = Math.max(0, Math.floor((Date.now() - new Date(state.started).getTime()) / 1000));
      var pad = function (n) { return ("0" + n).slice(-2); };
      el("gw-clock").textContent = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    };
    var sortPoints = function (c) {
      var list = el("gw-points");
      if (!list) return;
      var items = Array.prototype.slice.call(list.children);
      items.forEach(function (li) {
        var d = metres(c.longitude, c.latitude, parseFloat(li.dataset.lng), parseFloat(li.dataset.lat));
        li.dataset.dist = String(d);
        var near = d <= parseFloat(li.dataset.radius);
        li.querySelector(".gw-dist").textContent = (d < 1000 ? Math.round(d) + " 米" : (d / 1000).toFixed(1) + " 公里") + (near ? "（可打卡）" : "");
        li.classList.toggle("gw-near", near);
      });
      items.sort(function (a, b) { return parseFloat(a.dataset.dist) - parseFloat(b.dataset.dist); });
      items.forEach(function (li) { list.appendChild(li); });
    };

    var flush = function () {
      if (sending) return;
      sending = true;
      // fixes older than a week are refused by the server: let them go
      var weekAgo = Date.now() - 7 * 86400000;
      fixes.all().then(function (all) {
        var stale = all.filter(function (f) { return new Date(f.t).getTime() <= weekAgo; });
        var queue = all.filter(function (f) { return new Date(f.t).getTime() > weekAgo; });
        if (stale.length) fixes.drop(stale.map(function (f) { return f.id; }));
        var known = load("cg.gw.ids", {});
        var batch = [], pid = null;
        for (var i = 0; i < queue.length && batch.length < BATCH; i++) {
          var id = known[queue[i].patrol];
          if (!id) continue;
          if (pid === null) pid = id;
          if (id === pid) batch.push(queue[i]);
        }
        if (!batch.length) { sending = false; show(); return; }
        return post(api + "/patrols/" + pid + "/points", {
          points: batch.map(function (f) { return { id: f.id, t: f.t, lng: f.lng, lat: f.lat, acc: f.acc }; }),
        }).then(function (r) {
          // stored (2xx) or refused for good (4xx other than auth/limits): off the queue; else keep for later
          var drop = r.ok || (r.status >= 400 && r.status < 500 && [401, 403, 408, 429].indexOf(r.status) < 0);
          if (!drop) { sending = false; show(); return; }
          return fixes.drop(batch.map(function (f) { return f.id; })).then(function () {
            if (r.ok) sent += batch.length;
            sending = false;
            show();
            if (queue.length > batch.length) flush();
          });
        });
      }).catch(function () { sending = false; show(); });
    };

    var record = function () {
      locate(function (c) {
        el("gw-fix").textContent = "已定位（±" + Math.round(c.accuracy || 0) + " 米）";
        sortPoints(c);
        panel.dataset.lastLng = String(Math.round(c.longitude * 1e6) / 1e6);
        if (state && !state.stopping) {
          fixes.add({
            id: uid(), patrol: state.clientId, t: new Date().toISOString(),
            lng: Math.round(c.longitude * 1e6) / 1e6, lat: Math.round(c.latitude * 1e6) / 1e6,
            acc: c.accuracy === undefined ? null : c.accuracy,
          }).then(flush, flush);
        } else flush();
      }, function () {
        el("gw-fix").textContent = "定位失败，请允许定位权限";
        flush();
      }, Math.min(5000, interval / 2));
    };

    var ensureStarted = function () {
      if (!state || state.id) return;
      post(api + "/patrols/start", { client_id: state.clientId, started_at: state.started })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p || !state || state.clientId !== p.client_id) return;
          state.id = p.id;
          save(STATE, state);
          var known = load("cg.gw.ids", {});
          known[state.clientId] = p.id;
          save("cg.gw.ids", known);
          show();
          flush();
          document.dispatchEvent(new CustomEvent("cg:patrol-ready")); // check-ins queued offline can go up now
        })
        .catch(function () { /* retried on the next tick */ });
    };

    var run = function () {
      if (timer) clearInterval(timer);
      timer = setInterval(function () { ensureStarted(); record(); }, interval);
      if (!clock) clock = setInterval(tickClock, 1000);
      ensureStarted();
      record();
      tickClock();
    };

    el("gw-start").addEventListener("click", function () {
      state = { id: null, clientId: uid(), started: new Date().toISOString() };
      save(STATE, state);
      show();
      run();
    });

    var finishStop = function () {
      if (!state || !state.stopping) return;
      if (!state.id) { ensureStarted(); setTimeout(finishStop, interval); return; } // the start first (offline start)
      // the queued fixes go first, then the stop (retried until it arrives)
      fixes.all().then(function (all) {
        var pending = all.filter(function (f) { return f.patrol === state.clientId; });
        if (pending.length) { flush(); setTimeout(finishStop, navigator.onLine ? 1000 : interval); return; }
        sendStop();
      }, sendStop);
    };
    var sendStop = function () {
      if (!state || !state.stopping) return;
      post(api + "/patrols/" + state.id + "/stop", { ended_at: state.ended })
        .then(function (r) {
          if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 403 && r.status !== 401)) {
            state = null;
            save(STATE, null);
            el("gw-status").textContent = "巡查已结束";
            panel.dataset.state = "stopped";
            el("gw-start").hidden = false;
            el("gw-stop").hidden = true;
            tickClock();
            return;
          }
          setTimeout(finishStop, interval);
        })
        .catch(function () { setTimeout(finishStop, interval); });
    };

    el("gw-stop").addEventListener("click", function () {
      if (!state) return;
      if (timer) clearInterval(timer);
      timer = null;
      state.stopping = true;
      state.ended = new Date().toISOString();
      save(STATE, state);
      el("gw-status").textContent = "正在结束……";
      finishStop();
    });

    show();
    if (state && state.stopping) finishStop();
    else if (state) run();
    else {
      locate(function (c) { el("gw-fix").textContent = "已定位（±" + Math.round(c.accuracy || 0) + " 米）"; sortPoints(c); });
      flush(); // a queue left from an earlier page
    }
    window.addEventListener("online", flush);
  }

  // --- the check-in form ---------------------------------------------------------------------------
  var form = document.getElementById("gw-check-form");
  if (form) {
    var st = load(STATE, null);
    var patrolInput = document.getElementById("gw-patrol");
    if (st && st.id && !st.stopping && !patrolInput.value) patrolInput.value = String(st.id);
    // a fresh id per page view: a page served from the offline cache carries the id of the view it was saved from
    var clientInput = form.querySelector("input[name=client_id]");
    if (window.CGQueue && !form.querySelector("[data-testid=check-error]")) clientInput.value = uid();
    // no network: the check-in waits in the phone's queue (static/js/offline.js) and goes to the API later with
    // the same client_id (stored once); a patrol started offline is named by its phone id until its start arrives
    form.addEventListener("submit", function (e) {
      if (navigator.onLine || !window.CGQueue) return;
      e.preventDefault();
      var action = e.submitter && (e.submitter.value === "report" || e.submitter.value === "hazard") ? e.submitter.value : "check";
      var fd = new FormData(form);
      var num = function (v) { return v === null || v === "" ? null : parseFloat(v); };
      var score = fd.get("score");
      var cat = fd.get("category");
      var findings = String(fd.get("findings") || "").trim();
      var where = document.getElementById("gw-where");
      if (action !== "check" && findings.length < 4) {
        where.textContent = "上报工单请描述发现的问题（至少 4 个字）";
        return;
      }
      var now = load(STATE, null);
      var item = {
        id: "check-" + clientInput.value,
        kind: "check",
        label: (document.querySelector("[data-testid=check-point]") || {}).textContent + (action === "report" ? "（并上报问题）" : action === "hazard" ? "（并上报隐患）" : ""),
        url: form.dataset.api + "/checks",
        json: {
          client_id: clientInput.value,
          point: parseInt(form.dataset.point, 10),
          patrol: patrolInput.value ? parseInt(patrolInput.value, 10) : null,
          lng: num(fd.get("lng")),
          lat: num(fd.get("lat")),
          at: new Date().toISOString(),
          score: score ? parseInt(score, 10) : null,
          findings: findings,
          report: action !== "check",
          report_as: action === "hazard" ? "hazard" : "case",
          category: cat ? parseInt(cat, 10) : null,
        },
      };
      if (!item.json.patrol && now && !now.stopping) item.patrolClient = now.clientId;
      window.CGQueue.add(item).then(function () {
        window.location.assign(form.dataset.back);
      });
    });
    var where = document.getElementById("gw-where");
    var plng = parseFloat(form.dataset.lng), plat = parseFloat(form.dataset.lat), radius = parseFloat(form.dataset.radius);
    locate(function (c) {
      document.getElementById("gw-lng").value = String(Math.round(c.longitude * 1e6) / 1e6);
      document.getElementById("gw-lat").value = String(Math.round(c.latitude * 1e6) / 1e6);
      var d = Math.round(metres(c.longitude, c.latitude, plng, plat));
      where.textContent = d <= radius ? "已定位：距点位 " + d + " 米，在打卡范围内" : "已定位：距点位 " + d + " 米，超出打卡范围（" + radius + " 米），打卡不计为有效";
      form.dataset.located = d <= radius ? "near" : "far";
    }, function () {
      where.textContent = "无法定位：可以打卡，但不计为有效打卡";
      form.dataset.located = "none";
    });
  }

  // --- the track replay ----------------------------------------------------------------------------
  var mapEl = document.getElementById("gw-replay-map");
  if (mapEl && window.L && window.CGMap) {
    var map = CGMap.create(mapEl, { zoomControl: true });
    var IN = "#2e8b57", OUT = "#d62728";
    fetch(mapEl.dataset.outlineUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (g) {
        if (g) L.geoJSON(g, { style: { color: "#1d4e89", weight: 1, fillOpacity: 0.03 }, interactive: false }).addTo(map);
      })
      .catch(function () {});
    fetch(mapEl.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var pts = data.points;
        var group = L.featureGroup().addTo(map);
        for (var i = 0; i + 1 < pts.length; i++) {
          L.polyline([[pts[i].lat, pts[i].lng], [pts[i + 1].lat, pts[i + 1].lng]], {
            color: pts[i].inside ? IN : OUT, weight: 4, opacity: 0.85,
          }).addTo(group);
        }
        data.checks.forEach(function (c) {
          L.circleMarker([c.lat, c.lng], { radius: 7, color: "#333", weight: 1, fillColor: c.valid ? "#f2c500" : "#999", fillOpacity: 0.95 })
            .bindTooltip(CG.label(c.point + "（" + c.kind + "）", c.t.slice(11, 16) + (c.valid ? " 有效打卡" : " 无效打卡") + (c.score !== null ? " · " + c.score + "分" : ""), c.case ? "上报工单 " + c.case : ""))
            .addTo(group);
        });
        if (pts.length) {
          L.circleMarker([pts[0].lat, pts[0].lng], { radius: 6, color: "#fff", weight: 2, fillColor: IN, fillOpacity: 1 }).bindTooltip("起点").addTo(group);
        }
        if (group.getLayers().length) map.fitBounds(group.getBounds(), { padding: [20, 20], maxZoom: 18 });
        else map.setView([30.27, 120.15], 14);
        mapEl.dataset.loaded = String(pts.length);
        var slider = document.getElementById("gw-slider");
        var label = document.getElementById("gw-time");
        var marker = pts.length ? L.circleMarker([pts[0].lat, pts[0].lng], { radius: 8, color: "#fff", weight: 2, fillColor: "#1d4e89", fillOpacity: 1 }).addTo(map) : null;
        slider.max = String(Math.max(0, pts.length - 1));
        var at = function (i) {
          if (!marker) return;
          var p = pts[i];
          marker.setLatLng([p.lat, p.lng]);
          label.textContent = p.t.slice(11, 19) + (p.inside ? " 网格内" : " 网格外");
          slider.value = String(i);
          mapEl.dataset.frame = String(i);
        };
        if (pts.length) at(0);
        slider.addEventListener("input", function () { at(parseInt(slider.value, 10)); });
        var playing = null;
        document.getElementById("gw-play").addEventListener("click", function () {
          if (playing) { clearInterval(playing); playing = null; return; }
          var i = parseInt(slider.value, 10);
          if (i >= pts.length - 1) i = 0;
          var step = Math.max(1, Math.round(pts.length / 200));
          playing = setInterval(function () {
            i = Math.min(pts.length - 1, i + step);
            at(i);
            if (i >= pts.length - 1) { clearInterval(playing); playing = null; mapEl.dataset.played = "1"; }
          }, 60);
        });
      });
  }
})();
