"""The app's CSS: result cards, timeline, analysis shot cards. Uses Gradio theme variables, so dark mode works."""

CSS = """
#be-title h1 { margin-bottom: 4px; }
#be-title p { margin-top: 0; color: var(--body-text-color-subdued); }
.be-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.be-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); overflow: hidden;
           background: var(--background-fill-secondary); cursor: pointer; transition: box-shadow .15s, border-color .15s; }
.be-card:hover, .be-card:focus { border-color: var(--color-accent); box-shadow: 0 2px 10px rgba(0,0,0,.12); outline: none; }
.be-card.be-selected { border: 2px solid var(--color-accent); }
.be-card img { width: 100%; aspect-ratio: 16 / 9; object-fit: cover; display: block; background: #000; }
.be-card-body { padding: 8px 10px; font-size: var(--text-sm); line-height: 1.45; }
.be-card-title { font-weight: 700; font-size: var(--text-md); }
.be-card-video { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.be-card-tc { font-family: var(--font-mono); font-size: var(--text-xs); color: var(--body-text-color-subdued); }
.be-more { color: var(--link-text-color); text-decoration: underline; }
.be-empty { padding: 16px; color: var(--body-text-color-subdued); }
.be-timeline { padding: 4px 0; }
.be-tl-title { font-weight: 600; margin-bottom: 4px; }
.be-timeline svg { color: var(--body-text-color); font-family: var(--font); }
.be-tl-label { font-size: 14px; fill: currentColor; }
.be-tl-tick { font-size: 12px; fill: currentColor; }
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
@media (max-width: 700px) { .be-shot { grid-template-columns: 1fr; } }
.be-pair-thumbs { display: grid; grid-template-columns: 1fr 1fr; gap: 2px; background: #000; }
.be-link { color: var(--link-text-color); }
.be-appearances { margin: 4px 0 0 18px; font-size: var(--text-sm); }
#be-link-opener { display: none; }
"""
