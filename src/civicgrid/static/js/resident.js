/* 随手拍 / 网格员上报 (phone pages): tap-to-locate map over grid outlines (no tile server), the phone's position,
   photos resized in the browser (canvas, ≤ 1600 px) before upload, and a fetch() submit with per-field errors.
   Without JavaScript the form still posts normally; the server validates everything either way. */
(function () {
  "use strict";
  var form = document.getElementById("rs-form");
  if (!form) return;

  var MAX_EDGE = 1600;
  var MAX_PHOTOS = parseInt(form.dataset.maxPhotos || "4", 10);
  var lngInput = document.getElementById("rs-lng");
  var latInput = document.getElementById("rs-lat");
  var where = document.getElementById("rs-where");
  var outsideText = form.dataset.outsideText || "该位置不在本街道的网格范围内，请在有颜色的网格内点选";

  // --- map ------------------------------------------------------------------------------------------
  var mapEl = document.getElementById("rs-map");
  var map = null, marker = null, polygons = [];

  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function polygonContains(rings, x, y) {
    if (!ringContains(rings[0], x, y)) return false;
    for (var k = 1; k < rings.length; k++) if (ringContains(rings[k], x, y)) return false;
    return true;
  }
  function insideGrids(lng, lat) {
    if (!polygons.length) return true; // outlines not loaded: let the server decide
    return polygons.some(function (p) { return polygonContains(p, lng, lat); });
  }

  function setWhere(text, cls) {
    if (!where) return;
    where.textContent = text;
    where.className = "rs-where" + (cls ? " " + cls : "");
  }

  function setPoint(lng, lat, how) {
    if (!insideGrids(lng, lat)) {
      setWhere(outsideText, "is-warn");
      return false;
    }
    lngInput.value = lng.toFixed(6);
    latInput.value = lat.toFixed(6);
    if (map) {
      var ll = [lat, lng];
      if (!marker) marker = L.marker(ll, { keyboard: false }).addTo(map);
      else marker.setLatLng(ll);
    }
    setWhere("✓ 已" + how + "（" + lng.toFixed(5) + ", " + lat.toFixed(5) + "）", "is-set");
    clearError("location");
    return true;
  }

  if (mapEl && window.L && window.CGMap) {
    L.Icon.Default.imagePath = (mapEl.dataset.leafletImages || "/static/vendor/leaflet/images/");
    map = CGMap.create(mapEl, { zoomControl: true, tap: true });
    var center = (mapEl.dataset.center || "").split(",").map(Number);
    if (center.length === 2 && !isNaN(center[0])) map.setView([center[1], center[0]], 14);
    else map.setView([30.27, 120.15], 13);
    fetch(mapEl.dataset.outlineUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        (fc.features || []).forEach(function (f) {
          var g = f.geometry || {};
          if (g.type === "Polygon") polygons.push(g.coordinates);
          else if (g.type === "MultiPolygon") g.coordinates.forEach(function (p) { polygons.push(p); });
        });
        var layer = L.geoJSON(fc, {
          interactive: false,
          style: function (f) {
            var dedicated = f.properties && f.properties.kind === "dedicated";
            return { color: "#1d4e89", weight: dedicated ? 1 : 1.2, dashArray: dedicated ? "3 3" : null,
                     fillColor: "#4f86c6", fillOpacity: dedicated ? 0.25 : 0.12 };
          },
        }).addTo(map);
        if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
        if (fc.center && !(center.length === 2 && !isNaN(center[0])) && !layer.getLayers().length)
          map.setView([fc.center[1], fc.center[0]], 14);
        mapEl.dataset.loaded = String(polygons.length);
        if (lngInput.value && latInput.value) setPoint(parseFloat(lngInput.value), parseFloat(latInput.value), "选择位置");
      })
      .catch(function () { mapEl.dataset.loaded = "error"; });
    map.on("click", function (e) { setPoint(e.latlng.lng, e.latlng.lat, "在地图上选择位置"); });
  }

  var locateBtn = document.getElementById("rs-locate");
  if (locateBtn) {
    locateBtn.addEventListener("click", function () {
      if (!navigator.geolocation) { setWhere("此浏览器不支持定位，请在地图上点选问题位置", "is-warn"); return; }
      locateBtn.disabled = true;
      setWhere("正在定位…");
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          locateBtn.disabled = false;
          var lng = pos.coords.longitude, lat = pos.coords.latitude;
          if (setPoint(lng, lat, "使用手机定位") && map) map.setView([lat, lng], Math.max(map.getZoom(), 16));
        },
        function () {
          locateBtn.disabled = false;
          setWhere("无法获取定位（未授权或信号弱），请在地图上点选问题位置", "is-warn");
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- photos ---------------------------------------------------------------------------------------
  var photoInput = document.getElementById("rs-photo-input");
  var photoGrid = document.getElementById("rs-photos");
  var addTile = document.getElementById("rs-photo-add");
  var photos = []; // {file: File (resized or original), exif: Blob|null, url, pending: Promise}

  function loadImage(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      var url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () { return loadImage(file); });
    }
    return loadImage(file);
  }

  function resize(file) {
    return decode(file).then(function (img) {
      var w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
      var scale = Math.min(1, MAX_EDGE / Math.max(w, h));
      var cw = Math.max(1, Math.round(w * scale)), ch = Math.max(1, Math.round(h * scale));
      var canvas = document.createElement("canvas");
      canvas.width = cw; canvas.height = ch;
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, cw, ch);
      ctx.drawImage(img, 0, 0, cw, ch);
      if (img.close) img.close();
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (!blob) { reject(new Error("encode")); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", 0.85);
      });
    });
  }

  // The canvas copy has no EXIF. Keep the original's raw EXIF segment (APP1) so that, when the phone gave no
  // position, the server can read the photo's GPS from it; the server never stores it.
  function exifSegment(file) {
    if (!/jpe?g$/i.test(file.type || "") && !/\.jpe?g$/i.test(file.name || "")) return Promise.resolve(null);
    return file.slice(0, 262144).arrayBuffer().then(function (ab) {
      var b = new Uint8Array(ab);
      if (b[0] !== 0xff || b[1] !== 0xd8) return null;
      var i = 2;
      while (i + 4 <= b.length) {
        if (b[i] !== 0xff) return null;
        var marker = b[i + 1];
        if (marker === 0xda || marker === 0xd9) return null;
        var len = (b[i + 2] << 8) | b[i + 3];
        if (marker === 0xe1 && i + 2 + len <= b.length &&
            b[i + 4] === 0x45 && b[i + 5] === 0x78 && b[i + 6] === 0x69 && b[i + 7] === 0x66) {
          return new Blob([b.slice(i + 4, i + 2 + len)], { type: "application/octet-stream" });
        }
        i += 2 + len;
      }
      return null;
    }).catch(function () { return null; });
  }

  function renderPhotos() {
    photoGrid.querySelectorAll(".rs-photo").forEach(function (n) { n.remove(); });
    photos.forEach(function (p, idx) {
      var tile = document.createElement("div");
      tile.className = "rs-photo";
      var img = document.createElement("img");
      img.alt = "照片 " + (idx + 1);
      img.onerror = function () {
        var note = document.createElement("div");
        note.className = "rs-photo-broken";
        note.textContent = "无法预览（" + (p.file.name || "文件") + "）";
        img.replaceWith(note);
      };
      img.src = p.url;
      tile.appendChild(img);
      if (!p.ready) {
        var busy = document.createElement("div");
        busy.className = "rs-photo-busy";
        busy.textContent = "处理中…";
        tile.appendChild(busy);
      }
      var rm = document.createElement("button");
      rm.type = "button";
      rm.className = "rs-photo-remove";
      rm.setAttribute("aria-label", "删除照片 " + (idx + 1));
      rm.textContent = "×";
      rm.addEventListener("click", function () {
        URL.revokeObjectURL(p.url);
        photos.splice(photos.indexOf(p), 1);
        renderPhotos();
      });
      tile.appendChild(rm);
      photoGrid.insertBefore(tile, addTile);
    });
    addTile.classList.toggle("is-full", photos.length >= MAX_PHOTOS);
    photoGrid.dataset.count = String(photos.length);
  }

  if (photoInput && photoGrid) {
    photoInput.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(photoInput.files || []);
      photoInput.value = "";
      var room = MAX_PHOTOS - photos.length;
      if (chosen.length > room) showErrors({ photos: "照片：最多上传 " + MAX_PHOTOS + " 张，多选的已忽略" });
      else clearError("photos");
      chosen.slice(0, Math.max(room, 0)).forEach(function (original) {
        var p = { file: original, exif: null, url: URL.createObjectURL(original), ready: false };
        p.pending = Promise.all([
          resize(original).catch(function () { return original; }), // undecodable here: the server explains
          exifSegment(original),
        ]).then(function (res) {
          p.file = res[0];
          p.exif = res[1];
          p.ready = true;
          if (res[0] !== original) { URL.revokeObjectURL(p.url); p.url = URL.createObjectURL(res[0]); }
          renderPhotos();
        });
        photos.push(p);
      });
      renderPhotos();
    });
  }

  // --- errors ---------------------------------------------------------------------------------------
  var summary = document.getElementById("rs-summary");
  var summaryList = document.getElementById("rs-summary-list");

  function clearError(field) {
    var el = form.querySelector('[data-error-for="' + field + '"]');
    if (el) el.textContent = "";
    var box = form.querySelector('[data-field="' + field + '"]');
    if (box) box.classList.remove("rs-invalid");
  }

  function showErrors(errors) {
    var keys = Object.keys(errors);
    summaryList.replaceChildren();
    keys.forEach(function (k) {
      var li = document.createElement("li");
      li.textContent = errors[k];
      summaryList.appendChild(li);
      var el = form.querySelector('[data-error-for="' + k + '"]') || form.querySelector('[data-error-for="form"]');
      if (el) el.textContent = errors[k];
      var box = form.querySelector('[data-field="' + k + '"]');
      if (box) box.classList.add("rs-invalid");
    });
    summary.hidden = keys.length === 0;
  }

  function showChallenge(ch) {
    var box = document.getElementById("rs-challenge");
    if (!box || !ch) return;
    box.hidden = false;
    document.getElementById("rs-challenge-question").textContent = ch.question;
    document.getElementById("rs-challenge-token").value = ch.token;
    document.getElementById("rs-challenge-answer").value = "";
  }

  // --- submit ---------------------------------------------------------------------------------------
  var submitBtn = document.getElementById("rs-submit");
  var submitText = submitBtn ? submitBtn.textContent : "";

  // offline (网格员 /field/, static/js/offline.js): the report waits in the phone's queue, photos as Blobs; the
  // idempotency key goes with it, so a report sent twice is filed once
  var queueable = form.dataset.offlineQueue === "1" && !!window.CGQueue;
  var queuedNote = document.getElementById("rs-queued");
  function offlineErrors(fd) {
    var errors = {};
    if (!photos.length) errors.photos = "照片：请至少拍一张现场照片";
    if (String(fd.get("description") || "").trim().length < 4) errors.description = "问题描述：请至少写 4 个字";
    if (!fd.get("category")) errors.category = "问题分类：请选择问题分类";
    if ((!fd.get("lng") || !fd.get("lat")) && !fd.get("exif")) errors.location = "位置：请点“使用我的位置”或在地图上点选问题位置";
    return errors;
  }
  function queueReport(fd) {
    var errors = offlineErrors(fd);
    if (Object.keys(errors).length) return { ok: false, errors: errors };
    var fields = [];
    fd.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return; // sent as a header at sync time (the token may change)
      if (typeof value === "string") fields.push({ name: name, value: value });
      else fields.push({ name: name, blob: value, filename: value.name || "photo.jpg" });
    });
    var keyInput = form.querySelector("input[name=idempotency_key]");
    var cat = document.getElementById("rs-category");
    var label = (cat && cat.value ? cat.options[cat.selectedIndex].text.replace(/^\s+|\s+$/g, "") + " · " : "") +
      String(fd.get("description") || "").trim().slice(0, 24);
    return window.CGQueue.add({ id: "case-" + keyInput.value, kind: "case", url: form.action, fields: fields, label: label })
      .then(function () {
        keyInput.value = window.CGQueue.uid(); // the next report is a new one
        document.getElementById("rs-description").value = "";
        photos.forEach(function (p) { URL.revokeObjectURL(p.url); });
        photos.length = 0;
        renderPhotos();
        if (queuedNote) {
          queuedNote.hidden = false;
          queuedNote.textContent = "当前没有网络：这条上报已保存在手机里（见“待同步”），联网后自动上传。可以继续上报下一条。";
          queuedNote.scrollIntoView({ block: "start" });
        }
        submitBtn.disabled = false;
        submitBtn.textContent = submitText;
        return { queued: true };
      });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll(".rs-invalid").forEach(function (el) { el.classList.remove("rs-invalid"); });
    summary.hidden = true;
    submitBtn.disabled = true;
    submitBtn.textContent = photos.length ? "正在处理照片…" : "正在提交…";
    Promise.all(photos.map(function (p) { return p.pending; }))
      .then(function () {
        submitBtn.textContent = "正在提交…";
        var fd = new FormData(form);
        fd.delete("photos");
        fd.delete("exif");
        photos.forEach(function (p) { fd.append("photos", p.file, p.file.name); });
        if (!lngInput.value || !latInput.value) {
          var withExif = photos.filter(function (p) { return p.exif; })[0];
          if (withExif) fd.append("exif", withExif.exif, "exif.bin");
        }
        var token = (form.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
        if (queueable && !navigator.onLine) return queueReport(fd);
        return fetch(form.action, {
          method: "POST",
          body: fd,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": token },
        }).then(function (r) {
          return r.json().catch(function () { return { ok: false, errors: { form: "提交失败（服务器错误 " + r.status + "），请稍后重试" } }; });
        }, function (err) {
          if (queueable) return queueReport(fd); // the network failed: keep the report on the phone
          throw err;
        });
      })
      .then(function (data) {
        if (data.queued) return;
        if (data.ok) {
          submitBtn.textContent = "提交成功，正在跳转…";
          window.location.assign(data.redirect || data.tracking_url);
          return;
        }
        showErrors(data.errors || { form: "提交失败，请稍后重试" });
        if (data.challenge) showChallenge(data.challenge);
        submitBtn.disabled = false;
        submitBtn.textContent = submitText;
        summary.scrollIntoView({ behavior: "smooth", block: "start" });
      })
      .catch(function () {
        showErrors({ form: "网络异常，提交没有成功，请检查网络后重试" });
        submitBtn.disabled = false;
        submitBtn.textContent = submitText;
      });
  });
})();
