// "Wie bekeek mijn gegevens?": the citizen's browser remembers the last checkpoint it verified
// and, on the next visit, checks that the log only grew since (RFC 9162 §2.1.4 consistency
// proof, SHA-256 and Ed25519 through WebCrypto). Progressive enhancement: without JavaScript
// (or WebCrypto) the page works as before and this box stays hidden.
// Formats: C2SP tlog-checkpoint / signed-note (audit/checkpoint.py), /v1/log/consistency.
(function () {
  "use strict";
  var box = document.getElementById("logcontrole");
  if (!box || !window.crypto || !window.crypto.subtle || !window.localStorage || !window.fetch) { return; }
  var text = document.getElementById("logcontrole-tekst");
  var STORE = "loket-logboek-stand-v1";
  var enc = new TextEncoder();

  function show(kind, message) {
    box.hidden = false;
    box.setAttribute("data-state", kind);
    text.textContent = message;
  }
  function b64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function tob64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s);
  }
  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    var d = 0;
    for (var i = 0; i < a.length; i++) { d |= a[i] ^ b[i]; }
    return d === 0;
  }
  function concat(parts) {
    var n = 0, i, off = 0;
    for (i = 0; i < parts.length; i++) { n += parts[i].length; }
    var out = new Uint8Array(n);
    for (i = 0; i < parts.length; i++) { out.set(parts[i], off); off += parts[i].length; }
    return out;
  }
  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }
  function node(l, r) { return sha256(concat([new Uint8Array([1]), l, r])); } // RFC 9162 §2.1.1

  // C2SP signed note: the text before the last blank line is signed (as Go's note.Open).
  function parseNote(note) {
    var cut = note.lastIndexOf("\n\n");
    if (cut < 0) { throw new Error("geen handtekening"); }
    var body = note.slice(0, cut + 1), lines = body.split("\n");
    if (lines.length < 4 || !/^(0|[1-9][0-9]{0,15})$/.test(lines[1])) { throw new Error("geen checkpoint"); }
    var root = b64(lines[2]);
    if (root.length !== 32) { throw new Error("geen checkpoint"); }
    var sigs = note.slice(cut + 2).split("\n").filter(function (l) { return l.length; });
    return { body: body, origin: lines[0], size: parseInt(lines[1], 10), root: root, sigs: sigs };
  }
  function verifySignature(cp, vkey) {
    var parts = vkey.trim().split("+");
    var name = parts[0], id = parts[1], raw = b64(parts.slice(2).join("+"));
    if (raw.length !== 33 || raw[0] !== 1) { return Promise.reject(new Error("sleutel")); }
    var line = cp.sigs.filter(function (l) { return l.indexOf("\u2014 " + name + " ") === 0; })
      .map(function (l) { return b64(l.slice(name.length + 3)); })
      .filter(function (blob) {
        var hex = "";
        for (var i = 0; i < 4; i++) { hex += ("0" + blob[i].toString(16)).slice(-2); }
        return blob.length === 68 && hex === id;
      })[0];
    if (!line) { return Promise.reject(new Error("niet ondertekend")); }
    return crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) { return crypto.subtle.verify({ name: "Ed25519" }, key, line.slice(4), enc.encode(cp.body)); })
      .then(function (ok) { if (!ok) { throw new Error("handtekening klopt niet"); } });
  }

  // RFC 9162 §2.1.4.2 (as audit/merkle.py verify_consistency).
  function verifyConsistency(m, n, oldRoot, newRoot, proof) {
    if (m === n) { return Promise.resolve(proof.length === 0 && equal(oldRoot, newRoot)); }
    if (m < 1 || m > n || proof.length === 0) { return Promise.resolve(false); }
    var path = proof.slice();
    if ((m & (m - 1)) === 0) { path.unshift(oldRoot); }
    var fn = m - 1, sn = n - 1;
    while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    var fr = path[0], sr = path[0], i = 1;
    function step() {
      if (i >= path.length) {
        return Promise.resolve(sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot));
      }
      var c = path[i++];
      if (sn === 0) { return Promise.resolve(false); }
      if (fn % 2 === 1 || fn === sn) {
        return Promise.all([node(c, fr), node(c, sr)]).then(function (h) {
          fr = h[0]; sr = h[1];
          if (fn % 2 === 0) { while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
          fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
          return step();
        });
      }
      return node(sr, c).then(function (h) {
        sr = h; fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
        return step();
      });
    }
    return step();
  }

  var FAIL = "Let op: het logboek klopt niet met wat uw browser bij uw vorige bezoek zag. " +
    "Dat kan betekenen dat er iets in het logboek is veranderd of uit is weggehaald. " +
    "Neem contact op met de functionaris gegevensbescherming (FG) van uw gemeente en vertel dat " +
    "deze controle mislukte";
  function get(url, json) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error("niet bereikbaar"); }
      return json ? r.json() : r.text();
    });
  }

  var seen = null;
  try { seen = JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { seen = null; }
  Promise.all([get(box.getAttribute("data-checkpoint-url")), get(box.getAttribute("data-key-url"))])
    .then(function (got) {
      var cp = parseNote(got[0]), vkey = got[1].trim();
      return verifySignature(cp, vkey).then(function () {
        var keep = function (message) {
          localStorage.setItem(STORE, JSON.stringify({ origin: cp.origin, size: cp.size, root: tob64(cp.root), vkey: vkey }));
          show("ok", message);
        };
        if (!seen || seen.origin !== cp.origin) {
          return keep("Uw browser heeft het logboek gecontroleerd en onthoudt hoe het er nu uitziet (" + cp.size +
            " regels). Bij uw volgende bezoek controleert uw browser dat er sindsdien niets is veranderd of weggehaald.");
        }
        if (cp.size < seen.size) { return show("fout", FAIL + " (het logboek is korter dan bij uw vorige bezoek)."); }
        var proof = cp.size === seen.size ? Promise.resolve({ hashes: [] })
          : get(box.getAttribute("data-consistency-url") + "?first=" + seen.size + "&second=" + cp.size, true);
        return proof.then(function (p) {
          return verifyConsistency(seen.size, cp.size, b64(seen.root), cp.root, p.hashes.map(b64));
        }).then(function (ok) {
          if (!ok) { return show("fout", FAIL + "."); }
          var extra = seen.vkey && seen.vkey !== vkey ? " Het logboek gebruikt sinds uw vorige bezoek een nieuwe sleutel." : "";
          return keep("Uw browser heeft gecontroleerd dat het logboek sinds uw vorige bezoek (" + seen.size +
            " regels) alleen is aangevuld: er is niets veranderd of weggehaald. Nu: " + cp.size + " regels." + extra);
        });
      });
    })
    .catch(function () {
      show("fout", FAIL + ": de handtekening of het bewijs van het logboek kon niet worden gecontroleerd.");
    });
})();
