() => {
  // BuscaEscenas page script: Gradio's own texts in the app's language, the search in the address
  // bar, stale results greyed out, and the player's shot bar (in/out, stop or loop at the out point).
  const DEFAULT_LANG = __DEFAULT_LANG__;

  // --- Gradio's own texts ("Drop Image Here") follow the app's language, not the browser's ---------
  // Gradio picks its locale from the browser; its core module exports changeLocale(), and importing
  // the module by the URL the page loaded it from returns the same instance.
  const setGradioLocale = async (lang) => {
    try {
      const core = performance.getEntriesByType('resource').map((e) => e.name)
        .find((name) => /\/assets\/core-[^/]+\.js(\?.*)?$/.test(name));
      if (!core) return false;
      const mod = await import(core);
      if (typeof mod.changeLocale !== 'function') return false;
      mod.changeLocale(lang);
      return true;
    } catch (err) {
      console.warn('BuscaEscenas: Gradio texts stay in the browser language', err);
      return false;
    }
  };
  // Only components mounted after the switch read the new locale: app.py re-mounts the visible ones.
  window.beSetLang = (lang, keepUrl) => {
    window.beLang = lang;
    document.documentElement.lang = lang;
    if (!keepUrl) {
      const url = new URL(window.location.href);
      url.searchParams.set('lang', lang);
      window.history.replaceState(null, '', url);
    }
    return setGradioLocale(lang);
  };
  const wanted = new URL(window.location.href).searchParams.get('lang');
  const initial = ['es', 'en'].includes(wanted) ? wanted : DEFAULT_LANG;
  // the core module may still be loading: try until it answers (a few seconds at most)
  window.beLocaleReady = (async () => {
    for (let tries = 0; tries < 40; tries++) {
      const lang = window.beLang || initial;  // the language switch may have spoken meanwhile
      document.documentElement.lang = lang;
      if (await setGradioLocale(lang)) return lang;
      await new Promise((done) => setTimeout(done, 250));
    }
    return null;
  })();

  // --- the search in the address bar, so it can be bookmarked and sent -------------------------------
  window.beSetUrl = (params) => {
    if (!params) return;
    const url = new URL(window.location.href);
    url.search = '';
    Object.entries(params).forEach(([key, value]) => {
      if (value !== null && value !== undefined && value !== '') url.searchParams.set(key, String(value));
    });
    window.history.replaceState(null, '', url);
  };

  // --- a stale view is never shown as current --------------------------------------------------------
  window.beStale = (on, cardsOnly) => {
    (cardsOnly ? ['be-cards'] : ['be-cards', 'be-status']).forEach((id) => {
      const el = document.getElementById(id);
      if (el) el.classList.toggle('be-stale', Boolean(on));
    });
  };

  // --- the player: the shot's in/out on a bar, stop or loop at the out point -------------------------
  window.beEndMode = window.beEndMode || 'stop';
  let last = -1;
  const playerVideo = (node) => node instanceof HTMLVideoElement && node.closest('#be-player');
  const shotBar = () => document.querySelector('#be-details .be-shotbar');
  const onTime = (video) => {
    const bar = shotBar();
    if (!bar) return;
    const tIn = Number(bar.dataset.in), tOut = Number(bar.dataset.out);
    const total = Number(bar.dataset.duration) || video.duration || 1;
    const head = bar.querySelector('.be-shotbar-head');
    if (head) head.style.left = (100 * Math.min(video.currentTime, total) / total) + '%';
    const crossed = last >= 0 && last < tOut - 0.02 && video.currentTime >= tOut - 0.02;
    if (crossed && !video.paused) {
      if (window.beEndMode === 'stop') {
        video.pause();
        video.currentTime = tOut;
      } else if (window.beEndMode === 'loop') {
        video.currentTime = tIn;
      }
    }
    last = video.currentTime;
  };
  document.addEventListener('timeupdate', (e) => { if (playerVideo(e.target)) onTime(e.target); }, true);
  document.addEventListener('seeking', (e) => { if (playerVideo(e.target)) last = -1; }, true);
  document.addEventListener('loadedmetadata', (e) => { if (playerVideo(e.target)) last = -1; }, true);
  document.addEventListener('play', (e) => {
    const video = e.target;
    if (!playerVideo(video)) return;
    const tick = () => { onTime(video); if (!video.paused && !video.ended) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }, true);
  document.addEventListener('click', (e) => {
    const track = e.target.closest && e.target.closest('.be-shotbar-track');
    const video = document.querySelector('#be-player video');
    if (!track || !video) return;
    const total = Number(track.closest('.be-shotbar').dataset.duration) || video.duration;
    const box = track.getBoundingClientRect();
    video.currentTime = Math.max(0, Math.min(total, total * (e.clientX - box.left) / box.width));
  });
}
