"""The app's CSS and page script: result cards, the player's shot bar, the selection, the explore
charts, analysis shot cards, toasts, and the phone layout. Uses Gradio theme variables, so dark
mode works. The script lives in ``app.js`` next to this module."""

from __future__ import annotations

import json
from pathlib import Path

CSS = """
#be-title h1 { margin-bottom: 4px; }
#be-title p { margin-top: 0; color: var(--body-text-color-subdued); }
#be-query-limit p { margin: 2px 4px; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
#be-query-limit .be-over { color: var(--error-text-color, #c92a2a); font-weight: 600; }
.be-keys { margin: 0 0 6px; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
.be-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.be-card, .be-bitem { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); overflow: hidden;
           background: var(--background-fill-secondary); cursor: pointer; transition: box-shadow .15s, border-color .15s;
           display: flex; flex-direction: column; }
.be-card:hover, .be-bitem:hover { border-color: var(--color-accent); box-shadow: 0 2px 10px rgba(0,0,0,.12); }
.be-card:focus-visible, .be-bitem:focus-visible { outline: 3px solid var(--color-accent); outline-offset: 2px; }
.be-card:focus { outline: 3px solid var(--color-accent); outline-offset: 2px; }
.be-card.be-selected { border: 2px solid var(--color-accent); }
.be-card.be-mark-relevant { border: 2px solid #2b8a3e; }
.be-card.be-mark-not_relevant { border: 2px solid #c92a2a; }
.be-card.be-mark-not_relevant img { opacity: .55; }
.be-card img, .be-bitem img { width: 100%; aspect-ratio: 16 / 9; object-fit: cover; display: block; background: #000; }
.be-card-body { padding: 8px 10px 4px; font-size: var(--text-sm); line-height: 1.45; flex: 1; }
.be-card-title { font-weight: 700; font-size: var(--text-md); display: flex; flex-wrap: wrap; gap: 6px;
                 align-items: center; }
.be-card-video { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.be-card-tc { font-family: var(--font-mono); font-size: var(--text-sm); color: var(--body-text-color); }
.be-card-actions { display: flex; flex-wrap: wrap; gap: 4px; padding: 4px 8px 8px; }
.be-act { font-size: var(--text-xs); padding: 3px 7px; border-radius: 999px; cursor: pointer;
          border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
          color: var(--body-text-color); }
.be-act:hover { border-color: var(--color-accent); }
.be-act[aria-pressed="true"] { background: var(--color-accent-soft); border-color: var(--color-accent); font-weight: 600; }
.be-act-relevant[aria-pressed="true"] { background: #d3f9d8; border-color: #2b8a3e; color: #1b5e20; }
.be-act-not_relevant[aria-pressed="true"] { background: #ffe3e3; border-color: #c92a2a; color: #8a1c1c; }
.be-more { color: var(--link-text-color); text-decoration: underline; }
.be-badge-relevant { background: #d3f9d8; color: #1b5e20; }
.be-badge-not_relevant { background: #ffe3e3; color: #8a1c1c; }
.be-empty { padding: 16px; color: var(--body-text-color-subdued); }
#be-cards.be-stale, #be-status.be-stale { opacity: .45; filter: grayscale(.8); transition: opacity .2s; }
#be-cards.be-stale::before { content: attr(data-stale); }
#be-details { position: sticky; top: 8px; align-self: flex-start; max-height: calc(100vh - 16px); overflow-y: auto; }
#be-details-head { align-items: center; justify-content: space-between; flex-wrap: nowrap; }
.be-shotbar { margin: 2px 0 6px; }
.be-shotbar-track { position: relative; height: 14px; border-radius: 7px; background: var(--background-fill-primary);
                    border: 1px solid var(--border-color-primary); cursor: pointer; }
.be-shotbar-span { position: absolute; top: 0; bottom: 0; background: var(--color-accent); opacity: .55;
                   border-left: 2px solid var(--color-accent); border-right: 2px solid var(--color-accent); }
.be-shotbar-head { position: absolute; top: -3px; width: 3px; height: 18px; margin-left: -1px;
                   background: var(--body-text-color); border-radius: 2px; }
.be-shotbar-labels { font-family: var(--font-mono); font-size: var(--text-sm); margin-top: 3px; }
.be-basket { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.be-bitem-body { padding: 6px 8px 2px; font-size: var(--text-sm); line-height: 1.4; flex: 1; }
.be-bitem-db { color: var(--body-text-color-subdued); font-size: var(--text-xs); }
.be-basket-count { margin: 0 0 6px; font-weight: 600; }
#be-map-box { min-width: min(100%, 320px); }
.be-map { margin: 0; }
.be-map figcaption, .be-tl-title, .be-legend-title { font-weight: 600; margin-bottom: 4px; }
.be-map svg { width: 100%; height: auto; max-height: 460px; display: block; }
.be-map svg circle { cursor: pointer; stroke: rgba(255,255,255,.7); stroke-width: .8; }
.be-map svg circle:hover, .be-map svg circle.be-playing { stroke: var(--body-text-color); stroke-width: 2; r: 7; }
.be-map-frame { fill: none; stroke: var(--border-color-primary); }
.be-map-help { margin: 4px 0; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
.be-legend ul { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 8px; }
.be-legend-item { display: flex; align-items: center; gap: 6px; padding: 4px 8px 4px 4px; cursor: pointer;
                  border: 1px solid var(--border-color-primary); border-radius: var(--radius-md);
                  background: var(--background-fill-secondary); font-size: var(--text-sm); line-height: 1.2; }
.be-legend-item img, .be-legend-noimg { width: 64px; aspect-ratio: 16 / 9; object-fit: cover; border-radius: 4px;
                                        background: #000; display: block; }
.be-swatch { width: 12px; height: 36px; border-radius: 3px; flex: none; }
.be-timeline { padding: 4px 0; }
.be-tl-grid { display: grid; grid-template-columns: max-content 1fr; column-gap: 8px; row-gap: 6px; align-items: center; }
.be-tl-label { font-size: var(--text-md); }
.be-tl-track { position: relative; height: 30px; background: var(--background-fill-secondary);
               border-radius: 4px; overflow: hidden; }
.be-tl-bar { position: absolute; top: 0; bottom: 0; border-right: 1px solid #fff; cursor: pointer; }
.be-tl-bar:hover, .be-tl-bar.be-playing { outline: 2px solid var(--body-text-color); outline-offset: -2px; }
.be-tl-axis { position: relative; height: 22px; border-top: 1px solid var(--body-text-color); }
.be-tl-tick { position: absolute; top: 2px; transform: translateX(-50%); font-size: 13px; font-family: var(--font-mono);
              white-space: nowrap; }
.be-tl-tick::before { content: ""; position: absolute; left: 50%; top: -3px; height: 5px; border-left: 1px solid currentColor; }
.be-tl-first { transform: none; }
.be-tl-first::before { left: 0; }
.be-tl-last { transform: translateX(-100%); }
.be-tl-last::before { left: auto; right: 0; }
.be-shots { display: flex; flex-direction: column; gap: 12px; }
.be-shot { display: grid; grid-template-columns: minmax(200px, 320px) 1fr; gap: 14px; padding: 10px;
           border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
           background: var(--background-fill-secondary); }
.be-shot-flagged { border-left: 4px solid #e8590c; }
.be-shot.be-shot-error { border-left: 4px solid #e03131; }
.be-shot-key { width: 100%; aspect-ratio: 16 / 9; object-fit: contain; display: block; background: #000;
               border-radius: var(--radius-md); }
.be-shot-strip { display: flex; gap: 4px; margin-top: 4px; }
.be-shot-strip img { width: calc(25% - 3px); aspect-ratio: 16 / 9; object-fit: cover; border-radius: 4px; }
.be-shot-noimg { aspect-ratio: 16 / 9; display: flex; align-items: center; justify-content: center;
                 background: var(--background-fill-primary); color: var(--body-text-color-subdued); }
.be-shot-body { min-width: 0; font-size: var(--text-md); line-height: 1.45; }
.be-shot-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.be-shot-tc { font-family: var(--font-mono); font-size: var(--text-sm); color: var(--body-text-color-subdued); }
.be-badge { padding: 1px 8px; border-radius: 999px; font-size: var(--text-xs); font-weight: 600; }
.be-badge-ok { background: #d3f9d8; color: #2b8a3e; }
.be-badge-error { background: #ffe3e3; color: #c92a2a; }
.be-badge-flag { background: #ffe8cc; color: #d9480f; }
.be-shot-summary { margin: 6px 0; }
.be-shot-transcript, .be-shot-errmsg { font-size: var(--text-sm); margin: 4px 0; }
.be-shot-body details { margin-top: 6px; font-size: var(--text-sm); }
.be-shot-body summary { cursor: pointer; color: var(--link-text-color); }
.be-shot-body pre { max-height: 320px; overflow: auto; white-space: pre-wrap; word-break: break-word;
                    font-size: var(--text-xs); background: var(--background-fill-primary); padding: 8px;
                    border-radius: 6px; margin: 4px 0 0; }
/* Toasts: at the bottom, never over the header; only the two newest show. */
.toast-wrap { top: auto !important; bottom: var(--size-4); }
.toast-wrap > :not(:nth-last-child(-n+2)) { display: none; }
@media (max-width: 700px) {
  .be-shot { grid-template-columns: 1fr; }
  .be-grid { grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 8px; }
  .be-act { font-size: 12px; padding: 4px 8px; }
  /* "Más información" opens where the user is: a bottom sheet over the results. */
  #be-details { position: fixed; left: 0; right: 0; bottom: 0; top: auto; z-index: 1000; max-height: 88vh;
                margin: 0; border-radius: 14px 14px 0 0; box-shadow: 0 -6px 24px rgba(0,0,0,.35);
                background: var(--background-fill-primary); padding: 8px 10px 14px; }
  .be-tl-minor { display: none; }
  .be-tl-label { font-size: var(--text-sm); }
  .toast-wrap { left: var(--size-2) !important; right: var(--size-2) !important; width: auto !important; }
}
.be-pair-thumbs { display: grid; grid-template-columns: 1fr 1fr; gap: 2px; background: #000; }
.be-link { color: var(--link-text-color); }
.be-appearances { margin: 4px 0 0 18px; font-size: var(--text-sm); }
#be-link-opener { display: none; }
"""


def app_js(default_lang: str) -> str:
    """The page script (``app.js``), told the app's default language."""
    script = (Path(__file__).with_name("app.js")).read_text(encoding="utf-8")
    return script.replace("__DEFAULT_LANG__", json.dumps(default_lang))
