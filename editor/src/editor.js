// The flow editor's bundle: CodeMirror 6 with YAML and lint, exposed as window.FlowEditor.
// Built by `npm run build` (esbuild) into outreach/web/static/vendor/flow-editor.js.
import { EditorView, basicSetup } from "codemirror";
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics } from "@codemirror/lint";

// nonce: the page's CSP style nonce (CodeMirror injects its styles in a <style> element).
function create(parent, doc, onChange, nonce) {
  const view = new EditorView({
    doc,
    parent,
    extensions: [
      basicSetup,
      EditorView.cspNonce.of(nonce || ""),
      yaml(),
      lintGutter(),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    ],
  });
  return view;
}

// issues: [{line, message, location}] with 1-based lines (0 = the whole file).
function showIssues(view, issues) {
  const doc = view.state.doc;
  const diagnostics = issues.map((issue) => {
    const line = doc.line(Math.min(Math.max(issue.line || 1, 1), doc.lines));
    return {
      from: line.from,
      to: line.to,
      severity: "error",
      message: `${issue.location}: ${issue.message}`,
    };
  });
  view.dispatch(setDiagnostics(view.state, diagnostics));
}

window.FlowEditor = { create, showIssues };
