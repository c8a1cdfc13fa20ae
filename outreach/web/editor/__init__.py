"""Campaign editing in the browser: forms over the campaign document, the one validator."""
