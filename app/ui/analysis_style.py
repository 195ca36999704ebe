"""CSS of the job panels (progress line and bar, recent jobs) and of the models' pre-flight.
Uses Gradio theme variables, so dark mode works."""

ANALYSIS_CSS = """
.be-job { display: flex; flex-direction: column; gap: 4px; padding: 6px 10px; border-radius: 6px;
  background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.be-job span { font-size: var(--text-md); }
.be-job progress { width: 100%; height: 8px; accent-color: var(--color-accent); }
.be-job-failed { border-left: 4px solid #e03131; }
.be-job-cancelled, .be-job-stopped { border-left: 4px solid #e8590c; }
.be-job-done { border-left: 4px solid #2f9e44; }
.be-job-row { align-items: center; }
.be-jobs { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
.be-jobs ul { margin: 4px 0 0 0; padding-left: 18px; }
.be-jobs-failed b, .be-jobs-cancelled b { color: #e03131; }
.be-models ul { list-style: none; padding-left: 0; margin: 6px 0; }
.be-models li { margin: 4px 0; }
.be-model-bad { color: #c92a2a; }
.be-warn { border-left: 4px solid #e8590c; padding: 4px 10px; margin: 6px 0; }
.be-warn-bad { border-left-color: #e03131; }
"""
