"""The app's CSS: result cards, timeline. Uses Gradio theme variables, so dark mode works."""

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
"""
