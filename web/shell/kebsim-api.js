// window.kebSim: the page's JavaScript API over the wasm simulator (tests and power users).
//   await kebSimReady                       -> resolves when the wasm runtime is up
//   await kebSim.runScenario(jsonText[, seed[, name]]) -> summary object, as `keb-sim run --report` writes
//   kebSim.loadScenario(jsonText[, seed[, fleetSize[, name]]]) -> loads into the UI (interactive playback)
//   kebSim.scenarios()                      -> names of the bundled scenarios
//   kebSim.scenarioText(name)               -> JSON text of a bundled scenario
//   kebSim.api(method, path, body)          -> {status, body}: the core's API router, as a client
//   kebSim.state()                          -> playback state (time, speed, playing, fleet size...)
//   kebSim.setSpeed(x), play(), pause(), step(), jumpTo(rfc3339)
//   kebSim.frameStats(), kebSim.resetFrameStats()
//   kebSim.palette()                        -> fleet map colors per cell state
//   kebSim.widgetRect(label)                -> {x,y,w,h} in CSS pixels of a UI widget (for clicks)
//   kebSim.pendingInput()                   -> input events ImGui still holds back (it feeds a few per frame)
(function () {
  'use strict';
  var resolveReady;
  window.kebSimReady = new Promise(function (r) { resolveReady = r; });

  function call(name, args) {
    // args: strings or numbers; strings are copied into the wasm heap and freed after the call.
    var M = Module, ptrs = [], cargs = [];
    for (var i = 0; i < args.length; i++) {
      var a = args[i];
      if (typeof a === 'string') {
        var n = M.lengthBytesUTF8(a) + 1, p = M._malloc(n);
        M.stringToUTF8(a, p, n);
        ptrs.push(p); cargs.push(p);
      } else {
        cargs.push(a);
      }
    }
    try {
      var out = M['_' + name].apply(null, cargs);
      return M.UTF8ToString(out);
    } finally {
      for (var j = 0; j < ptrs.length; j++) M._free(ptrs[j]);
    }
  }
  function callJson(name, args) {
    var text = call(name, args);
    var v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.error === 'string') {
      throw new Error(v.error);
    }
    return v;
  }
  function seedArgs(seed) {
    // seed: undefined -> the scenario's own seed; numbers/strings -> decimal text (64-bit safe).
    return seed === undefined || seed === null ? '' : String(seed);
  }

  var api = {
    // name: the scenario's file name as keb-sim would be given it (only used in messages).
    runScenario: function (jsonText, seed, name) {
      return new Promise(function (resolve, reject) {
        // Let the page paint once before a long synchronous run.
        setTimeout(function () {
          try { resolve(callJson('keb_run_scenario', [String(jsonText), seedArgs(seed), name ? String(name) : ''])); }
          catch (e) { reject(e); }
        }, 0);
      });
    },
    loadScenario: function (jsonText, seed, fleetSize, name) {
      return callJson('keb_load_scenario', [String(jsonText), seedArgs(seed),
        fleetSize === undefined || fleetSize === null ? '' : String(fleetSize), name ? String(name) : '']);
    },
    scenarios: function () { return callJson('keb_bundled_scenarios', []); },
    scenarioText: function (name) {
      var v = callJson('keb_bundled_scenario_text', [String(name)]);
      return v.text;
    },
    api: function (method, path, body) {
      return JSON.parse(call('keb_api', [String(method), String(path), body === undefined ? '' :
        (typeof body === 'string' ? body : JSON.stringify(body))]));
    },
    state: function () { return callJson('keb_state', []); },
    setSpeed: function (x) { return callJson('keb_control', ['speed', String(x)]); },
    play: function () { return callJson('keb_control', ['play', '']); },
    pause: function () { return callJson('keb_control', ['pause', '']); },
    step: function () { return callJson('keb_control', ['step', '']); },
    jumpTo: function (t) { return callJson('keb_control', ['jump', String(t)]); },
    setPanelFleetSize: function (n) { return callJson('keb_control', ['panelFleetSize', String(n)]); },
    inject: function (kind) { return callJson('keb_control', ['inject', String(kind)]); },
    frameStats: function () { return callJson('keb_frame_stats', []); },
    resetFrameStats: function () { return callJson('keb_control', ['resetFrameStats', '']); },
    widgetRect: function (label) {
      var r = callJson('keb_widget_rect', [String(label)]);
      return r.found ? r : null;
    },
    widgets: function () { return callJson('keb_widgets', []); },
    pendingInput: function () { return callJson('keb_pending_input', []).events; },
    palette: function () { return callJson('keb_palette', []); },
    // Live mode: state().live has what the live panels show.
    liveAvailable: function () { return !!api.state().liveAvailable; },
    // Internal: the file picker / clipboard of the Scenario panel hand their text back here.
    _textArrived: function (text, name, kind) { return call('keb_ui_text_arrived', [String(text), String(name), kind | 0]); },
  };

  // Live mode (SPEC 12): HTTP to the server that served the page, for web/src/live.cpp.
  // The answer (status, body text) goes back into the wasm through keb_live_response.
  Module.kebFetch = function (id, method, path, body, ctype, token) {
    var headers = {};
    if (token) headers['Authorization'] = 'Bearer ' + token;
    if (body && ctype) headers['Content-Type'] = ctype;
    var init = { method: method, headers: headers, cache: 'no-store' };
    if (body && method !== 'GET') init.body = body;
    fetch(path, init).then(function (r) {
      return r.text().then(function (t) { call('keb_live_response', [id, r.status, t]); });
    }, function (e) {
      call('keb_live_response', [id, 0, JSON.stringify({ error: 'network error: ' + String(e && e.message || e) })]);
    });
  };
  // The token lives in sessionStorage (this tab's session only), never in localStorage.
  Module.kebRememberToken = function (token) {
    try { if (token) sessionStorage.setItem('kebToken', token); else sessionStorage.removeItem('kebToken'); } catch (e) {}
  };

  // Called by main() (web/src/main.cpp) once the app is initialised.
  Module.kebAppReady = function () {
    window.kebSim = api;
    var s = document.getElementById('status');
    if (s) s.remove();
    resolveReady(api);
    // Served by keb-server? Its static files carry X-Keb-Server (a plain static server's do not);
    // asking for the page itself never produces a 404 in the console.
    fetch(location.href.split('#')[0], { cache: 'no-store' }).then(function (r) {
      if (!r.ok || r.headers.get('X-Keb-Server') !== '1') return;
      var t = '';
      try { t = sessionStorage.getItem('kebToken') || ''; } catch (e) {}
      call('keb_live_available', [t]);
    }, function () {});
  };
})();
