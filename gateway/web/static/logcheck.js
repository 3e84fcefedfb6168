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

  // Witnesses (C2SP tlog-cosignature, as audit/witness.py): a policy of "witness <name> <vkey>"
  // lines and "quorum <k>"; a cosignature line is "— <name> " + base64(key id (4) ||
  // uint64be(time) || Ed25519 over "cosignature/v1\ntime <t>\n" + the checkpoint body).
  function parsePolicy(text) {
    var out = { witnesses: [], quorum: null };
    text.split("\n").forEach(function (raw) {
      var words = raw.split("#")[0].trim().split(/\s+/);
      if (words[0] === "witness" && words.length >= 3) {
        var parts = words[2].split("+");
        var key = b64(parts.slice(2).join("+"));
        if (parts[0] === words[1] && key.length === 33 && key[0] === 4) {
          out.witnesses.push({ name: parts[0], id: parts[1], key: key.slice(1) });
        }
      } else if (words[0] === "quorum" && /^[0-9]+$/.test(words[1] || "")) {
        out.quorum = parseInt(words[1], 10);
      }
    });
    if (out.quorum === null) { throw new Error("geen quorum"); }
    return out;
  }
  function hex4(blob) {
    var hex = "";
    for (var i = 0; i < 4; i++) { hex += ("0" + blob[i].toString(16)).slice(-2); }
    return hex;
  }
  // Resolves to the names of the distinct policy witnesses whose cosignature verifies.
  function cosigners(cp, policy) {
    var seen = {};
    return Promise.all(policy.witnesses.map(function (w) {
      var blobs = cp.sigs.filter(function (l) { return l.indexOf("\u2014 " + w.name + " ") === 0; })
        .map(function (l) { try { return b64(l.slice(w.name.length + 3)); } catch (e) { return new Uint8Array(0); } })
        .filter(function (blob) { return blob.length === 76 && hex4(blob) === w.id; });
      if (!blobs.length) { return Promise.resolve(null); }
      var blob = blobs[0];
      var time = new DataView(blob.buffer, blob.byteOffset + 4, 8).getBigUint64(0).toString();
      var msg = enc.encode("cosignature/v1\ntime " + time + "\n" + cp.body);
      return crypto.subtle.importKey("raw", w.key, { name: "Ed25519" }, false, ["verify"])
        .then(function (key) { return crypto.subtle.verify({ name: "Ed25519" }, key, blob.slice(12), msg); })
        .then(function (ok) { return ok ? w.name + "+" + w.id : null; }, function () { return null; });
    })).then(function (found) {
      var names = [];
      found.forEach(function (k) { if (k && !seen[k]) { seen[k] = true; names.push(k.split("+")[0]); } });
      return names;
    });
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
      if (!r.ok) { var e = new Error("niet bereikbaar"); e.status = r.status; throw e; }
      return json ? r.json() : r.text();
    });
  }
  var UNWITNESSED = "Het logboek is nog niet bevestigd door genoeg onafhankelijke getuigen";
  var policyUrl = box.getAttribute("data-witness-policy-url");

  var seen = null;
  try { seen = JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { seen = null; }
  Promise.all([get(box.getAttribute("data-checkpoint-url")), get(box.getAttribute("data-key-url")),
               policyUrl ? get(policyUrl) : Promise.resolve(null)])
    .then(function (got) {
      var cp = parseNote(got[0]), vkey = got[1].trim(), policyText = got[2];
      var policy = policyText === null ? null : parsePolicy(policyText);
      return verifySignature(cp, vkey).then(function () {
        return policy ? cosigners(cp, policy) : [];
      }).then(function (names) {
        // fail-closed: with witnesses configured, a checkpoint without the quorum is not shown
        // as verified and not remembered.
        if (policy && names.length < policy.quorum) {
          return show("onbevestigd", UNWITNESSED + " (" + names.length + " van de " + policy.quorum +
            "). Uw browser heeft het daarom niet als gecontroleerd opgeslagen.");
        }
        var witnessed = policy ? " Onafhankelijke getuigen (" + names.join(", ") + ") hebben deze stand bevestigd." : "";
        if (policy && seen && seen.policy && seen.policy !== policyText.trim()) {
          witnessed += " De lijst met getuigen is veranderd sinds uw vorige bezoek.";
        }
        var keep = function (message) {
          localStorage.setItem(STORE, JSON.stringify({ origin: cp.origin, size: cp.size, root: tob64(cp.root), vkey: vkey,
                                                       policy: policyText === null ? null : policyText.trim() }));
          show("ok", message + witnessed);
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
    .catch(function (e) {
      if (policyUrl && e && e.status === 404) {
        return show("onbevestigd", UNWITNESSED + ". Uw browser heeft het daarom niet als gecontroleerd opgeslagen.");
      }
      show("fout", FAIL + ": de handtekening of het bewijs van het logboek kon niet worden gecontroleerd.");
    });
})();
