/* The admin console's script: sends the forms and buttons marked data-api to the JSON API
 * (with the page's CSRF token), shows the answer, and follows long jobs. No dependencies. */
(() => {
  "use strict";
  const T = JSON.parse(document.getElementById("messages").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function fmt(key, values) {
    const text = T[key] || key;
    return text.replace(/\{(\w+)\}/g, (all, name) => (values && name in values ? values[name] : all));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(method, url, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (ignored) {
      data = null;
    }
    if (!response.ok) {
      const error = data && data.error;
      const lines = error
        ? error.fields && error.fields.length
          ? error.fields.map((f) => `${f.field}: ${f.problem}`)
          : [error.message]
        : [`${response.status} ${response.statusText}`];
      throw new Error(lines.join("\n"));
    }
    return data;
  }

  function put(body, name, value) {
    const parts = name.split(".");
    let target = body;
    for (const part of parts.slice(0, -1)) target = target[part] = target[part] || {};
    target[parts[parts.length - 1]] = value;
  }

  async function serialize(form) {
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.tagName === "BUTTON") continue;
      if (field.type === "file") {
        const file = field.files[0];
        if (!file) continue;
        put(body, field.name, await file.text());
        if (field.dataset.filename) put(body, field.dataset.filename, file.name);
      } else if (field.type === "checkbox" && "list" in field.dataset) {
        const list = body[field.name] || [];
        if (field.checked) list.push(field.value);
        body[field.name] = list;
      } else if (field.type === "checkbox") {
        put(body, field.name, field.checked);
      } else if ("lines" in field.dataset) {
        put(body, field.name, field.value.split("\n").map((s) => s.trim()).filter(Boolean));
      } else if ("split" in field.dataset) {
        put(body, field.name, field.value.split(field.dataset.split).map((s) => s.trim()).filter(Boolean));
      } else if (field.value !== "") {
        put(body, field.name, field.type === "number" ? Number(field.value) : field.value);
      }
    }
    return body;
  }

  /** The questions checked in the cluster a button or form belongs to. */
  function checkedQuestions(node) {
    const cluster = node.closest(".cluster");
    return Array.from(cluster.querySelectorAll('input[name="questions"]:checked')).map((q) => q.value);
  }

  function status(node, text, kind) {
    const holder = node.closest("form") || node.closest("section") || document.body;
    let box = holder.querySelector(".status");
    if (!box) {
      box = el("div", { class: "status", "aria-live": "polite" });
      holder.append(box);
    }
    box.textContent = text;
    box.className = `status ${kind || ""}`;
    return box;
  }

  // --- what happens with an answer ------------------------------------------------------------

  function renderPreview(target, data) {
    target.replaceChildren();
    target.dataset.route = data.route;
    target.dataset.outcome = data.outcome;
    target.append(
      el(
        "div",
        { class: "decision" },
        el("span", { class: `badge ${data.outcome}`, id: "preview-outcome" }, fmt(`outcome.${data.outcome}`)),
        " ",
        el("code", { id: "preview-route" }, data.route),
        " ",
        el("span", { class: "conf", id: "preview-confidence" }, `${fmt("preview.confidence")} ${data.confidence.toFixed(3)}`),
        ` · ${data.locale}`,
      ),
      el("blockquote", { class: "reply", id: "preview-reply" }, data.reply_text),
    );
    const rows = data.candidates.map((c) =>
      el(
        "tr",
        { class: c.chosen ? "chosen" : "" },
        el("td", {}, c.skill),
        el("td", {}, el("code", {}, c.route)),
        el("td", { class: "num" }, c.confidence.toFixed(3)),
        el("td", { class: "num" }, c.threshold.toFixed(2)),
        el("td", {}, c.passes ? "✓" : ""),
        el("td", {}, c.chosen ? "✓" : ""),
        el("td", {}, c.suggestion || ""),
      ),
    );
    target.append(
      el("h3", {}, fmt("preview.candidates")),
      el(
        "table",
        { class: "data", id: "preview-candidates" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["field.skill", "preview.route", "preview.confidence", "preview.threshold", "preview.passes", "preview.chosen", "preview.suggestion"].map((k) => el("th", {}, fmt(k))),
          ),
        ),
        el("tbody", {}, ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "7", class: "empty" }, fmt("preview.none")))])),
      ),
    );
    if (data.faq_hits.length) {
      target.append(
        el("h3", {}, fmt("preview.faq_hits")),
        el(
          "table",
          { class: "data", id: "preview-hits" },
          el("tbody", {}, ...data.faq_hits.map((h) => el("tr", {}, el("td", {}, el("code", {}, h.id)), el("td", {}, h.question), el("td", { class: "num" }, h.confidence.toFixed(3))))),
        ),
      );
    }
  }

  function renderRules(target, data) {
    target.replaceChildren();
    const problems = data.problems || [];
    target.dataset.problems = String(problems.length);
    if (!problems.length) {
      target.append(el("p", { class: "notice" }, fmt("rules.ok", { n: data.rules !== undefined ? data.rules : data.checked })));
      return;
    }
    target.append(
      el("p", { class: "error" }, fmt("rules.problems", { n: problems.length })),
      el("ul", { class: "problems" }, ...problems.map((p) => el("li", {}, el("code", {}, `${p.file}: ${p.rule}`), ` ${p.problem}`))),
    );
  }

  async function follow(job, target, node) {
    target.hidden = false;
    const bar = target.querySelector("progress");
    const phase = target.querySelector(".phase");
    for (;;) {
      bar.max = job.total || 1;
      bar.value = job.state === "done" ? bar.max : job.done;
      phase.textContent = fmt(`job.${job.phase}`) + (job.total ? ` ${job.done}/${job.total}` : "");
      if (job.state !== "running") break;
      await sleep(300);
      job = await api("GET", `/admin/api/jobs/${job.id}`);
    }
    target.dataset.state = job.state;
    if (job.state === "failed") {
      phase.textContent = `${fmt("job.failed")}: ${job.error}`;
      return;
    }
    if (job.kind === "reindex") {
      phase.textContent = fmt("documents.indexed", job.result);
      await sleep(600);
      window.location.reload();
    } else if (job.kind === "eval") {
      phase.textContent = fmt("quality.done");
      const done = node.dataset.done;
      if (done) window.location.href = done.replace("{run}", job.result.run);
    }
  }

  async function then(node, data) {
    const how = node.dataset.then;
    const target = node.dataset.target ? document.querySelector(node.dataset.target) : null;
    if (how === "reload") {
      window.location.reload();
    } else if (how === "go") {
      const id = data && (data.id || (data.entry && data.entry.id));
      window.location.href = node.dataset.go.replace("{id}", encodeURIComponent(id || ""));
    } else if (how === "preview") {
      renderPreview(target, data);
    } else if (how === "import") {
      target.replaceChildren(el("p", { class: "notice" }, fmt("js.imported", data)));
    } else if (how === "rules") {
      renderRules(target, data);
    } else if (how === "job") {
      await follow(data.job, target, node);
    } else if (how === "cluster") {
      const cluster = node.closest(".cluster");
      let text;
      if (data.dismissed !== undefined) text = fmt("learning.dismissed", data);
      else if (data.added !== undefined) text = fmt("learning.added", { id: data.entry.id, added: data.added });
      else text = fmt("learning.created", { id: data.entry.id });
      cluster.classList.add("done");
      cluster.dataset.done = data.entry ? data.entry.id : "dismissed";
      for (const button of cluster.querySelectorAll("button")) button.disabled = true;
      const box = status(cluster.querySelector(".cluster-form"), text, "notice");
      if (data.entry) {
        const question = checkedQuestions(cluster)[0] || "";
        box.append(" ", el("a", { href: `/admin/faq/entries/${encodeURIComponent(data.entry.id)}`, class: "check-link" }, fmt("learning.check")));
        box.dataset.question = question;
      }
    } else {
      status(node, T["js.saved"], "notice");
    }
  }

  async function run(node, body) {
    const [method, url] = node.dataset.api.split(" ");
    if (node.dataset.confirm && !window.confirm(node.dataset.confirm)) return;
    const buttons = (node.tagName === "FORM" ? node.querySelectorAll("button") : [node]);
    for (const button of buttons) button.disabled = true;
    status(node, T["js.working"], "");
    try {
      const data = await api(method, url, body);
      status(node, "", "");
      await then(node, data);
    } catch (error) {
      status(node, `${T["js.error"]}: ${error.message}`, "error");
    } finally {
      if (!(node.closest(".cluster") && node.closest(".cluster").classList.contains("done"))) {
        for (const button of buttons) button.disabled = false;
      }
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.dataset.api) return;
    event.preventDefault();
    const body = await serialize(form);
    if (form.dataset.from === "questions") body.questions = checkedQuestions(form);
    await run(form, body);
  });

  document.addEventListener("click", async (event) => {
    const node = event.target.closest("button[data-api], button[data-toggle]");
    if (!node || node.type === "submit") return;
    if (node.dataset.toggle) {
      const panel = document.querySelector(node.dataset.toggle);
      panel.hidden = !panel.hidden;
      return;
    }
    let body;
    if (node.dataset.body) body = JSON.parse(node.dataset.body);
    if (node.dataset.from === "questions") {
      body = { questions: checkedQuestions(node) };
    }
    await run(node, body);
  });
})();
