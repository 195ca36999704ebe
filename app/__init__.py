"""Front ends (CLI, Gradio UI) and the composition root that wires services together."""
