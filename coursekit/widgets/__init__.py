"""ipywidgets explorers, one per file. Widgets hold no maths: they call coursekit and draw."""
