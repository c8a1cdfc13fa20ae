// The flow editor page: CodeMirror (vendored bundle), the live check and diagram, uploads, the
// simulator. Every write sends the session's CSRF token in X-CSRF-Token.
(function () {
  "use strict";
  const page = document.getElementById("flow-editor-page");
  if (!page) return;
  const key = page.dataset.key;
  const csrf = page.dataset.csrf;
  const base = "/dashboard/flows/" + encodeURIComponent(key);

  function post(path, body, isForm) {
    const headers = { "X-CSRF-Token": csrf };
    if (!isForm) headers["Content-Type"] = "application/json";
    return fetch(base + path, {
      method: "POST",
      headers,
      body: isForm ? body : JSON.stringify(body),
      credentials: "same-origin",
    }).then((r) => r.json().then((data) => ({ ok: r.ok, status: r.status, data })));
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The diagram: a structured node view (one card per node, its edges as links).
  function drawDiagram(graph) {
    const box = document.getElementById("diagram");
    box.replaceChildren();
    if (!graph) {
      box.append(el("p", {}, "The flow cannot be read: fix the errors to see its diagram."));
      return;
    }
    graph.nodes.forEach((node) => {
      const card = el("div", { class: "node kind-" + node.kind, id: "node-" + node.id, "data-node": node.id });
      if (node.missing.length) card.classList.add("missing-audio");
      if (node.dangling.length) card.classList.add("dangling");
      const title = el("h3", {}, node.id + (node.id === graph.start ? " ▶" : ""));
      card.append(title, el("p", { class: "kind" }, node.kind + (node.label ? " · " + node.label : "")));
      const list = el("ul");
      node.edges.forEach((edge) => {
        const item = el("li", {}, (edge.key ? edge.key + " → " : edge.label + " → ") + edge.to);
        if (edge.key && edge.label !== edge.key) item.append(el("small", {}, " (" + edge.label + ")"));
        if (node.dangling.includes(edge.to)) item.classList.add("broken");
        list.append(item);
      });
      if (node.kind === "hangup") list.append(el("li", { class: "end" }, "hang up"));
      if (node.kind === "transfer") list.append(el("li", { class: "end" }, "transfer " + node.number));
      card.append(list);
      if (node.missing.length) {
        card.append(el("p", { class: "missing" }, "no recording: " + node.missing.join(", ")));
      }
      box.append(card);
    });
  }

  function showIssues(view, issues) {
    const list = document.getElementById("issues");
    list.replaceChildren();
    issues.forEach((i) => list.append(el("li", { "data-line": String(i.line) }, "line " + i.line + ": " + i.location + ": " + i.message)));
    document.getElementById("issues-summary").textContent = issues.length ? issues.length + " error(s)" : "No errors";
    window.FlowEditor.showIssues(view, issues);
  }

  let timer = null;
  let view = null;
  function check(source) {
    post("/check", { source }).then(({ ok, data }) => {
      if (!ok) return;
      showIssues(view, data.issues);
      if (data.graph) drawDiagram(data.graph);
      else drawDiagram(null);
    });
  }
  const initial = document.getElementById("source").value;
  const onChange = (text) => {
    clearTimeout(timer);
    timer = setTimeout(() => check(text), 250);
  };
  view = window.FlowEditor.create(document.getElementById("editor"), initial, onChange, page.dataset.styleNonce);
  page.editorView = view; // for scripted edits (the browser tests) and the console
  check(initial);

  document.getElementById("save").addEventListener("click", () => {
    const body = new FormData();
    body.append("source", view.state.doc.toString());
    body.append("note", document.getElementById("note").value);
    post("/save", body, true).then(({ ok, data }) => {
      const out = document.getElementById("save-result");
      if (ok) {
        out.textContent = "Saved as version " + data.version;
        window.location = data.url + "&done=saved-" + data.version;
      } else {
        out.textContent = data.detail || "Not saved";
        if (data.issues) showIssues(view, data.issues);
      }
    });
  });

  document.querySelectorAll("form.upload").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = new FormData(form);
      body.append("slot", form.dataset.slot);
      const out = form.querySelector(".upload-result");
      out.textContent = "uploading…";
      post("/audio", body, true).then(({ ok, data }) => {
        if (ok) {
          window.location = base + "?version=" + data.version + "&done=recorded-" + data.version;
        } else {
          out.textContent = typeof data.detail === "string" ? data.detail : "refused";
          out.classList.add("error");
        }
      });
    });
  });

  // The logs are boxes of a fixed height: each line goes at the foot, scrolled into view.
  function add(box, node) {
    box.append(node);
    box.scrollTop = box.scrollHeight;
  }

  // The simulator: dial the shown version, show each prompt, send keys or a timeout.
  const log = document.getElementById("sim-log");
  const keys = document.getElementById("sim-keys");
  let call = null;
  function render(data) {
    const turn = el("div", { class: "turn" });
    data.prompts.forEach((p) => {
      if (p.kind === "play") {
        const line = el("p", { class: "prompt play" }, "play › ");
        line.append(el("audio", { controls: "", src: p.url, preload: "none" }));
        turn.append(line);
      } else {
        turn.append(el("p", { class: "prompt say" }, p.text));
      }
    });
    add(log, turn);
    call.seq = data.gather ? data.gather.seq : data.seq || data.dial || call.seq;
    if (data.ended) {
      add(log, el("p", { class: "ended" }, "— call ended —"));
      keys.disabled = true;
      call = null;
    } else if (data.redirect) {
      step("", "continue");
    } else if (data.dial) {
      step("", "dial");
    } else {
      keys.disabled = false;
      document.getElementById("sim-digits").focus();
    }
  }
  function step(digits, event) {
    post("/simulate/step", { sid: call.sid, seq: call.seq, digits, event }).then(({ ok, data }) => {
      if (ok) render(data);
    });
  }
  document.getElementById("sim-dial").addEventListener("click", () => {
    log.replaceChildren();
    post("/simulate", { version: Number(page.dataset.version) }).then(({ ok, data }) => {
      if (!ok) return;
      call = { sid: data.sid, seq: 1 };
      render(data);
    });
  });
  document.getElementById("sim-send").addEventListener("click", () => {
    const input = document.getElementById("sim-digits");
    add(log, el("p", { class: "keys" }, "keys: " + input.value));
    step(input.value, "keys");
    input.value = "";
  });
  document.getElementById("sim-timeout").addEventListener("click", () => {
    add(log, el("p", { class: "keys" }, "(no input)"));
    step("", "keys");
  });

  // The SMS pane: the same SMS service as the webhook, rolled back (nothing kept or sent).
  const smsLog = document.getElementById("sms-log");
  document.getElementById("sms-send").addEventListener("click", () => {
    const to = document.getElementById("sms-to").value;
    const input = document.getElementById("sms-body");
    add(smsLog, el("p", { class: "sms-out" }, "→ " + input.value));
    fetch("/dashboard/flows/sms", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ to, body: input.value }),
      credentials: "same-origin",
    }).then((r) => r.json()).then((data) => {
      add(smsLog, el("p", { class: "sms-in" }, "← " + (data.reply || "(no reply)")));
    });
    input.value = "";
  });
})();
